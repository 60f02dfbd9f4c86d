//! `pixelway check --config FILE [--reach]`: everything `serve` would refuse, found without
//! serving — the file's syntax and keys, every name and origin value, duplicates — and with
//! `--reach`, each origin asked whether it can be used (reached, bucket or container there,
//! credentials accepted), as a table. Exits non-zero on any problem.

use crate::config::Config;
use futures::StreamExt;
use pixelway_origins::Reach;
use std::path::Path;
use std::time::Instant;

/// Origins probed at once with `--reach`.
const AT_ONCE: usize = 8;

/// Runs the check; `Ok(false)` when an origin cannot be used.
pub async fn run(file: &Path, reach: bool) -> anyhow::Result<bool> {
    let config = Config::load(Some(file))?;
    let origins: usize = config.accounts.iter().map(|a| a.origins.len()).sum();
    let endpoints: usize = config.accounts.iter().map(|a| a.endpoints.len()).sum();
    println!(
        "{}: valid — {} accounts, {origins} origins, {endpoints} endpoints, {} custom domains",
        file.display(),
        config.accounts.len(),
        config.custom_domains.len()
    );
    for folder in config.public_local_folders() {
        println!("note: {folder}");
    }
    preview_restart(&config).await?;
    if !reach {
        return Ok(true);
    }
    let context = crate::serve::origin_context(&config);
    let rows: Vec<(String, String, String, String, f64)> = futures::stream::iter(
        config
            .accounts
            .iter()
            .flat_map(|a| a.origins.iter().map(move |o| (a.id.clone(), o))),
    )
    .map(|(account, origin)| {
        let context = &context;
        async move {
            let kind = serde_json::to_value(origin.spec.kind())
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let started = Instant::now();
            let result = match origin.spec.build(context) {
                Ok(built) => built.probe().await.to_string(),
                Err(e) => e.to_string(),
            };
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            (account, origin.name.clone(), kind, result, millis)
        }
    })
    .buffered(AT_ONCE)
    .collect()
    .await;
    print_table(&rows);
    let problems = rows
        .iter()
        .filter(|(_, _, _, result, _)| result != &Reach::Reachable.to_string())
        .count();
    if problems > 0 {
        println!("{problems} of {} origins cannot be used", rows.len());
    }
    Ok(problems == 0)
}

/// What a restart with this file would take over from the API and remove, from the store the
/// file names (the file applied in a transaction that is rolled back). Nothing when the store
/// does not exist yet.
async fn preview_restart(config: &Config) -> anyhow::Result<()> {
    let storage = &config.storage;
    if storage.database_url.is_none() && !storage.data_dir.join("pixelway.db").exists() {
        println!(
            "no store yet in {}: the first start creates every entity",
            storage.data_dir.display()
        );
        return Ok(());
    }
    let control = crate::serve::tool_control(config).await?;
    let applied = crate::apply::preview(config, &control).await?;
    if applied.taken_over.is_empty() && applied.removed.is_empty() {
        println!("a restart takes nothing over from the API and removes nothing");
    }
    for taken in &applied.taken_over {
        println!("a restart takes over: {taken}");
    }
    for removed in &applied.removed {
        println!("a restart removes: {removed} (the file no longer declares it)");
    }
    Ok(())
}

fn print_table(rows: &[(String, String, String, String, f64)]) {
    let width = |pick: fn(&(String, String, String, String, f64)) -> usize, title: usize| {
        rows.iter().map(pick).max().unwrap_or(0).max(title)
    };
    let (a, o, k) = (
        width(|r| r.0.len(), 7),
        width(|r| r.1.len(), 6),
        width(|r| r.2.len(), 4),
    );
    println!(
        "{:a$}  {:o$}  {:k$}  {:>9}  result",
        "account", "origin", "type", "time"
    );
    for (account, origin, kind, result, millis) in rows {
        println!("{account:a$}  {origin:o$}  {kind:k$}  {millis:>6.0} ms  {result}");
    }
}
