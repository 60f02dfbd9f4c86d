//! Fuzzes the router: any Host, path and query either routes to a checked path or is refused,
//! never a panic, never a dot segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelway_route::{Signed, route, signature};

#[path = "fixture.rs"]
mod fixture;
use fixture::Fixture;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let host = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("/");
    let query = parts.next();
    if let Ok(routed) = route(&Fixture, host, path, query) {
        let signed = signature::split(&routed.signed_part);
        let verdict = routed.verify_signature("fuzz_key", 0);
        assert!(signed.is_signed() || verdict == Ok(Signed::No));
        if routed.file.absolute_url().is_none() {
            assert!(
                routed
                    .file
                    .as_str()
                    .split('/')
                    .all(|s| !s.is_empty() && s != "." && s != "..")
            );
        }
    }
});
