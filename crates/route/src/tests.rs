//! Table tests for routing: one directory, many URLs.

use super::*;

struct Fixture;

impl Directory for Fixture {
    fn custom_domain(&self, host: &str) -> Option<DomainTarget> {
        match host {
            "images.example.com" => Some(DomainTarget::Alias {
                account: "demo".into(),
            }),
            "products.example.com" => Some(DomainTarget::Endpoint {
                account: "demo".into(),
                identifier: "product-images".into(),
            }),
            _ => None,
        }
    }
    fn is_public_host(&self, host: &str) -> bool {
        host == "img.example.com" || host == "127.0.0.1"
    }
    fn has_account(&self, account: &str) -> bool {
        account == "demo" || account == "other"
    }
    fn has_endpoint(&self, account: &str, identifier: &str) -> bool {
        account == "demo" && identifier == "product-images"
    }
}

/// Splits a request target into path and query and routes it.
fn route_target(host: &str, target: &str) -> Result<Route, RouteError> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    route(&Fixture, host, path, query)
}

fn ok(host: &str, target: &str) -> Route {
    route_target(host, target).unwrap_or_else(|e| panic!("{target}: {e}"))
}

fn err(host: &str, target: &str) -> RouteError {
    route_target(host, target).expect_err(target)
}

/// (host, target, account, identifier, path transformation, query transformation, file)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

#[test]
fn routes_public_host_urls() {
    let table: &[Case] = &[
        (
            "img.example.com",
            "/demo/a.jpg",
            "demo",
            "",
            None,
            None,
            "a.jpg",
        ),
        (
            "img.example.com:8080",
            "/demo/shoes/red.jpg",
            "demo",
            "",
            None,
            None,
            "shoes/red.jpg",
        ),
        (
            "IMG.example.com",
            "/demo/product-images/x.jpg",
            "demo",
            "product-images",
            None,
            None,
            "x.jpg",
        ),
        (
            "img.example.com",
            "/demo/product-images/tr:w-400,f-auto/shoes/red.jpg",
            "demo",
            "product-images",
            Some("w-400,f-auto"),
            None,
            "shoes/red.jpg",
        ),
        (
            "img.example.com",
            "/demo/tr:w-300/test/sample.jpg",
            "demo",
            "",
            Some("w-300"),
            None,
            "test/sample.jpg",
        ),
        (
            "img.example.com",
            "/demo/test/sample.jpg?tr=w-400,h-300:rt-90",
            "demo",
            "",
            None,
            Some("w-400,h-300:rt-90"),
            "test/sample.jpg",
        ),
        (
            "img.example.com",
            "/demo/a.jpg?tr=w-300%2Ch-200%3Art-90",
            "demo",
            "",
            None,
            Some("w-300,h-200:rt-90"),
            "a.jpg",
        ),
        (
            "img.example.com",
            "/demo/tr:w-300/test/dir%20with%20space/%C3%BC.jpg",
            "demo",
            "",
            Some("w-300"),
            None,
            "test/dir with space/ü.jpg",
        ),
        // A folder that merely starts like an identifier stays a folder of the default endpoint.
        (
            "img.example.com",
            "/demo/product-images-old/x.jpg",
            "demo",
            "",
            None,
            None,
            "product-images-old/x.jpg",
        ),
        (
            "img.example.com",
            "/other/product-images/x.jpg",
            "other",
            "",
            None,
            None,
            "product-images/x.jpg",
        ),
        (
            "127.0.0.1:9000",
            "/demo/a.jpg",
            "demo",
            "",
            None,
            None,
            "a.jpg",
        ),
    ];
    for (host, target, account, identifier, ptr, qtr, file) in table {
        let r = ok(host, target);
        assert_eq!(r.account, *account, "{target}");
        assert_eq!(r.identifier, *identifier, "{target}");
        assert_eq!(r.path_transformation.as_deref(), *ptr, "{target}");
        assert_eq!(r.query_transformation.as_deref(), *qtr, "{target}");
        assert_eq!(r.file.as_str(), *file, "{target}");
    }
}

#[test]
fn routes_custom_domains() {
    let r = ok("images.example.com", "/shoes/red.jpg");
    assert_eq!((r.account.as_str(), r.identifier.as_str()), ("demo", ""));
    let r = ok("images.example.com", "/product-images/tr:w-10/red.jpg");
    assert_eq!(r.identifier, "product-images");
    assert_eq!(r.path_transformation.as_deref(), Some("w-10"));
    let r = ok("products.example.com:443", "/shoes/red.jpg");
    assert_eq!(
        (r.account.as_str(), r.identifier.as_str()),
        ("demo", "product-images")
    );
    assert_eq!(r.file.as_str(), "shoes/red.jpg");
    // On a one-to-one domain the identifier is not consumed: it is a folder name.
    let r = ok("products.example.com", "/product-images/x.jpg");
    assert_eq!(r.file.as_str(), "product-images/x.jpg");
}

#[test]
fn signed_part_is_raw_target_after_endpoint_prefix() {
    let r = ok(
        "img.example.com",
        "/demo/product-images/tr:w-300/a%20b.jpg?v=1&tr=w-3",
    );
    assert_eq!(r.signed_part, "tr:w-300/a%20b.jpg?v=1&tr=w-3");
    let r = ok("products.example.com", "/x.jpg");
    assert_eq!(r.signed_part, "x.jpg");
}

#[test]
fn signature_candidates_add_the_identifier_only_when_it_was_in_the_path() {
    let r = ok("img.example.com", "/demo/product-images/a.jpg?ik-s=00");
    assert_eq!(
        r.signature_candidates("a.jpg"),
        vec!["a.jpg".to_string(), "product-images/a.jpg".to_string()]
    );
    let r = ok("images.example.com", "/product-images/a.jpg");
    assert_eq!(r.identifier_segment.as_deref(), Some("product-images"));
    let r = ok("products.example.com", "/a.jpg");
    assert_eq!(r.signature_candidates("a.jpg"), vec!["a.jpg".to_string()]);
    let r = ok("img.example.com", "/demo/a.jpg");
    assert_eq!(r.signature_candidates("a.jpg"), vec!["a.jpg".to_string()]);
}

#[test]
fn chained_transformation_joins_path_and_query() {
    let r = ok("img.example.com", "/demo/tr:w-300/a.jpg?tr=rt-90");
    assert_eq!(r.transformation().as_deref(), Some("w-300:rt-90"));
}

#[test]
fn web_proxy_paths_keep_the_absolute_url() {
    let r = ok(
        "img.example.com",
        "/demo/tr:w-300/https://www.example.com/img.jpg",
    );
    assert_eq!(
        r.file.absolute_url(),
        Some("https://www.example.com/img.jpg")
    );
    let r = ok(
        "img.example.com",
        "/demo/https%3A%2F%2Fexample.com%2Fa%2Fb.jpg",
    );
    assert_eq!(r.file.absolute_url(), Some("https://example.com/a/b.jpg"));
    assert_eq!(
        ok("img.example.com", "/demo/a.jpg").file.absolute_url(),
        None
    );
}

#[test]
fn refuses_unknown_hosts_and_accounts() {
    assert_eq!(
        err("evil.example.com", "/demo/a.jpg"),
        RouteError::UnknownHost("evil.example.com".into())
    );
    assert_eq!(
        err("img.example.com", "/nobody/a.jpg"),
        RouteError::UnknownAccount("nobody".into())
    );
    assert!(matches!(
        err("img.example.com", "/demo/"),
        RouteError::NoFilePath
    ));
    assert!(matches!(
        err("img.example.com", "/demo"),
        RouteError::NoFilePath
    ));
    assert!(matches!(
        err("img.example.com", "/demo/product-images/"),
        RouteError::NoFilePath
    ));
}

#[test]
fn refuses_traversal_in_every_encoding() {
    let attacks = [
        "/demo/../etc/passwd",
        "/demo/a/../../b.jpg",
        "/demo/%2e%2e/secret.jpg",
        "/demo/%2E%2E%2Fsecret.jpg",
        "/demo/a%2f..%2f..%2fb.jpg",
        "/demo/%252e%252e/secret.jpg",
        "/demo/..%5csecret.jpg",
        "/demo/a\\b.jpg",
        "/demo/./a.jpg",
        "/demo//etc/passwd",
        "/demo/a%00.jpg",
        "/demo/%c0%ae%c0%ae/x.jpg",
        "/demo/tr:w-10/../x.jpg",
        "/demo/product-images/%2e%2e/x.jpg",
    ];
    for target in attacks {
        let e = err("img.example.com", target);
        assert!(matches!(e, RouteError::BadPath(_)), "{target}: {e:?}");
    }
}

#[test]
fn refuses_malformed_encoding_and_long_targets() {
    assert_eq!(
        err("img.example.com", "/demo/a%zz.jpg"),
        RouteError::BadPath(PathError::BadPercentEncoding("%zz".into()))
    );
    assert!(matches!(
        err("img.example.com", "/demo/a%2"),
        RouteError::BadPath(PathError::BadPercentEncoding(_))
    ));
    assert!(matches!(
        err("img.example.com", "/demo/a.jpg?tr=w-1%g0"),
        RouteError::BadQuery(_)
    ));
    assert!(matches!(
        err("img.example.com", "/demo/a.jpg?tr=w-1&tr=w-2"),
        RouteError::BadQuery(QueryError::Repeated(_))
    ));
    let long = format!("/demo/{}.jpg", "a".repeat(MAX_TARGET_LEN));
    assert_eq!(err("img.example.com", &long), RouteError::TooLong);
    assert_eq!(
        err("img.example.com", "/demo/tr:/a.jpg"),
        RouteError::EmptyTransformation
    );
}

#[test]
fn host_normalisation_ignores_port_and_case() {
    assert_eq!(normalise_host("Img.Example.com:8080"), "img.example.com");
    assert_eq!(normalise_host("[::1]:8080"), "[::1]");
    assert_eq!(normalise_host("example.com."), "example.com");
}

/// Any input either routes to a path with no dot segment, or is refused; never a panic.
#[test]
fn arbitrary_inputs_never_escape() {
    let pieces = [
        "/", "..", ".", "%2e", "%2f", "%", "a", "tr:w-1", "demo", "%00", "\\", "?", "é", "%c3%a9",
        "//",
    ];
    let mut state: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..20_000 {
        let mut target = String::from("/");
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            target.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        if let Ok(r) = route_target("img.example.com", &target)
            && r.file.absolute_url().is_none()
        {
            assert!(
                !r.file
                    .as_str()
                    .split('/')
                    .any(|s| s == ".." || s == "." || s.is_empty()),
                "{target}"
            );
        }
    }
}

#[test]
fn decoded_paths_are_checked_without_decoding_again() {
    let ok = FilePath::from_decoded("defaults/100% off.jpg").unwrap();
    assert_eq!(ok.as_str(), "defaults/100% off.jpg");
    assert_eq!(ok.raw(), "defaults/100%25%20off%2Ejpg");
    for bad in ["../x.jpg", "a//b.jpg", "a\\b.jpg", "a\0.jpg"] {
        assert!(FilePath::from_decoded(bad).is_err(), "{bad}");
    }
}

/// The endpoint and the `tr:` segment are chosen by their decoded form, as the file path is: an
/// escaped identifier reaches the same endpoint (and its policy), never the default endpoint.
#[test]
fn routing_segments_are_matched_decoded() {
    let r = ok("img.example.com", "/demo/%70roduct-images/a.jpg");
    assert_eq!(r.identifier, "product-images");
    assert_eq!(r.file.as_str(), "a.jpg");
    // The raw spelling stays what a signature may cover.
    assert_eq!(r.identifier_segment.as_deref(), Some("%70roduct-images"));
    let r = ok("images.example.com", "/product%2Dimages/a.jpg");
    assert_eq!(r.identifier, "product-images");
    let r = ok("img.example.com", "/demo/%74r:w-100/a.jpg");
    assert_eq!(r.path_transformation.as_deref(), Some("w-100"));
    assert_eq!(r.file.as_str(), "a.jpg");
    let r = ok("img.example.com", "/demo/tr%3Aw-100/a.jpg");
    assert_eq!(r.path_transformation.as_deref(), Some("w-100"));
    assert!(matches!(
        err("img.example.com", "/demo/%74r:/a.jpg"),
        RouteError::EmptyTransformation
    ));
    assert!(matches!(
        err("img.example.com", "/demo/%zz/a.jpg"),
        RouteError::BadPath(PathError::BadPercentEncoding(_))
    ));
}

/// On a one-to-one domain, a path whose first segment names an endpoint of the account is the
/// same signed text a client makes for that endpoint on the public host (identifier in `src`):
/// such a URL may not carry a signature. Elsewhere nothing is ambiguous.
#[test]
fn signatures_on_one_to_one_domains_may_not_start_with_an_endpoint_identifier() {
    let r = ok("products.example.com", "/product-images/a.jpg?ik-s=00");
    assert!(r.signed_text_is_ambiguous);
    assert_eq!(
        r.verify_signature("k", 0),
        Err(signature::SignatureError::Ambiguous)
    );
    let r = ok("products.example.com", "/product-images/a.jpg");
    assert_eq!(
        r.verify_signature("k", 0),
        Ok(Signed::No),
        "unsigned is fine"
    );
    for (host, target) in [
        ("products.example.com", "/other/a.jpg"),
        ("img.example.com", "/demo/product-images/a.jpg"),
        ("images.example.com", "/product-images/a.jpg"),
    ] {
        assert!(!ok(host, target).signed_text_is_ambiguous, "{host}{target}");
    }
    let text = "a.jpg";
    let good = signature::sign("k", text, signature::NEVER_EXPIRES);
    let r = ok("products.example.com", &format!("/a.jpg?ik-s={good}"));
    assert_eq!(r.verify_signature("k", 0), Ok(Signed::Valid));
}
