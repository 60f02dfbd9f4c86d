//! File paths in delivery URLs: percent-decoding and the checks that keep every origin inside
//! its root (no `..` in any encoding, no NUL, no backslashes, valid UTF-8).

use percent_encoding::percent_decode_str;
use std::borrow::Cow;
use std::fmt;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path must start with '/'")]
    NotAbsolute,
    #[error("invalid percent-encoding in {0:?}")]
    BadPercentEncoding(String),
    #[error("path is not valid UTF-8")]
    NotUtf8,
    #[error("'.' or '..' segments are not allowed")]
    DotSegment,
    #[error("NUL or control characters are not allowed")]
    ControlCharacter,
    #[error("backslashes are not allowed")]
    Backslash,
    #[error("empty path segment ('//') is not allowed")]
    EmptySegment,
}

/// A checked, decoded file path, relative (no leading '/'), e.g. `shoes/red shoe.jpg`.
///
/// When the path is an absolute URL (the Web Proxy form, `https://host/x.jpg` or
/// `https%3A%2F%2Fhost%2Fx.jpg`), [`FilePath::absolute_url`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilePath {
    decoded: String,
    raw: String,
}

impl FilePath {
    /// Decodes and checks the raw (percent-encoded) path remainder of a URL.
    pub fn from_raw(raw: &str) -> Result<Self, PathError> {
        let decoded = decode_segment(raw)?;
        if looks_like_url(&decoded) {
            // Web Proxy form: the origin parses the URL; only control characters are refused here.
            if decoded.chars().any(char::is_control) {
                return Err(PathError::ControlCharacter);
            }
        } else {
            check_relative(&decoded)?;
        }
        Ok(Self {
            decoded: decoded.into_owned(),
            raw: raw.to_string(),
        })
    }

    /// Checks a path that is already decoded (a configured Media Library path, say).
    pub fn from_decoded(path: &str) -> Result<Self, PathError> {
        check_relative(path)?;
        let raw = percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2F", "/");
        Ok(Self {
            decoded: path.to_string(),
            raw,
        })
    }

    /// The decoded path, without a leading '/'.
    pub fn as_str(&self) -> &str {
        &self.decoded
    }

    /// The path as it appeared in the URL (percent-encoded as the client sent it).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The absolute URL when this path is in Web Proxy form.
    pub fn absolute_url(&self) -> Option<&str> {
        looks_like_url(&self.decoded).then_some(self.decoded.as_str())
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decoded)
    }
}

fn looks_like_url(decoded: &str) -> bool {
    let starts_with = |prefix: &str| {
        decoded
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    starts_with("http://") || starts_with("https://")
}

/// Percent-decodes one piece of a URL, refusing malformed escapes and invalid UTF-8.
/// Borrows `raw` when it has nothing to decode.
pub(crate) fn decode_segment(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if let Some(i) = bad_escape_at(raw) {
        let shown = raw.get(i..(i + 3).min(raw.len())).unwrap_or("%");
        return Err(PathError::BadPercentEncoding(shown.to_string()));
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PathError::NotUtf8)
}

/// The byte offset of the first `%` not followed by two hex digits.
pub(crate) fn bad_escape_at(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    bytes.iter().enumerate().position(|(i, b)| {
        *b == b'%'
            && !(bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit())
    })
}

/// Checks a decoded relative path: every segment must be a plain name.
fn check_relative(decoded: &str) -> Result<(), PathError> {
    if decoded.contains('\\') {
        return Err(PathError::Backslash);
    }
    if decoded.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    for segment in decoded.split('/') {
        if segment.is_empty() {
            return Err(PathError::EmptySegment);
        }
        if is_dot_segment(segment) {
            return Err(PathError::DotSegment);
        }
        // A second decoding must not produce a dot segment either: some origins (web servers,
        // proxies in front of buckets) decode again.
        if segment.contains('%')
            && let Ok(twice) = percent_decode_str(segment).decode_utf8()
            && (is_dot_segment(&twice) || twice.contains('/') || twice.contains('\\'))
            && twice != segment
        {
            return Err(PathError::DotSegment);
        }
    }
    Ok(())
}

fn is_dot_segment(segment: &str) -> bool {
    segment == "." || segment == ".."
}
