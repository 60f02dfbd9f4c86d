//! A real S3-protocol server for tests: moto's (`pip install 'moto[server]'`), one per test
//! process, shared by its tests (each test uses its own buckets).

use crate::process::{ChildGuard, free_port};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A running moto S3 server.
#[derive(Debug)]
pub struct Moto {
    pub endpoint: String,
    _process: Mutex<ChildGuard>,
}

impl Moto {
    /// The shared server of this test process, started on first use.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    fn start() -> Self {
        let bin = crate::require_tool("moto_server", "pip install 'moto[server]'");
        let port = free_port();
        let mut command = Command::new(bin);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut process = ChildGuard::spawn("moto_server", command);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        process.wait_for_port(addr, Duration::from_secs(30));
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            _process: Mutex::new(process),
        }
    }

    /// Creates a bucket (moto accepts unsigned requests).
    /// The first request after moto starts may meet a server that accepts connections but is
    /// not answering yet (the connection closes): it is sent again, for up to 10 s.
    pub async fn create_bucket(&self, bucket: &str) {
        let mut attempts = 0;
        let response = loop {
            match reqwest::Client::new()
                .put(format!("{}/{bucket}", self.endpoint))
                .send()
                .await
            {
                Ok(response) => break response,
                Err(e) if attempts < 100 => {
                    attempts += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("create bucket {bucket}: {e}"),
            }
        };
        assert!(
            response.status().is_success(),
            "create bucket {bucket}: {}",
            response.status()
        );
    }

    /// Stores an object.
    pub async fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}/{}", self.endpoint, encode_key(key)))
            .body(bytes.to_vec())
            .send()
            .await
            .expect("put object");
        let status = response.status();
        assert!(
            status.is_success(),
            "put {bucket}/{key}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Stores an object with a signed request, as pixelway's own S3 client does (moto refuses
    /// an unsigned write over an object a signed client wrote).
    pub async fn put_signed(&self, bucket: &str, key: &str, bytes: &[u8]) {
        use object_store::ObjectStoreExt;
        self.client(bucket)
            .put(&object_store::path::Path::from(key), bytes.to_vec().into())
            .await
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e}"));
    }

    /// An object's bytes; `None` when there is none.
    pub async fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStoreExt;
        match self
            .client(bucket)
            .get(&object_store::path::Path::from(key))
            .await
        {
            Ok(object) => Some(object.bytes().await.expect("object bytes").to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("get {bucket}/{key}: {e}"),
        }
    }

    /// The keys of the objects under `prefix` in `bucket`.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        use futures::StreamExt;
        use object_store::ObjectStore;
        let prefix = object_store::path::Path::from(prefix);
        let client = self.client(bucket);
        let mut listing = client.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.unwrap_or_else(|e| panic!("list {bucket}/{prefix}: {e}"));
            keys.push(meta.location.to_string());
        }
        keys
    }

    /// A signed S3 client for `bucket`, as pixelway's own.
    fn client(&self, bucket: &str) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_endpoint(&self.endpoint)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_allow_http(true)
            .build()
            .expect("an S3 client for moto")
    }

    /// The `[[account.origin]]` body for an S3 origin on this server.
    pub fn origin_toml(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "type = \"s3\"\nbucket = \"{bucket}\"\nprefix = \"{prefix}\"\nendpoint = \"{}\"\n\
             region = \"us-east-1\"\naccess_key_id = \"testing\"\nsecret_access_key = \"testing\"\nallow_http = true\n",
            self.endpoint
        )
    }
}

/// Percent-encodes each segment of an object key.
pub(crate) fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
