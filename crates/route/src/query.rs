//! The query string of a delivery URL, parsed into ordered, decoded pairs.

use percent_encoding::percent_decode_str;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("invalid percent-encoding in query parameter {0:?}")]
    BadPercentEncoding(String),
    #[error("query parameter {0:?} is given twice")]
    Repeated(String),
}

/// Parameters whose repetition would make the request ambiguous.
const SINGLE_VALUED: &[&str] = &["tr", "ik-s", "ik-t", "ik-debug", "ik-attachment"];

/// Decoded query parameters, in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=2` (`+` means space, as in forms; the legacy SDK percent-encodes `tr`).
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(key)?;
            let value = decode(value)?;
            if SINGLE_VALUED.contains(&key.as_str()) && pairs.iter().any(|(k, _)| *k == key) {
                return Err(QueryError::Repeated(key));
            }
            pairs.push((key, value));
        }
        Ok(Self { pairs })
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

fn decode(raw: &str) -> Result<String, QueryError> {
    let spaced = raw.replace('+', " ");
    if crate::path::bad_escape_at(&spaced).is_some() {
        return Err(QueryError::BadPercentEncoding(raw.to_string()));
    }
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| QueryError::BadPercentEncoding(raw.to_string()))
}
