//! Cloud storage emulators for the origin conformance suite: Google's (`gcp-storage-emulator`,
//! PyPI) and Azure's own (Azurite, npm, installed under `.tools/`). Objects are created through
//! the emulators' own APIs (the JSON upload API for GCS, the Azure SDK for Python for Azurite).

use crate::process::{ChildGuard, free_port};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A running GCS emulator. Its object downloads lack the `Last-Modified` header that real GCS
/// sends (and `object_store` requires), nor `ETag`, so clients reach it through [`crate::relay`], which adds
/// the header; everything else passes through unchanged.
#[derive(Debug)]
pub struct GcsEmulator {
    pub endpoint: String,
    _process: Mutex<ChildGuard>,
}

impl GcsEmulator {
    /// The shared emulator of this test process.
    pub fn shared() -> &'static GcsEmulator {
        static SHARED: OnceLock<GcsEmulator> = OnceLock::new();
        SHARED.get_or_init(|| {
            let bin =
                crate::require_tool("gcp-storage-emulator", "pip install gcp-storage-emulator");
            let port = free_port();
            let mut command = Command::new(bin);
            command
                .args([
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--in-memory",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut process = ChildGuard::spawn("gcp-storage-emulator", command);
            process.wait_for_port(
                SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(30),
            );
            GcsEmulator {
                endpoint: crate::relay::start(format!("http://127.0.0.1:{port}")),
                _process: Mutex::new(process),
            }
        })
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/storage/v1/b?project=test", self.endpoint))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "name": bucket }).to_string())
            .send()
            .await
            .expect("create GCS bucket");
        assert!(
            response.status().is_success(),
            "create bucket: {}",
            response.status()
        );
    }

    pub async fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let response = reqwest::Client::new()
            .post(format!(
                "{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}",
                self.endpoint,
                crate::moto::encode_key(key).replace('/', "%2F")
            ))
            .body(bytes.to_vec())
            .send()
            .await
            .expect("upload GCS object");
        assert!(
            response.status().is_success(),
            "upload {key}: {}",
            response.status()
        );
    }

    /// The `[[account.origin]]` body for a GCS origin on this emulator (unsigned requests).
    pub fn origin_toml(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "type = \"gcs\"\nbucket = \"{bucket}\"\nprefix = \"{prefix}\"\nendpoint = \"{}\"\n",
            self.endpoint
        )
    }
}

/// Azurite's well-known development account.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service.
#[derive(Debug)]
pub struct Azurite {
    /// `http://127.0.0.1:PORT/devstoreaccount1`
    pub endpoint: String,
    _data: tempfile::TempDir,
    _process: Mutex<ChildGuard>,
}

impl Azurite {
    /// The shared Azurite of this test process.
    pub fn shared() -> &'static Azurite {
        static SHARED: OnceLock<Azurite> = OnceLock::new();
        SHARED.get_or_init(|| {
            let bin = crate::repo_root().join(".tools/node_modules/.bin/azurite-blob");
            assert!(
                bin.exists(),
                "Azurite missing at {}; run scripts/test-deps.sh",
                bin.display()
            );
            let data = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let mut command = Command::new(bin);
            command
                .args([
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    &port.to_string(),
                    "--silent",
                ])
                .args(["--skipApiVersionCheck", "--loose", "--location"])
                .arg(data.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut process = ChildGuard::spawn("azurite-blob", command);
            process.wait_for_port(
                SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(30),
            );
            Azurite {
                endpoint: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"),
                _data: data,
                _process: Mutex::new(process),
            }
        })
    }

    /// Creates `container` holding `blobs` (name, bytes) with the Azure SDK for Python; returns a
    /// read-only SAS token for the container, as a user would configure it.
    pub fn create_container(&self, container: &str, blobs: &[(&str, &[u8])]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut listing = Vec::new();
        for (i, (name, bytes)) in blobs.iter().enumerate() {
            let file = dir.path().join(i.to_string());
            std::fs::write(&file, bytes).expect("write blob");
            listing.push(serde_json::json!([name, file.display().to_string()]));
        }
        let output = Command::new("python3")
            .arg("-c")
            .arg(AZURE_SETUP)
            .arg(&self.endpoint)
            .arg(container)
            .arg(serde_json::Value::Array(listing).to_string())
            .env("AZURITE_KEY", AZURITE_KEY)
            .output()
            .expect("run python3");
        assert!(
            output.status.success(),
            "azure setup: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    }

    /// The `[[account.origin]]` body for an Azure Blob origin on this Azurite.
    pub fn origin_toml(&self, container: &str, prefix: &str, sas_token: &str) -> String {
        format!(
            "type = \"azure_blob\"\naccount_name = \"{AZURITE_ACCOUNT}\"\ncontainer = \"{container}\"\n\
             prefix = \"{prefix}\"\nsas_token = \"{sas_token}\"\nendpoint = \"{}\"\n",
            self.endpoint
        )
    }
}

const AZURE_SETUP: &str = r#"
import json, os, sys, datetime
from azure.storage.blob import BlobServiceClient, generate_container_sas, ContainerSasPermissions
endpoint, container, listing = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
key = os.environ["AZURITE_KEY"]
service = BlobServiceClient(account_url=endpoint, credential={"account_name": "devstoreaccount1", "account_key": key})
client = service.get_container_client(container)
client.create_container()
for name, path in listing:
    with open(path, "rb") as f:
        client.upload_blob(name, f.read(), overwrite=True)
sas = generate_container_sas("devstoreaccount1", container, account_key=key,
    permission=ContainerSasPermissions(read=True),
    expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2))
print(sas)
"#;
