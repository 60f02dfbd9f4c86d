//! A real browser for the dashboard's tests: Debian's Chromium (`/usr/bin/chromium`, apt
//! package `chromium`) driven by `playwright-core` (npm, under `.tools/`), both installed by
//! `scripts/test-deps.sh`. A test hands over a scenario — Node code that drives `page` — which
//! runs after a prelude that starts Chromium with the network quiet (no background requests),
//! and gives it helpers: `check(condition, message)`, `shot(name)` (a screenshot at desktop and
//! phone widths, into [`screenshot_dir`]), `visit(path)`, and `BASE` (the server's URL).

use std::path::PathBuf;
use std::process::Command;

/// Where the dashboard's screenshots go: `target/dashboard-screenshots/` of the repository.
pub fn screenshot_dir() -> PathBuf {
    crate::repo_root().join("target/dashboard-screenshots")
}

/// Runs `scenario` in headless Chromium against `base_url`; `env` is passed to the script.
/// Panics with the script's output when it fails. Returns what it printed.
pub fn run_browser(base_url: &str, scenario: &str, env: &[(&str, &str)]) -> String {
    let chromium = crate::require_tool("chromium", "apt-get install chromium");
    std::fs::create_dir_all(screenshot_dir()).expect("create the screenshot folder");
    // A failure's screenshot belongs to the run that failed.
    let _ = std::fs::remove_file(screenshot_dir().join("failure.png"));
    let output = Command::new("node")
        .env("NODE_PATH", crate::repo_root().join(".tools/node_modules"))
        .env("BASE", base_url)
        .env("CHROMIUM", chromium)
        .env("SCREENSHOTS", screenshot_dir())
        .envs(env.iter().copied())
        .arg("-e")
        .arg(format!("{PRELUDE}\n{scenario}\n{EPILOGUE}"))
        .output()
        .unwrap_or_else(|e| panic!("run node (scripts/test-deps.sh): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "browser scenario failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

const PRELUDE: &str = r#"
const { chromium } = require('playwright-core');
const path = require('path');
const BASE = process.env.BASE;
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('dialog', (d) => d.accept());
  const visit = (p) => page.goto(BASE + p);
  async function shot(name) {
    await page.screenshot({ path: path.join(process.env.SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(process.env.SCREENSHOTS, `${name}-phone.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  try {
"#;

const EPILOGUE: &str = r#"
  } catch (error) {
    console.log(`at ${page.url()}`);
    try { await page.screenshot({ path: path.join(process.env.SCREENSHOTS, 'failure.png'), fullPage: true }); } catch {}
    console.error(error.stack || String(error));
    await browser.close();
    process.exit(1);
  }
  await browser.close();
})();
"#;
