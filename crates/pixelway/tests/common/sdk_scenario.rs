//! The servers an SDK scenario about origins and endpoints runs against, and running it: two
//! web origins, a moto bucket with one object, and a pixelway from the test's config with
//! `lib.jpg` in acme's Media Library. The scenario reads their addresses from `WEB1`, `WEB2`,
//! `MOTO`, `BUCKET` and the sample's path from `CUPS`.

use pixelway_testkit::{Moto, Pixelway, Sdk, WebOrigin, run_management, sample_path};

pub struct Servers {
    /// `WEB1` and `WEB2`.
    pub webs: [WebOrigin; 2],
    pub server: Pixelway,
    env: Vec<(&'static str, String)>,
}

/// Starts the servers; the bucket is `{name}-{sdk}` (one per scenario: scenarios may share
/// moto) and holds the cups sample at `key`.
pub async fn start(bin: &str, config: &str, sdk: Sdk, name: &str, key: &str) -> Servers {
    let cups = std::fs::read(sample_path("cups.jpg")).unwrap();
    let (web1, web2) = (WebOrigin::start(), WebOrigin::start());
    let bucket = format!("{name}-{}", format!("{sdk:?}").to_lowercase());
    let moto = Moto::shared();
    moto.create_bucket(&bucket).await;
    moto.put(&bucket, key, &cups).await;
    let server = Pixelway::start(bin, Some(config));
    server.put_media("acme", "lib.jpg", &cups);
    let env = vec![
        ("WEB1", web1.base_url.clone()),
        ("WEB2", web2.base_url.clone()),
        ("MOTO", moto.endpoint.clone()),
        ("BUCKET", bucket),
        ("CUPS", sample_path("cups.jpg")),
    ];
    Servers {
        webs: [web1, web2],
        server,
        env,
    }
}

impl Servers {
    /// Runs `scenario` with `sdk` as acme; panics unless it says it passed.
    pub async fn run(&self, sdk: Sdk, scenario: &'static str) {
        let base = self.server.base_url.clone();
        let env = self.env.clone();
        let out = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            run_management(sdk, &base, "private_acme", scenario, &env)
        })
        .await
        .unwrap();
        assert!(out.contains("scenario passed"), "{out}");
    }
}
