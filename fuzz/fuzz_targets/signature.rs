//! Fuzzes URL signatures: a URL is signed as an SDK signs it (the target after the endpoint
//! prefix, then the ten-digit expiry) and checked to work; a second URL, written by the fuzzer,
//! carries the same `ik-s`. If the second URL verifies, it must ask for the same thing: the same
//! file (up to the documented tolerances), the same transformations, the same query parameters
//! (decoded) and the same expiry. A digit moved between the path and `ik-t`, a parameter added
//! or dropped, or a changed expiry must never verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelway_route::{Route, Signed, route, signature};

#[path = "fixture.rs"]
mod fixture;
use fixture::Fixture;

const KEY: &str = "fuzz_private_key";
const HOSTS: [&str; 3] = ["public.test", "alias.test", "one.test"];

/// Splits `path?query`.
fn parts(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// What a verified URL asks for.
#[derive(Debug, PartialEq)]
struct Meaning {
    account: String,
    /// The file, relative to its endpoint.
    file: String,
    /// The file as written after the account prefix (identifier included when the URL had it
    /// in its path).
    written: String,
    path_transformation: Option<String>,
    query: Vec<(String, String)>,
    expires: u64,
}

fn meaning(routed: &Route, expires: Option<&str>) -> Meaning {
    let file = routed.file.as_str().to_string();
    let written = match routed.identifier_segment {
        Some(_) => format!("{}/{file}", routed.identifier),
        None => file.clone(),
    };
    Meaning {
        account: routed.account.clone(),
        file,
        written,
        path_transformation: routed.path_transformation.clone(),
        query: routed
            .query
            .pairs()
            .iter()
            .filter(|(k, _)| k != "ik-t" && k != "ik-s")
            .cloned()
            .collect(),
        expires: expires.map_or(signature::NEVER_EXPIRES, |t| t.parse().unwrap_or(0)),
    }
}

/// Whether two verified URLs ask for the same thing. The two tolerances of ImageKit's scheme
/// (docs/security.md, "What a signature binds"): the signed text starts after the endpoint
/// prefix, so the same file path may be asked of another endpoint of the account; and a client
/// may sign the identifier as part of its path, so the path as written may match instead.
fn same_request(a: &Meaning, b: &Meaning) -> bool {
    a.account == b.account
        && a.path_transformation == b.path_transformation
        && a.query == b.query
        && a.expires == b.expires
        && (a.file == b.file || a.written == b.written)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // host selector, original target, expiry (digits or empty), other host, other target
    let mut fields = text.splitn(5, '\n');
    let (Some(host_a), Some(target_a), Some(expiry), Some(host_b), Some(target_b)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return;
    };
    let host_a = HOSTS[host_a.len() % HOSTS.len()];
    let host_b = HOSTS[host_b.len() % HOSTS.len()];
    let (path_a, query_a) = parts(target_a);
    let Ok(original) = route(&Fixture, host_a, path_a, query_a) else {
        return;
    };
    let split_a = signature::split(&original.signed_part);
    if split_a.is_signed() {
        return;
    }
    // What an SDK signs: the target after the endpoint prefix, and a ten-digit expiry.
    let expires: Option<u64> = expiry
        .get(..10)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok());
    let mac = signature::sign(
        KEY,
        &split_a.unsigned,
        expires.unwrap_or(signature::NEVER_EXPIRES),
    );
    let expires_text = expires.map(|e| format!("{e:010}"));
    // The URL as the SDK hands it out; only one that pixelway accepts can be handed around.
    let separator = if target_a.contains('?') { '&' } else { '?' };
    let signed_a = match &expires_text {
        Some(t) => format!("{target_a}{separator}ik-t={t}&ik-s={mac}"),
        None => format!("{target_a}{separator}ik-s={mac}"),
    };
    let (path_s, query_s) = parts(&signed_a);
    let Ok(signed_original) = route(&Fixture, host_a, path_s, query_s) else {
        return;
    };
    if signed_original.verify_signature(KEY, 0).is_err() {
        return;
    }
    let original_meaning = meaning(&original, expires_text.as_deref());
    // The other URL carries the same signature: where it writes SIG, or appended.
    let other_target = if target_b.contains("SIG") {
        target_b.replace("SIG", &mac)
    } else {
        let separator = if target_b.contains('?') { '&' } else { '?' };
        format!("{target_b}{separator}ik-s={mac}")
    };
    let (path_b, query_b) = parts(&other_target);
    let Ok(other) = route(&Fixture, host_b, path_b, query_b) else {
        return;
    };
    if other.verify_signature(KEY, 0) == Ok(Signed::Valid) {
        let split_b = signature::split(&other.signed_part);
        let other_meaning = meaning(&other, split_b.expires);
        assert!(
            same_request(&original_meaning, &other_meaning),
            "a signature for {host_a}{target_a} (expiry {expires:?}) verified \
             {host_b}{other_target}:\n{original_meaning:?}\n{other_meaning:?}"
        );
    }
});
