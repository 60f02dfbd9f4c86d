//! URL signatures, exactly as ImageKit's SDKs make them (`shared/design/imagekit-compat.md` §2.1).
//!
//! `ik-s` is the lowercase hex HMAC-SHA1, keyed with the account's private key, of the raw
//! request target after the URL endpoint prefix (query included, `ik-t`/`ik-s` removed) followed
//! by the expiry: `ik-t`, or `9999999999` when the URL has none. Verification works on the raw,
//! undecoded text in the order received; nothing is re-encoded or re-ordered.
//!
//! Pure: the caller passes the key, the candidate texts and the clock.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The expiry a URL without `ik-t` is signed with ("never").
pub const NEVER_EXPIRES: u64 = 9_999_999_999;

/// The signature parameters of a URL, split off the text they sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTarget<'a> {
    /// The target after the endpoint prefix without `ik-t`/`ik-s`: what the signature covers.
    pub unsigned: String,
    /// Raw `ik-t` value, if present.
    pub expires: Option<&'a str>,
    /// Raw `ik-s` value, if present.
    pub signature: Option<&'a str>,
}

impl SignedTarget<'_> {
    /// Whether the URL carries any signature parameter.
    pub fn is_signed(&self) -> bool {
        self.expires.is_some() || self.signature.is_some()
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("this URL must be signed (ik-s)")]
    Missing,
    #[error("ik-t is given without ik-s")]
    ExpiryWithoutSignature,
    #[error("ik-t is not a unix time: {0:?}")]
    BadExpiry(String),
    #[error("signed URL expired at {0} (ik-t)")]
    Expired(u64),
    #[error("signature (ik-s) does not match the URL")]
    Mismatch,
}

/// Splits `ik-t` and `ik-s` off a raw target (`path[?query]`), keeping every other byte and the
/// order of the remaining parameters.
pub fn split(target: &str) -> SignedTarget<'_> {
    let Some((path, query)) = target.split_once('?') else {
        return SignedTarget {
            unsigned: target.to_string(),
            expires: None,
            signature: None,
        };
    };
    let (mut expires, mut signature) = (None, None);
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("ik-t", value)) => expires = Some(value),
            Some(("ik-s", value)) => signature = Some(value),
            _ => kept.push(pair),
        }
    }
    let unsigned = if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    SignedTarget {
        unsigned,
        expires,
        signature,
    }
}

/// The `ik-s` value for `unsigned` (the target after the endpoint prefix) and `expires`.
pub fn sign(private_key: &str, unsigned: &str, expires: u64) -> String {
    hex::encode(mac(private_key, unsigned, expires).finalize().into_bytes())
}

/// Checks a signed target. `candidates` are the texts the client may have signed (the target
/// after the endpoint prefix; also with the identifier when the client put it in the path);
/// `now` is the current unix time in seconds. The comparison is constant-time.
pub fn verify(
    private_key: &str,
    target: &SignedTarget<'_>,
    candidates: &[&str],
    now: u64,
) -> Result<(), SignatureError> {
    let signature = match (target.signature, target.expires) {
        (Some(signature), _) => signature,
        (None, Some(_)) => return Err(SignatureError::ExpiryWithoutSignature),
        (None, None) => return Err(SignatureError::Missing),
    };
    let expires = match target.expires {
        None => NEVER_EXPIRES,
        Some(raw) => parse_expiry(raw)?,
    };
    if now > expires {
        return Err(SignatureError::Expired(expires));
    }
    let Ok(given) = hex::decode(signature) else {
        return Err(SignatureError::Mismatch);
    };
    let mut matched = false;
    for candidate in candidates {
        // verify_slice compares in constant time; every candidate is checked.
        matched |= mac(private_key, candidate, expires)
            .verify_slice(&given)
            .is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The text as the client most likely signed it when it put raw characters in the query that
/// every HTTP client then percent-encodes (space, `"`, `'`, `<`, `>`, non-ASCII): the Python
/// SDK adds `query_parameters` unencoded. Only those escapes are decoded, never a delimiter
/// (`&`, `=`, `+`, `#`, `%25`), so both texts mean the same request. `None` when nothing changes.
pub fn with_client_encoding_undone(unsigned: &str) -> Option<String> {
    let (path, query) = unsigned.split_once('?')?;
    let mut bytes = Vec::with_capacity(query.len());
    let raw = query.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%' && i + 2 < raw.len())
            .then(|| std::str::from_utf8(&raw[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| matches!(b, b' ' | b'"' | b'\'' | b'<' | b'>') || *b >= 0x80);
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                i += 3;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8(bytes).ok()?;
    (decoded != query).then(|| format!("{path}?{decoded}"))
}

fn parse_expiry(raw: &str) -> Result<u64, SignatureError> {
    if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::BadExpiry(raw.chars().take(32).collect()));
    }
    raw.parse()
        .map_err(|_| SignatureError::BadExpiry(raw.to_string()))
}

fn mac(private_key: &str, unsigned: &str, expires: u64) -> Hmac<Sha1> {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(private_key.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(unsigned.as_bytes());
    mac.update(expires.to_string().as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "private_test_key";

    /// The examples in imagekit-compat.md §6.1, produced by the official SDKs.
    #[test]
    fn matches_the_sdk_examples() {
        assert_eq!(
            sign(KEY, "tr:w-300/test/sample.jpg", NEVER_EXPIRES),
            "1cb6700d3cd22b72bc3ee008da56e1b251b59d2f"
        );
        assert_eq!(
            sign(KEY, "tr:w-300/a.jpg", NEVER_EXPIRES),
            "323e35f6d2f042a1ba0c94511b84587f5baae5c0"
        );
    }

    #[test]
    fn split_keeps_other_parameters_in_order() {
        let t = split("a.jpg?v=1&tr=w-300&ik-t=1795889854&ik-s=ab");
        assert_eq!(t.unsigned, "a.jpg?v=1&tr=w-300");
        assert_eq!(t.expires, Some("1795889854"));
        assert_eq!(t.signature, Some("ab"));
        let t = split("a.jpg?ik-s=ab");
        assert_eq!(t.unsigned, "a.jpg");
        assert!(t.is_signed());
        let t = split("tr:w-300/a%20b.jpg?tr=w-300%2Ch-200");
        assert_eq!(t.unsigned, "tr:w-300/a%20b.jpg?tr=w-300%2Ch-200");
        assert!(!t.is_signed());
    }

    #[test]
    fn verifies_and_refuses() {
        let unsigned = "test/sample.jpg?v=1&tr=w-300";
        let good = sign(KEY, unsigned, 2_000_000_000);
        let target = format!("{unsigned}&ik-t=2000000000&ik-s={good}");
        let parsed = split(&target);
        assert_eq!(verify(KEY, &parsed, &[unsigned], 1_900_000_000), Ok(()));
        assert_eq!(
            verify(KEY, &parsed, &[unsigned], 2_000_000_001),
            Err(SignatureError::Expired(2_000_000_000))
        );
        assert_eq!(
            verify("other_key", &parsed, &[unsigned], 0),
            Err(SignatureError::Mismatch)
        );
        let tampered_target = target.replace("w-300", "w-301");
        let tampered = split(&tampered_target);
        assert_eq!(
            verify(KEY, &tampered, &[&tampered.unsigned], 0),
            Err(SignatureError::Mismatch)
        );
        let later_target = target.replace("ik-t=2000000000", "ik-t=2000000099");
        let later = split(&later_target);
        assert_eq!(
            verify(KEY, &later, &[unsigned], 0),
            Err(SignatureError::Mismatch)
        );
        let no_sig = split("a.jpg?ik-t=2000000000");
        assert_eq!(
            verify(KEY, &no_sig, &["a.jpg"], 0),
            Err(SignatureError::ExpiryWithoutSignature)
        );
        assert_eq!(
            verify(KEY, &split("a.jpg"), &["a.jpg"], 0),
            Err(SignatureError::Missing)
        );
        let bad_t = split("a.jpg?ik-t=soon&ik-s=00");
        assert!(matches!(
            verify(KEY, &bad_t, &["a.jpg"], 0),
            Err(SignatureError::BadExpiry(_))
        ));
        let not_hex = split("a.jpg?ik-s=zz");
        assert_eq!(
            verify(KEY, &not_hex, &["a.jpg"], 0),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn undoes_only_the_encoding_http_clients_add() {
        assert_eq!(
            with_client_encoding_undone("a%20b.jpg?b=x%20y&c=%C3%BC&d=%26%3D%2B%25"),
            Some("a%20b.jpg?b=x y&c=\u{fc}&d=%26%3D%2B%25".to_string())
        );
        assert_eq!(with_client_encoding_undone("a.jpg?b=x+y&c=%26"), None);
        assert_eq!(with_client_encoding_undone("a%20b.jpg"), None);
        assert_eq!(with_client_encoding_undone("a.jpg?x=%C3"), None);
        assert_eq!(with_client_encoding_undone("a.jpg?x=%2"), None);
    }

    #[test]
    fn accepts_either_split_of_the_identifier() {
        let with_identifier = "product-images/tr:w-300/a.jpg";
        let good = sign(KEY, with_identifier, NEVER_EXPIRES);
        let target = format!("tr:w-300/a.jpg?ik-s={good}");
        let parsed = split(&target);
        assert_eq!(
            verify(KEY, &parsed, &["tr:w-300/a.jpg", with_identifier], 0),
            Ok(())
        );
        assert_eq!(
            verify(KEY, &parsed, &["tr:w-300/a.jpg"], 0),
            Err(SignatureError::Mismatch)
        );
    }
}
