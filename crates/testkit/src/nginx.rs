//! nginx as a load balancer in front of pixelway nodes (Debian's `nginx-light`), on 127.0.0.1
//! with a random port, in the foreground, with its configuration in a temporary folder.

use crate::process::{ChildGuard, free_port};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    pub port: u16,
    _dir: tempfile::TempDir,
    _process: ChildGuard,
}

impl Nginx {
    /// Starts nginx with `config`, in which `@LISTEN@` becomes its address and `@PID@` a pid
    /// file of its own.
    pub fn start(config: &str) -> Self {
        let bin = crate::which("nginx")
            .or_else(|| {
                let debian = std::path::PathBuf::from("/usr/sbin/nginx");
                debian.is_file().then_some(debian)
            })
            .unwrap_or_else(|| {
                panic!("nginx not found; run scripts/test.sh or `apt-get install nginx-light`")
            });
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let config = config
            .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
            .replace("@PID@", dir.path().join("nginx.pid").to_str().unwrap());
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).expect("nginx.conf");
        let mut command = Command::new(bin);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            // One process (no workers that would outlive a killed master).
            .args(["-g", "daemon off; master_process off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut process = ChildGuard::spawn("nginx", command);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        process.wait_for_port(addr, Duration::from_secs(10));
        Self {
            port,
            _dir: dir,
            _process: process,
        }
    }

    /// A URL on this nginx.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}
