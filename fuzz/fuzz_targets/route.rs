//! Fuzzes the router: any Host, path and query either routes to a checked path or is refused,
//! never a panic, never a dot segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelway_route::{Directory, DomainTarget, route, signature};

struct Fixture;

impl Directory for Fixture {
    fn custom_domain(&self, host: &str) -> Option<DomainTarget> {
        match host {
            "alias.test" => Some(DomainTarget::Alias {
                account: "demo".into(),
            }),
            "one.test" => Some(DomainTarget::Endpoint {
                account: "demo".into(),
                identifier: "img".into(),
            }),
            _ => None,
        }
    }
    fn is_public_host(&self, host: &str) -> bool {
        host.len() % 2 == 0
    }
    fn has_account(&self, account: &str) -> bool {
        account == "demo"
    }
    fn has_endpoint(&self, account: &str, identifier: &str) -> bool {
        account == "demo" && identifier == "img"
    }
}

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
        let candidates = routed.signature_candidates(&signed.unsigned);
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let verdict = signature::verify("fuzz_key", &signed, &candidates, 0);
        assert!(signed.is_signed() || verdict.is_err());
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
