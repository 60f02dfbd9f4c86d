//! The embedded default: with no config file, a `demo` account whose Media Library holds a few
//! real sample photos, so a first run serves working URLs.

use crate::config::{AccountConfig, Config};
use pixelway_control::Control;
use pixelway_control::library::{NewFile, Spooled};

/// The sample photos compiled into the binary: (library path, bytes).
pub const SAMPLES: &[(&str, &[u8])] = &[
    (
        "samples/cups.jpg",
        include_bytes!("../assets/samples/cups.jpg"),
    ),
    (
        "samples/pastel-hills.jpg",
        include_bytes!("../assets/samples/pastel-hills.jpg"),
    ),
    (
        "samples/fresh-flower.jpg",
        include_bytes!("../assets/samples/fresh-flower.jpg"),
    ),
];

pub const DEMO_ACCOUNT: &str = "demo";
/// The demo account's private key (management API, dashboard sign-in, URL signing).
pub const DEMO_PRIVATE_KEY: &str = "private_demo_key";

/// Adds the demo account to a config that declares none.
pub fn add_demo_account(config: &mut Config) {
    if config.accounts.is_empty() {
        config.accounts.push(AccountConfig {
            id: DEMO_ACCOUNT.to_string(),
            private_key: DEMO_PRIVATE_KEY.to_string(),
            public_key: "public_demo_key".to_string(),
            hide_origin_header: false,
            use_best_format: None,
            auto_avif: None,
            origins: Vec::new(),
            endpoints: Vec::new(),
            named_transformations: Vec::new(),
        });
        config.extend_fingerprint("embedded demo account v1");
    }
}

/// Puts the sample photos in the demo account's library (when missing), through the control
/// plane like any upload.
pub async fn seed_samples(control: &Control) -> anyhow::Result<()> {
    for (path, bytes) in SAMPLES {
        if control
            .store()
            .file_by_path(DEMO_ACCOUNT, path)
            .await?
            .is_some()
        {
            continue;
        }
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        let new = NewFile {
            account: DEMO_ACCOUNT.to_string(),
            folder: format!("/{folder}/"),
            file_name: name.to_string(),
            overwrite_file: true,
            ..NewFile::default()
        };
        let spooled = Spooled::from_bytes(control.media(), bytes)?;
        control.add_file(new, spooled).await?;
    }
    Ok(())
}
