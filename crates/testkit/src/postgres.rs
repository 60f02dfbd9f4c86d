//! A throwaway PostgreSQL for tests, from the machine's own binaries (Debian's `postgresql`):
//! `initdb` into a temporary folder, then `postgres` on 127.0.0.1 with a random port, trust
//! authentication and no fsync (a test's data is thrown away). Run as the `postgres` user when
//! the tests run as root (PostgreSQL refuses root). Each test asks for a fresh database of its
//! own ([`Postgres::fresh_database`]).

use crate::process::{ChildGuard, free_port};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A running PostgreSQL cluster.
#[derive(Debug)]
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    /// Keeps the cluster's folder for as long as the server lives.
    _dir: tempfile::TempDir,
    process: Mutex<Option<ChildGuard>>,
}

/// The folder holding `initdb`, `postgres` and `psql`: on PATH, else Debian's versioned folder.
fn binaries() -> PathBuf {
    if let Some(initdb) = crate::which("initdb") {
        let dir = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return dir.parent().expect("a folder").to_path_buf();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL's initdb not found; run scripts/test.sh or `apt-get install postgresql`")
    })
}

/// The uid and gid to run PostgreSQL as: the `postgres` user when this process is root.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns a pointer into static storage, read at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !entry.is_null(),
        "running as root and there is no `postgres` user to run PostgreSQL as"
    );
    // SAFETY: checked non-null above.
    Some(unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
}

/// A command that runs as `user` (when given) and dies with this process.
fn command_as(program: &Path, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    if let Some((uid, gid)) = user {
        // SAFETY: setgid/setuid are async-signal-safe; they only change this child's ids.
        unsafe {
            command.pre_exec(move || {
                if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.env("HOME", "/tmp");
    }
    command
}

fn chown(path: &Path, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
    }
}

/// Clusters' folders are named `pixelway-pg-{pid}-…` after the test process that made them.
const CLUSTER_PREFIX: &str = "pixelway-pg-";

/// Removes the folders of clusters whose test process has gone (the shared cluster of a test
/// process lives in a static, which is never dropped: its server dies with the process, its
/// folder is removed here by the next test process).
fn remove_abandoned_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(CLUSTER_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Postgres {
    /// The shared cluster of this test process, started on first use.
    pub fn shared() -> &'static Postgres {
        static SHARED: OnceLock<Postgres> = OnceLock::new();
        SHARED.get_or_init(Postgres::start)
    }

    /// A cluster of its own (for a test that stops and restarts it).
    pub fn start() -> Self {
        let bin = binaries();
        let user = run_as();
        remove_abandoned_clusters();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{CLUSTER_PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("temp dir");
        chown(dir.path(), user);
        let data = dir.path().join("data");
        let status = command_as(&bin.join("initdb"), user)
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
            ])
            .args(["-E", "UTF8", "--locale=C", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("initdb runs");
        assert!(
            status.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let postgres = Self {
            port: free_port(),
            bin,
            data,
            _dir: dir,
            process: Mutex::new(None),
        };
        postgres.resume();
        postgres
    }

    /// Starts the server again after [`Postgres::stop`] (same port, same data).
    pub fn resume(&self) {
        let mut command = command_as(&self.bin.join("postgres"), run_as());
        command
            .args(["-D", self.data.to_str().unwrap()])
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1"])
            .args(["-k", self.data.to_str().unwrap()])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut process = ChildGuard::spawn("postgres", command);
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        process.wait_for_port(addr, Duration::from_secs(30));
        self.wait_ready();
        *self.process.lock().unwrap() = Some(process);
    }

    /// Stops the server at once, every connection dropped (`pg_ctl stop -m immediate`: an
    /// outage, not a clean shutdown).
    pub fn stop(&self) {
        let _ = command_as(&self.bin.join("pg_ctl"), run_as())
            .args([
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut process) = self.process.lock().unwrap().take() {
            process.kill();
        }
    }

    /// Waits until the server takes queries (it listens a moment before it does).
    fn wait_ready(&self) {
        for _ in 0..200 {
            if self.psql("postgres", "SELECT 1").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("postgres on port {} never took a query", self.port);
    }

    /// Runs one statement with `psql` against `database`.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let psql = [self.bin.join("psql"), PathBuf::from("/usr/bin/psql")]
            .into_iter()
            .find(|p| p.is_file())
            .expect("psql next to initdb");
        let output = Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args([
                "-d",
                database,
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .args(["-c", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).to_string())
        }
    }

    /// The URL of a new, empty database of this cluster.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "pixelway_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        self.url(&name)
    }

    /// The URL of `database` of this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}
