//! The real `pixelway` binary, started with a config file in a fresh data directory.

use crate::process::ChildGuard;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running pixelway server.
#[derive(Debug)]
pub struct Pixelway {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Every line the server printed (standard output, then log lines as they come).
    output: Arc<Mutex<Vec<String>>>,
    process: ChildGuard,
    _dir: Option<tempfile::TempDir>,
}

impl Pixelway {
    /// Starts `bin` (pass `env!("CARGO_BIN_EXE_pixelway")`) with `config` (TOML, without
    /// `[server] listen` and `[storage] data_dir`, which are set here). `None`: the embedded
    /// default, as a first-time user runs it.
    pub fn start(bin: &str, config: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_in(bin, config, dir.path(), &[]);
        server._dir = Some(dir);
        server
    }

    /// Starts with the soft file-descriptor limit lowered to `soft` (the hard limit unchanged),
    /// as on a host whose default soft limit is low.
    pub fn start_with_fd_limit(bin: &str, config: Option<&str>, soft: u64) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::spawn(bin, config, dir.path(), &[], Some(soft));
        server._dir = Some(dir);
        server
    }

    /// Starts in an existing data directory (to restart over the same data), with extra
    /// environment variables.
    pub fn start_in(bin: &str, config: Option<&str>, dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(bin, config, dir, env, None)
    }

    fn spawn(
        bin: &str,
        config: Option<&str>,
        dir: &Path,
        env: &[(&str, &str)],
        soft_fd_limit: Option<u64>,
    ) -> Self {
        let data_dir = dir.join("data");
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .current_dir(dir)
            .env("PIXELWAY_SERVER__LISTEN", "127.0.0.1:0")
            .env("PIXELWAY_STORAGE__DATA_DIR", &data_dir)
            .env_remove("PIXELWAY_CONFIG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(config) = config {
            let path = dir.join("pixelway.toml");
            std::fs::write(&path, config).expect("write config");
            command.arg("--config").arg(&path);
        }
        if let Some(soft) = soft_fd_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let mut limit = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    limit.rlim_cur = soft.min(limit.rlim_max);
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut process = ChildGuard::spawn("pixelway", command);
        let output = Arc::new(Mutex::new(Vec::new()));
        echo_logs(&mut process, Arc::clone(&output));
        let addr = read_listen_address(&mut process, Arc::clone(&output));
        Self {
            base_url: format!("http://{addr}"),
            addr,
            data_dir,
            output,
            process,
            _dir: None,
        }
    }

    /// The server's peak resident set (VmHWM) in MB, since start or the last
    /// [`Pixelway::reset_peak_rss`].
    pub fn peak_rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the server's /proc status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM in /proc status");
        let kb: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("VmHWM in kB");
        kb / 1024
    }

    /// Resets the server's peak RSS, so the next reading is of what follows.
    pub fn reset_peak_rss(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("clear_refs");
    }

    /// `base_url` + `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    /// Writes a file into `account`'s Media Library (the embedded file:// library under the data
    /// directory), as an upload would leave it.
    pub fn put_media(&self, account: &str, path: &str, bytes: &[u8]) {
        let file = self.data_dir.join("media").join(account).join(path);
        std::fs::create_dir_all(file.parent().expect("a file path")).expect("create folders");
        std::fs::write(file, bytes).expect("write media file");
    }

    /// Waits up to 10 s for a printed line (banner or log) containing `needle`; returns it.
    pub fn wait_for_output(&self, needle: &str) -> Option<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .output
                .lock()
                .expect("output lock")
                .iter()
                .find(|line| line.contains(needle))
                .cloned();
            if found.is_some() || std::time::Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line printed so far.
    pub fn output(&self) -> Vec<String> {
        self.output.lock().expect("output lock").clone()
    }

    /// The process id (to measure memory, or to kill it).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// Passes the server's log (standard error) through to the test's, keeping each line.
fn echo_logs(process: &mut ChildGuard, output: Arc<Mutex<Vec<String>>>) {
    let stderr = process.child_mut().stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            output.lock().expect("output lock").push(line);
        }
    });
}

/// Reads stdout until the "listening on" line, then keeps draining (and keeping) it in the
/// background.
fn read_listen_address(process: &mut ChildGuard, output: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let stdout = process.child_mut().stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && let Some(rest) = line.trim().strip_prefix("pixelway listening on http://") {
                let _ = tx.send(rest.to_string());
                sent = true;
            }
            output.lock().expect("output lock").push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("pixelway did not print its listening address (see stderr above)");
    addr.parse().expect("listening address")
}
