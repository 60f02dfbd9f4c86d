//! Client-side upload signatures, as ImageKit's SDKs make them: `signature` is the lowercase hex
//! HMAC-SHA1, keyed with the account's private key, of `token` followed by `expire` (unix
//! seconds, at most an hour ahead).
//!
//! The MAC input `token ‖ expire` has no separator, so one input could be split two ways: a
//! token ending in `0` and an `expire` with a leading `0` (`…1000` / `E` and `…100` / `0E`) sign
//! the same bytes, and one signature would pass for two tokens. So `expire` must be exactly the
//! decimal digits of its number — no sign, no leading zero, no space — and within the hour ahead,
//! which pins its length: moving a digit between the token and `expire` multiplies or divides it
//! by ten, out of that hour. One MAC input, one (token, expire) pair.
//!
//! Pure: the caller passes the key, the fields as sent and the clock.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// How far ahead a signature's `expire` may lie, in seconds.
pub const MAX_LIFETIME: i64 = 3600;

/// Why an upload signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadSignatureError {
    #[error("expire must be a unix time in seconds, written as plain digits")]
    MalformedExpire,
    #[error("the upload signature has expired (expire)")]
    Expired,
    #[error("expire must be less than 1 hour in the future")]
    TooFarAhead,
    #[error("the upload signature is not valid")]
    Invalid,
}

/// The `signature` an SDK sends for `token` and `expire` (as written).
pub fn sign(private_key: &str, token: &str, expire: &str) -> String {
    hex::encode(mac(private_key, token, expire).finalize().into_bytes())
}

/// Checks a signature over `token` and `expire` exactly as sent, at unix time `now`; the expiry
/// when it holds. The comparison is constant-time.
pub fn verify(
    private_key: &str,
    token: &str,
    expire: &str,
    signature: &str,
    now: i64,
) -> Result<i64, UploadSignatureError> {
    let expires = parse_expire(expire)?;
    if expires <= now {
        return Err(UploadSignatureError::Expired);
    }
    if expires > now + MAX_LIFETIME {
        return Err(UploadSignatureError::TooFarAhead);
    }
    let given = hex::decode(signature.trim()).map_err(|_| UploadSignatureError::Invalid)?;
    mac(private_key, token, expire)
        .verify_slice(&given)
        .map_err(|_| UploadSignatureError::Invalid)?;
    Ok(expires)
}

/// `expire` as a number, when it is written as one is written: 1 to 18 ASCII digits, the first
/// not `0`.
fn parse_expire(expire: &str) -> Result<i64, UploadSignatureError> {
    let canonical = (1..=18).contains(&expire.len())
        && expire.bytes().all(|b| b.is_ascii_digit())
        && !expire.starts_with('0');
    if !canonical {
        return Err(UploadSignatureError::MalformedExpire);
    }
    expire
        .parse()
        .map_err(|_| UploadSignatureError::MalformedExpire)
}

fn mac(private_key: &str, token: &str, expire: &str) -> Hmac<Sha1> {
    let mut mac = Hmac::<Sha1>::new_from_slice(private_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(token.as_bytes());
    mac.update(expire.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "private_key";
    const NOW: i64 = 1_764_000_000;

    #[test]
    fn an_sdk_signature_verifies_and_nothing_else_does() {
        let expire = (NOW + 600).to_string();
        let signed = sign(KEY, "token-1", &expire);
        assert_eq!(verify(KEY, "token-1", &expire, &signed, NOW), Ok(NOW + 600));
        assert_eq!(
            verify(KEY, "token-2", &expire, &signed, NOW),
            Err(UploadSignatureError::Invalid)
        );
        assert_eq!(
            verify("other", "token-1", &expire, &signed, NOW),
            Err(UploadSignatureError::Invalid)
        );
        assert_eq!(
            verify(KEY, "token-1", &expire, &signed, NOW + 601),
            Err(UploadSignatureError::Expired)
        );
        let far = (NOW + MAX_LIFETIME + 1).to_string();
        let far_signed = sign(KEY, "token-1", &far);
        assert_eq!(
            verify(KEY, "token-1", &far, &far_signed, NOW),
            Err(UploadSignatureError::TooFarAhead)
        );
    }

    #[test]
    fn a_digit_cannot_move_between_the_token_and_the_expiry() {
        let expire = (NOW + 600).to_string();
        let signed = sign(KEY, "tok1000", &expire);
        assert!(verify(KEY, "tok1000", &expire, &signed, NOW).is_ok());
        let text = format!("tok1000{expire}");
        for split in 0..=text.len() {
            let (token, moved) = text.split_at(split);
            if token == "tok1000" {
                continue;
            }
            assert!(
                verify(KEY, token, moved, &signed, NOW).is_err(),
                "{token:?} / {moved:?} passed with the same signature"
            );
        }
    }

    #[test]
    fn expire_is_plain_digits_only() {
        for bad in [
            "",
            "0",
            "01764000600",
            "+1764000600",
            " 1764000600",
            "1764000600 ",
            "1e9",
        ] {
            let signed = sign(KEY, "t", bad);
            assert_eq!(
                verify(KEY, "t", bad, &signed, NOW),
                Err(UploadSignatureError::MalformedExpire),
                "{bad:?}"
            );
        }
    }
}
