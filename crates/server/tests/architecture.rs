//! The architecture's rules, checked against the code (docs/architecture.md lists them):
//!
//! - which of our crates each crate may depend on, read from `cargo metadata` (normal
//!   dependencies; tests may use more);
//! - the control plane carries no HTTP types;
//! - no handler of the management API or the dashboard writes to the store itself: every
//!   change goes through `pixelway_control::Control`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each of our crates and the crates of ours it may depend on. A crate missing here, or an
/// edge not listed, fails the test.
const ALLOWED: &[(&str, &[&str])] = &[
    ("pixelway-route", &[]),
    ("pixelway-transform", &[]),
    ("pixelway-cache", &[]),
    ("pixelway-testkit", &[]),
    ("pixelway-origins", &[]),
    ("pixelway-store", &["pixelway-origins"]),
    (
        "pixelway-control",
        &[
            "pixelway-origins",
            "pixelway-store",
            "pixelway-route",
            "pixelway-transform",
        ],
    ),
    (
        "pixelway-delivery",
        &[
            "pixelway-control",
            "pixelway-transform",
            "pixelway-cache",
            "pixelway-route",
            "pixelway-origins",
            "pixelway-store",
        ],
    ),
    (
        "pixelway-api",
        &[
            "pixelway-control",
            "pixelway-delivery",
            "pixelway-store",
            "pixelway-route",
            "pixelway-origins",
            "pixelway-transform",
        ],
    ),
    (
        "pixelway-dashboard",
        &[
            "pixelway-api",
            "pixelway-control",
            "pixelway-delivery",
            "pixelway-store",
            "pixelway-route",
            "pixelway-origins",
        ],
    ),
    (
        "pixelway-server",
        &[
            "pixelway-control",
            "pixelway-delivery",
            "pixelway-api",
            "pixelway-dashboard",
        ],
    ),
    (
        "pixelway",
        &[
            "pixelway-server",
            "pixelway-control",
            "pixelway-delivery",
            "pixelway-store",
            "pixelway-origins",
            "pixelway-cache",
            "pixelway-transform",
            "pixelway-route",
        ],
    ),
];

/// Crates that would bring HTTP types into the control plane.
const HTTP_CRATES: &[&str] = &["axum", "hyper", "hyper-util", "http", "tower", "tower-http"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server is two levels below the root")
        .to_path_buf()
}

/// Our crates and their normal (non-dev, non-build) dependencies, from `cargo metadata`.
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let normal = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        crates.insert(package["name"].as_str().unwrap().to_string(), normal);
    }
    crates
}

/// The edges that break a rule, in words.
fn forbidden_edges(crates: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut broken = Vec::new();
    for (name, dependencies) in crates {
        let Some(may_use) = allowed.get(name.as_str()) else {
            broken.push(format!(
                "{name} is not in the rules (add it to ALLOWED and docs)"
            ));
            continue;
        };
        for dependency in dependencies {
            let ours = dependency == "pixelway" || dependency.starts_with("pixelway-");
            if ours && !may_use.contains(&dependency.as_str()) {
                broken.push(format!("{name} → {dependency}"));
            }
            if name == "pixelway-control" && HTTP_CRATES.contains(&dependency.as_str()) {
                broken.push(format!(
                    "{name} → {dependency} (HTTP types in the control plane)"
                ));
            }
        }
    }
    broken
}

#[test]
fn crates_depend_only_on_what_the_rules_allow() {
    let crates = dependencies();
    assert!(
        crates.len() >= ALLOWED.len(),
        "cargo metadata listed {} crates",
        crates.len()
    );
    let broken = forbidden_edges(&crates);
    assert!(broken.is_empty(), "forbidden dependencies: {broken:#?}");
}

/// The check itself: an edge against the rules is caught (delivery importing the API, the
/// API importing the dashboard, anything importing the server, HTTP in control).
#[test]
fn a_forbidden_edge_is_caught() {
    let mut crates = dependencies();
    for (from, to) in [
        ("pixelway-delivery", "pixelway-api"),
        ("pixelway-api", "pixelway-dashboard"),
        ("pixelway-control", "pixelway-server"),
        ("pixelway-control", "axum"),
    ] {
        let edges = crates.get_mut(from).unwrap();
        edges.push(to.to_string());
        let broken = forbidden_edges(&crates);
        assert_eq!(broken.len(), 1, "{from} → {to}: {broken:?}");
        crates.get_mut(from).unwrap().pop();
    }
}

/// Store methods that change something. Only the control plane calls them (sessions and
/// upload tokens, the sign-in bookkeeping, are the auth module's own).
const STORE_WRITES: &[&str] = &[
    "create_account",
    "rotate_account_keys",
    "delete_account",
    "create_origin",
    "update_origin",
    "delete_origin",
    "create_endpoint",
    "update_endpoint",
    "delete_endpoint",
    "save_named_transformation",
    "delete_named_transformation",
    "map_domain",
    "unmap_domain",
    "upsert_file",
    "update_file",
    "retag_files",
    "delete_files",
    "delete_folder",
    "create_folder",
    "move_file",
    "record_purge",
    "collapse_purges",
    "begin_config_apply",
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_surface_writes_to_the_store_itself() {
    let root = workspace_root();
    let mut offences = Vec::new();
    for surface in ["api", "dashboard", "delivery", "server", "pixelway"] {
        for file in rust_files(&root.join("crates").join(surface).join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            // Method calls only: `.name(` possibly split over lines by rustfmt.
            let squeezed: String = text.split_whitespace().collect();
            for write in STORE_WRITES {
                if squeezed.contains(&format!("store().{write}("))
                    || squeezed.contains(&format!("store.{write}("))
                {
                    offences.push(format!("{}: {write}", file.display()));
                }
            }
            for reload in ["reload_account(", "rebuild(", ".invalidate("] {
                if squeezed.contains(reload) && surface != "delivery" {
                    offences.push(format!("{}: {reload}", file.display()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "changes made outside pixelway_control::Control: {offences:#?}"
    );
}
