//! The rules every entity's names follow, in one place: the config loader, the store's writes
//! and (later) the management API and the dashboard all check through these functions, so no
//! surface can create what another would refuse.

/// A name that breaks a rule: which field, and why, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value:?} {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// Paths the server answers itself; account ids may not shadow them.
pub const RESERVED_ACCOUNT_IDS: &[&str] = &[
    "healthz",
    "readyz",
    "metrics",
    "api",
    "v1",
    "dashboard",
    "openapi.json",
];

fn invalid(field: &'static str, value: &str, reason: &'static str) -> Invalid {
    Invalid {
        field,
        value: value.chars().take(80).collect(),
        reason,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// An account id: the first path segment of its URLs.
pub fn account_id(id: &str) -> Result<(), Invalid> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(is_name_char) {
        return Err(invalid(
            "account id",
            id,
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    if RESERVED_ACCOUNT_IDS.contains(&id) {
        return Err(invalid("account id", id, "is reserved"));
    }
    Ok(())
}

/// An endpoint identifier: one path segment of letters, digits and hyphens (empty: the default
/// endpoint).
pub fn endpoint_identifier(identifier: &str) -> Result<(), Invalid> {
    let field = "endpoint identifier";
    if identifier.len() > 64
        || !identifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(invalid(
            field,
            identifier,
            "must be up to 64 letters, digits or hyphens",
        ));
    }
    // No colon is allowed, so an identifier never looks like a `tr:` segment.
    if RESERVED_ENDPOINT_IDENTIFIERS.contains(&identifier.to_ascii_lowercase().as_str()) {
        return Err(invalid(field, identifier, "is reserved"));
    }
    Ok(())
}

/// Identifiers no endpoint may take: `default` is how the API names the default endpoint.
pub const RESERVED_ENDPOINT_IDENTIFIERS: &[&str] = &["default"];

/// An origin's name, unique within its account.
pub fn origin_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| is_name_char(c) || c == '.') {
        return Err(invalid(
            "origin name",
            name,
            "must be 1-64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

/// A named transformation's name, as used in `n-<name>`.
pub fn transformation_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(is_name_char) {
        return Err(invalid(
            "named transformation",
            name,
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    Ok(())
}

/// A custom domain: a host name (any case: it is stored in lower case), without port or
/// trailing dot.
pub fn domain_host(host: &str) -> Result<(), Invalid> {
    let field = "custom domain";
    if host.is_empty() || host.len() > 253 {
        return Err(invalid(
            field,
            host,
            "must be a host name of 1-253 characters",
        ));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !host.split('.').all(label_ok) {
        return Err(invalid(
            field,
            host,
            "must be a host name (letters, digits, hyphens, dots; no port)",
        ));
    }
    Ok(())
}

/// One segment of a Media Library path: a file name or a folder name.
fn path_segment(field: &'static str, segment: &str) -> Result<(), Invalid> {
    if segment.is_empty() || segment.len() > 255 {
        return Err(invalid(field, segment, "must be 1-255 bytes"));
    }
    if segment == "." || segment == ".." {
        return Err(invalid(field, segment, "may not be '.' or '..'"));
    }
    if segment
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(invalid(
            field,
            segment,
            "may not hold '/', '\\' or control characters",
        ));
    }
    if segment.ends_with(".pixelway-tmp") {
        return Err(invalid(field, segment, "may not end in .pixelway-tmp"));
    }
    Ok(())
}

/// A Media Library file name (no folder part).
pub fn file_name(name: &str) -> Result<(), Invalid> {
    path_segment("fileName", name)
}

/// A Media Library folder path, normalised to `/a/b/` (the root: `/`). Accepts it with or
/// without the leading and trailing slash.
pub fn folder_path(path: &str) -> Result<String, Invalid> {
    const MAX_DEPTH: usize = 32;
    if path.len() > 1024 {
        return Err(invalid("folder", path, "must be at most 1024 bytes"));
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > MAX_DEPTH {
        return Err(invalid("folder", path, "is nested more than 32 deep"));
    }
    if path.contains("//") {
        return Err(invalid(
            "folder",
            path,
            "may not hold an empty segment ('//')",
        ));
    }
    for segment in &segments {
        path_segment("folder", segment)?;
    }
    Ok(if segments.is_empty() {
        "/".to_string()
    } else {
        format!("/{}/", segments.join("/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_their_rules() {
        for ok in ["demo", "acme_2", "a-b"] {
            assert_eq!(account_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/b", "dashboard", "v1", "x".repeat(65).as_str(), "ü"] {
            assert!(account_id(bad).is_err(), "{bad}");
        }
        assert_eq!(endpoint_identifier(""), Ok(()));
        assert_eq!(endpoint_identifier("product-images"), Ok(()));
        for bad in ["tr:w-1", "a_b", "a/b", "a b", "default", "Default"] {
            assert!(endpoint_identifier(bad).is_err(), "{bad}");
        }
        assert_eq!(origin_name("s3.backup-1"), Ok(()));
        assert!(origin_name("").is_err());
        assert!(origin_name("a/b").is_err());
        assert_eq!(transformation_name("thumb-200"), Ok(()));
        assert!(transformation_name("w-100,h-2").is_err());
        for ok in [
            "img.example.com",
            "Img.Example.com",
            "localhost",
            "a-1.test",
        ] {
            assert_eq!(domain_host(ok), Ok(()), "{ok}");
        }
        for bad in [
            "a_b.test",
            "img.example.com:8080",
            "-a.test",
            "a..b",
            "",
            "a.test.",
        ] {
            assert!(domain_host(bad).is_err(), "{bad}");
        }
        assert_eq!(folder_path("a/b").unwrap(), "/a/b/");
        assert_eq!(folder_path("/a/b/").unwrap(), "/a/b/");
        assert_eq!(folder_path("").unwrap(), "/");
        assert_eq!(folder_path("/").unwrap(), "/");
        for bad in ["/a/../b", "a//b", "/./", "a\\b", "a\u{0}b"] {
            assert!(folder_path(bad).is_err(), "{bad}");
        }
        assert_eq!(file_name("red shoe ü.jpg"), Ok(()));
        for bad in ["", "..", "a/b.jpg", "x.pixelway-tmp", "a\nb"] {
            assert!(file_name(bad).is_err(), "{bad}");
        }
        let err = account_id("dashboard").unwrap_err();
        assert_eq!(err.to_string(), "account id \"dashboard\" is reserved");
    }
}
