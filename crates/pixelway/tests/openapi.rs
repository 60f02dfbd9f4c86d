//! The OpenAPI document at `/openapi.json` describes what the server really answers: every
//! operation in it is called against a running server, and every answer (successes and errors)
//! is validated against the document's schema for that operation and status with Python's
//! `jsonschema` (Draft 2020-12, which OpenAPI 3.1 uses). Objects are checked closed — a field
//! the document does not list fails — and an answer whose status the document does not list
//! fails too.

use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Pixelway, WebOrigin};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn config(web: &WebOrigin) -> String {
    format!(
        r#"
[server]
admin_token = "operator-secret"

[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{}"
"#,
        web.base_url
    )
}

/// One call: the operation it exercises (path template and method), and what came back.
struct Recorder<'a> {
    server: &'a Pixelway,
    calls: Vec<Value>,
}

enum Auth {
    Account,
    Operator,
    Nobody,
}

impl Recorder<'_> {
    async fn call(
        &mut self,
        auth: Auth,
        method: &str,
        template: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> Value {
        let mut request = pixelway_testkit::http_client().request(
            method.to_uppercase().parse().unwrap(),
            self.server.url(path),
        );
        request = match auth {
            Auth::Account => request.basic_auth("private_acme", Some("do_not_set")),
            Auth::Operator => request.bearer_auth("operator-secret"),
            Auth::Nobody => request,
        };
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let parsed: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {bytes:?}"))
        };
        self.calls.push(json!({
            "template": template, "method": method, "status": status, "body": parsed,
            "empty": bytes.is_empty(),
        }));
        parsed
    }

    async fn json(&mut self, method: &str, template: &str, path: &str, body: Value) -> Value {
        let body = Some((
            "application/json".to_string(),
            body.to_string().into_bytes(),
        ));
        self.call(Auth::Account, method, template, path, body).await
    }

    async fn get(&mut self, template: &str, path: &str) -> Value {
        self.call(Auth::Account, "get", template, path, None).await
    }

    async fn operator(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let body = body.map(|b| ("application/json".to_string(), b.to_string().into_bytes()));
        self.call(Auth::Operator, method, template, path, body)
            .await
    }
}

/// Validates every recorded call against the document (Python `jsonschema`).
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
doc = json.load(open(sys.argv[1]))
calls = json.load(open(sys.argv[2]))

def closed(node):
    """Every object schema closed: a field the document does not list fails."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            closed(value)
    elif isinstance(node, list):
        for value in node:
            closed(value)
closed(doc["components"])

problems, covered = [], set()
for call in calls:
    where = f'{call["method"].upper()} {call["template"]} → {call["status"]}'
    operation = doc["paths"].get(call["template"], {}).get(call["method"])
    if operation is None:
        problems.append(f"{where}: no such operation in the document"); continue
    response = operation["responses"].get(str(call["status"]))
    if response is None:
        problems.append(f"{where}: status not in the document"); continue
    if 200 <= call["status"] < 300:
        covered.add((call["template"], call["method"]))
    content = response.get("content", {}).get("application/json")
    if content is None:
        if not call["empty"]:
            problems.append(f"{where}: the document says no body, the server sent {call['body']}")
        continue
    schema = dict(content["schema"]); schema["components"] = doc["components"]
    for error in Draft202012Validator(schema).iter_errors(call["body"]):
        problems.append(f"{where}: {error.message} at {list(error.absolute_path)}")
for path, methods in doc["paths"].items():
    for method in methods:
        if (path, method) not in covered:
            problems.append(f"{method.upper()} {path}: never answered with success in this test")
print("\n".join(problems))
print(f"checked {len(calls)} answers against {sum(len(m) for m in doc['paths'].values())} operations")
"#;

#[tokio::test]
async fn every_answer_matches_the_openapi_document() {
    let web = WebOrigin::start();
    web.serve("/a.jpg", CUPS);
    let server = Pixelway::start(BIN, Some(&config(&web)));
    let document: Value = pixelway_testkit::http_client()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(document["openapi"], "3.1.0");
    let mut r = Recorder {
        server: &server,
        calls: Vec::new(),
    };

    // Files.
    let (content_type, body) = Form::new()
        .text("fileName", "cup.jpg")
        .text("folder", "/docs")
        .text("useUniqueFileName", "false")
        .text("tags", "a,b")
        .text("customMetadata", r#"{"k":1}"#)
        .file("file", "cup.jpg", CUPS)
        .finish();
    let upload = "/api/v1/files/upload";
    let file = r
        .call(
            Auth::Account,
            "post",
            upload,
            upload,
            Some((content_type, body)),
        )
        .await;
    let id = file["fileId"].as_str().unwrap().to_string();
    let (content_type, body) = Form::new()
        .text("fileName", "x.txt")
        .file("file", "x.txt", b"text")
        .finish();
    r.call(
        Auth::Account,
        "post",
        upload,
        upload,
        Some((content_type, body)),
    )
    .await;
    r.call(
        Auth::Nobody,
        "post",
        upload,
        upload,
        Some(Form::new().finish()),
    )
    .await;
    r.get("/v1/files", "/v1/files?type=all").await;
    r.get("/v1/files", "/v1/files?searchQuery=nope%20%3D%201")
        .await;
    r.get("/v1/files/{id}/details", &format!("/v1/files/{id}/details"))
        .await;
    r.get("/v1/files/{id}/details", "/v1/files/missing/details")
        .await;
    let details = format!("/v1/files/{id}/details");
    r.json(
        "patch",
        "/v1/files/{id}/details",
        &details,
        json!({"tags": ["c"], "description": "d"}),
    )
    .await;
    r.json(
        "patch",
        "/v1/files/{id}/details",
        &details,
        json!({"colour": 1}),
    )
    .await;
    r.json(
        "post",
        "/v1/files/addTags",
        "/v1/files/addTags",
        json!({"fileIds": [id], "tags": ["x"]}),
    )
    .await;
    r.json(
        "post",
        "/v1/files/removeTags",
        "/v1/files/removeTags",
        json!({"fileIds": [id], "tags": ["x"]}),
    )
    .await;
    r.json(
        "post",
        "/v1/files/copy",
        "/v1/files/copy",
        json!({"sourceFilePath": "/docs/cup.jpg", "destinationPath": "/copies"}),
    )
    .await;
    r.json(
        "post",
        "/v1/files/move",
        "/v1/files/move",
        json!({"sourceFilePath": "/copies/cup.jpg", "destinationPath": "/moved"}),
    )
    .await;
    r.json(
        "put",
        "/v1/files/rename",
        "/v1/files/rename",
        json!({"filePath": "/moved/cup.jpg", "newFileName": "mug.jpg"}),
    )
    .await;
    r.json(
        "post",
        "/v1/folder",
        "/v1/folder",
        json!({"folderName": "empty", "parentFolderPath": "/docs"}),
    )
    .await;
    let job = r
        .json(
            "post",
            "/v1/bulkJobs/copyFolder",
            "/v1/bulkJobs/copyFolder",
            json!({"sourceFolderPath": "/docs", "destinationPath": "/backup"}),
        )
        .await;
    r.get(
        "/v1/bulkJobs/{id}",
        &format!("/v1/bulkJobs/{}", job["jobId"].as_str().unwrap()),
    )
    .await;
    r.json(
        "post",
        "/v1/bulkJobs/moveFolder",
        "/v1/bulkJobs/moveFolder",
        json!({"sourceFolderPath": "/backup/docs", "destinationPath": "/archive"}),
    )
    .await;
    r.json(
        "post",
        "/v1/bulkJobs/renameFolder",
        "/v1/bulkJobs/renameFolder",
        json!({"folderPath": "/archive/docs", "newFolderName": "old-docs"}),
    )
    .await;
    r.json(
        "post",
        "/v1/bulkJobs/renameFolder",
        "/v1/bulkJobs/renameFolder",
        json!({"folderPath": "/nowhere", "newFolderName": "x"}),
    )
    .await;
    r.json(
        "delete",
        "/v1/folder",
        "/v1/folder",
        json!({"folderPath": "/moved"}),
    )
    .await;
    let purge = r
        .json(
            "post",
            "/v1/files/purge",
            "/v1/files/purge",
            json!({"url": format!("{}/acme/docs/cup.jpg", server.base_url)}),
        )
        .await;
    let request_id = purge["requestId"].as_str().unwrap();
    r.get(
        "/v1/files/purge/{id}",
        &format!("/v1/files/purge/{request_id}"),
    )
    .await;

    // Origins, URL endpoints, named transformations.
    let origin = r
        .json(
            "post",
            "/v1/accounts/origins",
            "/v1/accounts/origins",
            json!({"type": "WEB_FOLDER", "name": "web", "baseUrl": web.base_url}),
        )
        .await;
    let origin_id = origin["id"].as_str().unwrap().to_string();
    let origin_path = format!("/v1/accounts/origins/{origin_id}");
    r.get("/v1/accounts/current", "/v1/accounts/current").await;
    r.get("/v1/accounts/origins", "/v1/accounts/origins").await;
    r.get("/v1/accounts/origins/{id}", &origin_path).await;
    r.json(
        "put",
        "/v1/accounts/origins/{id}",
        &origin_path,
        json!({"type": "WEB_FOLDER", "name": "web2", "baseUrl": web.base_url}),
    )
    .await;
    r.json(
        "post",
        "/v1/accounts/origins",
        "/v1/accounts/origins",
        json!({"type": "AKENEO_PIM", "name": "p"}),
    )
    .await;
    let endpoint = r
        .json(
            "post",
            "/v1/accounts/url-endpoints",
            "/v1/accounts/url-endpoints",
            json!({"description": "e", "urlPrefix": "shop", "origins": [origin_id]}),
        )
        .await;
    let endpoint_path = format!(
        "/v1/accounts/url-endpoints/{}",
        endpoint["id"].as_str().unwrap()
    );
    r.get("/v1/accounts/url-endpoints", "/v1/accounts/url-endpoints")
        .await;
    r.get(
        "/v1/accounts/url-endpoints/{id}",
        "/v1/accounts/url-endpoints/default",
    )
    .await;
    r.json(
        "put",
        "/v1/accounts/url-endpoints/{id}",
        &endpoint_path,
        json!({"description": "e2", "urlPrefix": "shop"}),
    )
    .await;
    r.json(
        "post",
        "/v1/accounts/url-endpoints",
        "/v1/accounts/url-endpoints",
        json!({"description": "e", "urlPrefix": "shop"}),
    )
    .await;
    r.json(
        "delete",
        "/v1/accounts/url-endpoints/{id}",
        &endpoint_path,
        json!({}),
    )
    .await;
    r.json(
        "delete",
        "/v1/accounts/origins/{id}",
        &origin_path,
        json!({}),
    )
    .await;
    let named = r
        .json(
            "post",
            "/v1/named-transformations",
            "/v1/named-transformations",
            json!({"name": "thumb", "transformation": "w-40"}),
        )
        .await;
    let named_path = format!(
        "/v1/named-transformations/{}",
        named["id"].as_str().unwrap()
    );
    r.get("/v1/named-transformations", "/v1/named-transformations")
        .await;
    r.get("/v1/named-transformations/{id}", &named_path).await;
    r.json(
        "patch",
        "/v1/named-transformations/{id}",
        &named_path,
        json!({"transformation": "w-30"}),
    )
    .await;
    r.json(
        "delete",
        "/v1/named-transformations/{id}",
        &named_path,
        json!({}),
    )
    .await;

    // The operator.
    r.operator(
        "get",
        "/v1/operator/accounts",
        "/v1/operator/accounts",
        None,
    )
    .await;
    r.operator(
        "post",
        "/v1/operator/accounts",
        "/v1/operator/accounts",
        Some(json!({"id": "newco"})),
    )
    .await;
    r.operator(
        "post",
        "/v1/operator/accounts/{id}/keys",
        "/v1/operator/accounts/newco/keys",
        None,
    )
    .await;
    r.operator(
        "put",
        "/v1/operator/custom-domains/{host}",
        "/v1/operator/custom-domains/img.newco.test",
        Some(json!({"accountId": "newco"})),
    )
    .await;
    r.operator(
        "get",
        "/v1/operator/custom-domains",
        "/v1/operator/custom-domains",
        None,
    )
    .await;
    r.operator(
        "delete",
        "/v1/operator/custom-domains/{host}",
        "/v1/operator/custom-domains/img.newco.test",
        None,
    )
    .await;
    r.operator(
        "delete",
        "/v1/operator/accounts/{id}",
        "/v1/operator/accounts/newco",
        None,
    )
    .await;
    r.call(
        Auth::Nobody,
        "get",
        "/v1/operator/accounts",
        "/v1/operator/accounts",
        None,
    )
    .await;

    // Deleting files last.
    r.json(
        "delete",
        "/v1/files/{id}",
        &format!("/v1/files/{id}"),
        json!({}),
    )
    .await;
    let second = r
        .call(
            Auth::Account,
            "post",
            upload,
            upload,
            Some(
                Form::new()
                    .text("fileName", "b.jpg")
                    .file("file", "b.jpg", CUPS)
                    .finish(),
            ),
        )
        .await;
    let second_id = second["fileId"].as_str().unwrap();
    r.json(
        "post",
        "/v1/files/batch/deleteByFileIds",
        "/v1/files/batch/deleteByFileIds",
        json!({"fileIds": [second_id]}),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let doc_path = dir.path().join("openapi.json");
    let calls_path = dir.path().join("calls.json");
    std::fs::write(&doc_path, document.to_string()).unwrap();
    std::fs::write(&calls_path, Value::Array(r.calls).to_string()).unwrap();
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .arg(&doc_path)
        .arg(&calls_path)
        .output()
        .expect("python3 with jsonschema (scripts/test-deps.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let problems: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("checked "))
        .collect();
    assert!(
        problems.is_empty(),
        "answers that do not match the document:\n{}",
        problems.join("\n")
    );
    assert!(stdout.contains("checked"), "{stdout}");
    eprintln!("{}", stdout.trim());
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}
