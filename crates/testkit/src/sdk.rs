//! ImageKit's official Python SDK (`imagekitio`) as a real client: URLs built by it, exactly as
//! a user's application would build them.

use std::process::Command;

/// `helper.build_url(src, url_endpoint, transformation, transformation_position)`;
/// `transformation` is the SDK's JSON list of steps, e.g. `[{"width": 300}, {"rotation": 90}]`.
pub fn imagekit_url(url_endpoint: &str, src: &str, transformation: &str, position: &str) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(BUILD_URL)
        .args([url_endpoint, src, transformation, position])
        .output()
        .expect("run python3 (pip install imagekitio)");
    assert!(
        output.status.success(),
        "imagekitio build_url failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

const BUILD_URL: &str = r#"
import json, sys
from imagekitio import ImageKit
endpoint, src, transformation, position = sys.argv[1:5]
ik = ImageKit(private_key="unused_for_unsigned_urls")
print(ik.helper.build_url(src=src, url_endpoint=endpoint,
    transformation=json.loads(transformation), transformation_position=position))
"#;
