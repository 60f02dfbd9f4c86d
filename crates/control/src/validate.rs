//! The one validator: the rules every change's fields follow — names, identifiers, hosts,
//! paths, tags, origin specs, transformation text, coordinates. [`crate::Control`]'s change
//! methods check through these functions before anything is written, and the config loader
//! checks a file with the same ones, so no surface can create what another would refuse.

pub use pixelway_store::Invalid;

use crate::ControlError;
use pixelway_origins::{BuildContext, OriginSpec};
use pixelway_store::{DeclaredAccount, EndpointFields};

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

/// Tags a file may carry, and the longest tag.
const MAX_TAGS: usize = 100;
const MAX_TAG_LENGTH: usize = 128;

/// Tags checked: trimmed, no empty ones, no duplicates, within the limits.
pub fn tags(tags: Vec<String>) -> Result<Vec<String>, ControlError> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_string();
        if tag.is_empty() || tag.len() > MAX_TAG_LENGTH || tag.chars().any(char::is_control) {
            return Err(ControlError::Invalid(format!(
                "tags: {tag:?} is not a tag (1-{MAX_TAG_LENGTH} characters, no control characters)"
            )));
        }
        if !clean.contains(&tag) {
            clean.push(tag);
        }
    }
    if clean.len() > MAX_TAGS {
        return Err(ControlError::Invalid(format!(
            "tags: at most {MAX_TAGS} per file"
        )));
    }
    Ok(clean)
}

/// `customCoordinates`: `x,y,width,height` in whole pixels, returned without spaces; empty:
/// none.
pub fn custom_coordinates(text: &str) -> Result<Option<String>, ControlError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if pixelway_store::parse_custom_coordinates(text).is_none() {
        return Err(ControlError::Invalid(format!(
            "customCoordinates must be x,y,width,height in whole pixels, not {text:?}"
        )));
    }
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    Ok(Some(parts.join(",")))
}

/// An origin spec that could never be built (a malformed URL, a bad key format) is refused,
/// named by the request's field. The client is built once to be sure (one change at a time).
pub fn origin_spec(spec: &OriginSpec, context: &BuildContext) -> Result<(), ControlError> {
    spec_error(spec.build(context).map(|_| ()))
}

/// [`origin_spec`] without building a client: the checks a client's build makes first, cheap
/// enough for every origin of a config file with a hundred thousand accounts.
pub fn origin_spec_fields(spec: &OriginSpec) -> Result<(), ControlError> {
    spec_error(spec.check())
}

fn spec_error(result: Result<(), pixelway_origins::SpecError>) -> Result<(), ControlError> {
    use pixelway_origins::spec::SpecError;
    match result {
        Ok(()) => Ok(()),
        Err(SpecError::Invalid { field, message }) => {
            let field = match field {
                "base_url" => "baseUrl",
                other => other,
            };
            Err(ControlError::Invalid(format!("{field}: {message}")))
        }
        Err(other) => Err(ControlError::Invalid(other.to_string())),
    }
}

/// A named transformation's text parses (its own names are not resolved: a named
/// transformation cannot use another).
pub fn transformation_text(text: &str) -> Result<(), ControlError> {
    pixelway_transform::Transformation::parse(text, &|_| None)
        .map(|_| ())
        .map_err(|e| ControlError::Invalid(format!("transformation: {e}")))
}

/// An endpoint's fields: its identifier, and its default image as a library path.
pub fn endpoint_fields(fields: &EndpointFields) -> Result<(), ControlError> {
    endpoint_identifier(&fields.identifier)
        .map_err(|e| ControlError::from(e).in_field("urlPrefix"))?;
    if let Some(path) = &fields.default_image {
        library_path(path).map_err(|e| e.in_field("defaultImage"))?;
    }
    Ok(())
}

/// A file's path in the library (`a/b.jpg`): a checked folder and file name.
pub fn library_path(path: &str) -> Result<String, ControlError> {
    let path = path.trim_start_matches('/');
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let folder = folder_path(folder)?;
    file_name(name)?;
    Ok(format!("{}{name}", &folder[1..]))
}

/// Everything an account of the config file declares: its id, its origins' names and specs,
/// its endpoints' identifiers, its named transformations' names and text.
pub fn declared_account(account: &DeclaredAccount<'_>) -> Result<(), ControlError> {
    let within = |e: ControlError| match e {
        ControlError::Invalid(message) => {
            ControlError::Invalid(format!("account {:?}: {message}", account.id))
        }
        other => other,
    };
    account_id(account.id)?;
    for (name, spec, _) in &account.origins {
        origin_name(name).map_err(|e| within(e.into()))?;
        origin_spec_fields(spec).map_err(within)?;
    }
    for (endpoint, _) in &account.endpoints {
        endpoint_identifier(&endpoint.identifier).map_err(|e| within(e.into()))?;
    }
    for (name, text, _) in &account.named_transformations {
        transformation_name(name).map_err(|e| within(e.into()))?;
        transformation_text(text).map_err(within)?;
    }
    Ok(())
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
