//! URL signatures, exactly as ImageKit's SDKs make them (docs/security.md, "Signed URLs").
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
    /// `ik-t` or `ik-s` appeared more than once (refused: one URL, one signature).
    pub repeated: bool,
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
    #[error("ik-t must be a unix time of exactly ten digits: {0:?}")]
    BadExpiry(String),
    #[error("signed URL expired at {0} (ik-t)")]
    Expired(u64),
    #[error("signature (ik-s) does not match the URL")]
    Mismatch,
    #[error("ik-t or ik-s is given more than once")]
    Repeated,
    #[error(
        "a signed URL on this domain may not start with a folder named like one of the account's endpoints: the same signature would open that endpoint's file on the public host"
    )]
    Ambiguous,
}

/// Splits `ik-t` and `ik-s` off a raw target (`path[?query]`), keeping every other byte and the
/// order of the remaining parameters.
pub fn split(target: &str) -> SignedTarget<'_> {
    let Some((path, query)) = target.split_once('?') else {
        return SignedTarget {
            unsigned: target.to_string(),
            expires: None,
            signature: None,
            repeated: false,
        };
    };
    let (mut expires, mut signature, mut repeated) = (None, None, false);
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        let slot = match pair.split_once('=') {
            Some(("ik-t", value)) => Some((&mut expires, value)),
            Some(("ik-s", value)) => Some((&mut signature, value)),
            _ => None,
        };
        match slot {
            Some((slot, value)) => repeated |= slot.replace(value).is_some(),
            None => kept.push(pair),
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
        repeated,
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
    if target.repeated {
        return Err(SignatureError::Repeated);
    }
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

/// Digits in an `ik-t`: ImageKit's SDKs write a unix time in seconds, ten digits until 2286.
pub const EXPIRY_DIGITS: usize = 10;

/// `ik-t` must be exactly [`EXPIRY_DIGITS`] ASCII digits. The MAC input is the signed text
/// directly followed by the expiry, so a variable-length expiry would let digits move between
/// the end of the path and the front of `ik-t` without changing the MAC (`img12` + `9999999999`
/// = `img1` + `29999999999`). With a fixed width, the last ten characters of the MAC input are
/// always the expiry and everything before them the signed text.
fn parse_expiry(raw: &str) -> Result<u64, SignatureError> {
    if raw.len() != EXPIRY_DIGITS || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::BadExpiry(raw.chars().take(32).collect()));
    }
    raw.parse()
        .map_err(|_| SignatureError::BadExpiry(raw.to_string()))
}

fn mac(private_key: &str, unsigned: &str, expires: u64) -> Hmac<Sha1> {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(private_key.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(unsigned.as_bytes());
    // Zero-padded to the fixed width: an expiry is never a different number of digits.
    mac.update(format!("{expires:0width$}", width = EXPIRY_DIGITS).as_bytes());
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
        let good = sign(KEY, "a.jpg", NEVER_EXPIRES);
        let twice = format!("a.jpg?ik-s={good}&ik-s={good}");
        assert_eq!(
            verify(KEY, &split(&twice), &["a.jpg"], 0),
            Err(SignatureError::Repeated)
        );
    }

    /// Digits cannot move between the end of the signed text and the front of `ik-t`: the
    /// forgeries found in the second security round, both directions, with and without expiry.
    #[test]
    fn digits_cannot_shift_between_path_and_expiry() {
        // Never-expiring `img12` → `img1` with `ik-t=29999999999` (same MAC input).
        let sig = sign(KEY, "img12", NEVER_EXPIRES);
        let forged = format!("img1?ik-t=29999999999&ik-s={sig}");
        assert!(matches!(
            verify(KEY, &split(&forged), &["img1"], 0),
            Err(SignatureError::BadExpiry(_))
        ));
        // Expired `w-250` + `1795976002` → `w-2` + `501795976002` (far future).
        let sig = sign(KEY, "cups.jpg?tr=w-250", 1_795_976_002);
        let forged = format!("cups.jpg?tr=w-2&ik-t=501795976002&ik-s={sig}");
        assert!(matches!(
            verify(KEY, &split(&forged), &["cups.jpg?tr=w-2"], 0),
            Err(SignatureError::BadExpiry(_))
        ));
        // The other direction: a digit moved from `ik-t` onto the path, shorter expiry.
        let sig = sign(KEY, "img1", 2_000_000_000);
        let forged = format!("img12?ik-t=000000000&ik-s={sig}");
        assert!(matches!(
            verify(KEY, &split(&forged), &["img12"], 0),
            Err(SignatureError::BadExpiry(_))
        ));
        // And with a ten-digit expiry on both sides the MAC no longer matches.
        let forged = format!("img12?ik-t=0000000000&ik-s={sig}");
        assert_eq!(
            verify(KEY, &split(&forged), &["img12"], 0),
            Err(SignatureError::Mismatch)
        );
        for bad in [
            "",
            "1",
            "999999999",
            "99999999999",
            "+999999999",
            " 999999999",
            "99999999 9",
        ] {
            let target = format!(
                "a.jpg?ik-t={bad}&ik-s={}",
                sign(KEY, "a.jpg", NEVER_EXPIRES)
            );
            assert!(
                matches!(
                    verify(KEY, &split(&target), &["a.jpg"], 0),
                    Err(SignatureError::BadExpiry(_))
                ),
                "ik-t={bad:?} must be refused"
            );
        }
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
