//! ImageKit's official SDKs as real clients: URLs built by the Python SDK (`imagekitio`, pip) and
//! the Node SDK (`@imagekit/nodejs`, npm, under `.tools/`), exactly as a user's application would
//! build them, signed ones included.

use std::process::{Command, Stdio};

/// Which official SDK builds the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    Python,
    Node,
}

/// The arguments of the SDKs' URL helper (`build_url` / `buildSrc`).
#[derive(Debug, Clone)]
pub struct UrlRequest<'a> {
    pub url_endpoint: &'a str,
    pub src: &'a str,
    /// The SDK's JSON list of steps, e.g. `[{"width": 300}, {"rotation": 90}]`.
    pub transformation: &'a str,
    /// `path` or `query`.
    pub position: &'a str,
    /// Signs with this private key when set.
    pub signing_key: Option<&'a str>,
    /// Seconds until the signature expires (0: never).
    pub expires_in: u64,
    /// Extra query parameters, a JSON object.
    pub query_parameters: &'a str,
}

impl<'a> UrlRequest<'a> {
    /// An unsigned URL for `src` with no transformation.
    pub fn new(url_endpoint: &'a str, src: &'a str) -> Self {
        Self {
            url_endpoint,
            src,
            transformation: "[]",
            position: "path",
            signing_key: None,
            expires_in: 0,
            query_parameters: "{}",
        }
    }

    /// Builds the URL with `sdk`.
    pub fn build(&self, sdk: Sdk) -> String {
        build_all(sdk, std::slice::from_ref(self)).remove(0)
    }

    fn to_json(&self) -> serde_json::Value {
        let parse = |text: &str| -> serde_json::Value {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON {text:?}: {e}"))
        };
        serde_json::json!({
            "endpoint": self.url_endpoint,
            "src": self.src,
            "transformation": parse(self.transformation),
            "position": self.position,
            "key": self.signing_key.unwrap_or("unused_for_unsigned_urls"),
            "signed": self.signing_key.is_some(),
            "expires": self.expires_in,
            "query": parse(self.query_parameters),
        })
    }
}

/// Builds many URLs with one run of `sdk` (starting an SDK takes a good part of a second).
pub fn build_all(sdk: Sdk, requests: &[UrlRequest<'_>]) -> Vec<String> {
    use std::io::Write;
    let input = serde_json::Value::Array(requests.iter().map(UrlRequest::to_json).collect());
    let mut command = match sdk {
        Sdk::Python => {
            let mut c = Command::new("python3");
            c.arg("-c").arg(PYTHON);
            c
        }
        Sdk::Node => {
            let mut c = Command::new("node");
            c.env("NODE_PATH", crate::repo_root().join(".tools/node_modules"))
                .arg("-e")
                .arg(NODE);
            c
        }
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run the {sdk:?} SDK (scripts/test-deps.sh): {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write SDK input");
    let output = child.wait_with_output().expect("SDK output");
    assert!(
        output.status.success(),
        "{sdk:?} SDK failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let urls: Vec<String> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(urls.len(), requests.len(), "one URL per request");
    urls
}

/// `helper.build_url(src, url_endpoint, transformation, transformation_position)` of the Python
/// SDK, unsigned.
pub fn imagekit_url(url_endpoint: &str, src: &str, transformation: &str, position: &str) -> String {
    UrlRequest {
        transformation,
        position,
        ..UrlRequest::new(url_endpoint, src)
    }
    .build(Sdk::Python)
}

const PYTHON: &str = r#"
import json, sys
from imagekitio import ImageKit
for r in json.load(sys.stdin):
    ik = ImageKit(private_key=r["key"])
    print(ik.helper.build_url(src=r["src"], url_endpoint=r["endpoint"],
        transformation=r["transformation"], transformation_position=r["position"],
        signed=r["signed"], expires_in=r["expires"], query_parameters=r["query"]))
"#;

const NODE: &str = r#"
const m = require('@imagekit/nodejs');
const ImageKit = m.default || m;
const requests = JSON.parse(require('fs').readFileSync(0, 'utf8'));
for (const r of requests) {
  const ik = new ImageKit({ privateKey: r.key });
  console.log(ik.helper.buildSrc({ src: r.src, urlEndpoint: r.endpoint,
    transformation: r.transformation, transformationPosition: r.position,
    signed: r.signed, expiresIn: r.expires, queryParameters: r.query }));
}
"#;

/// Runs `script` with an official SDK's management client ready as `ik`, pointed at
/// `base_url` with `private_key` (Python: `ImageKit(private_key=…, base_url=…)`; Node:
/// `new ImageKit({privateKey, baseURL})`, with `toFile` and `assert` in scope and the script's
/// body inside an async function). `env` adds environment variables the script reads. Panics
/// with the SDK's output when the script fails; returns its standard output.
pub fn run_management(
    sdk: Sdk,
    base_url: &str,
    private_key: &str,
    script: &str,
    env: &[(&str, &str)],
) -> String {
    let mut command = match sdk {
        Sdk::Python => {
            let mut c = Command::new("python3");
            c.arg("-c").arg(format!("{PYTHON_CLIENT}\n{script}"));
            c
        }
        Sdk::Node => {
            let mut c = Command::new("node");
            c.env("NODE_PATH", crate::repo_root().join(".tools/node_modules"))
                .arg("-e")
                .arg(format!("{NODE_CLIENT_START}\n{script}\n{NODE_CLIENT_END}"));
            c
        }
    };
    let output = command
        .env("BASE_URL", base_url)
        .env("PRIVATE_KEY", private_key)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run the {sdk:?} SDK (scripts/test-deps.sh): {e}"));
    assert!(
        output.status.success(),
        "{sdk:?} SDK script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

const PYTHON_CLIENT: &str = r#"
import os, json, base64, urllib.request, urllib.error
from imagekitio import ImageKit
import imagekitio
BASE = os.environ["BASE_URL"]
ik = ImageKit(private_key=os.environ["PRIVATE_KEY"], base_url=BASE, max_retries=0)

def get(path):
    """(status, body, headers) of a delivery URL on the server."""
    try:
        r = urllib.request.urlopen(BASE + path)
        return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers

def api(path):
    """The JSON of a management API GET, as the server wrote it (not the SDK's model of it)."""
    auth = base64.b64encode((os.environ["PRIVATE_KEY"] + ":").encode()).decode()
    request = urllib.request.Request(BASE + path, headers={"Authorization": "Basic " + auth})
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())

def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame marker."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    raise ValueError("no SOF marker")
"#;

const NODE_CLIENT_START: &str = r#"
const m = require('@imagekit/nodejs');
const ImageKit = m.default || m;
const { toFile } = m;
const assert = require('assert');
const fs = require('fs');
const BASE = process.env.BASE_URL;
const ik = new ImageKit({ privateKey: process.env.PRIVATE_KEY, baseURL: BASE, maxRetries: 0 });
async function get(path) {
  const r = await fetch(BASE + path);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), headers: r.headers };
}
async function api(path) {
  const auth = Buffer.from(`${process.env.PRIVATE_KEY}:`).toString('base64');
  const r = await fetch(BASE + path, { headers: { Authorization: `Basic ${auth}` } });
  assert.strictEqual(r.status, 200, await r.clone().text());
  return r.json();
}
(async () => {
"#;

const NODE_CLIENT_END: &str = r#"
})().catch((e) => { console.error(e); process.exit(1); });
"#;
