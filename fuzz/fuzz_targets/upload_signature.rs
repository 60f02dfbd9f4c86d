//! Fuzzes client-side upload signatures: a (token, expire) pair is signed as the SDKs sign it
//! and checked to verify; then every other way to split the same MAC input `token ‖ expire`
//! into a token and an expiry, and a fuzzer-written expiry text, are tried with the same
//! signature. Only the original pair may verify: one signature, one upload token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelway_route::upload_signature::{MAX_LIFETIME, sign, verify};

const KEY: &str = "fuzz_private_key";
const NOW: i64 = 1_764_000_000;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    // The first two bytes pick the expiry within the hour; the rest is split into the token and
    // a raw expiry text the fuzzer writes.
    let offset = i64::from(u16::from_le_bytes([data[0], data[1]])) % MAX_LIFETIME + 1;
    let rest = String::from_utf8_lossy(&data[2..]);
    let (token, raw_expire) = rest.split_once('\u{0}').unwrap_or((&rest, ""));
    let expire = (NOW + offset).to_string();
    let signature = sign(KEY, token, &expire);
    assert_eq!(verify(KEY, token, &expire, &signature, NOW), Ok(NOW + offset));

    // Every other split of the same signed text fails.
    let text = format!("{token}{expire}");
    for split in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        let (other_token, other_expire) = text.split_at(split);
        if other_token == token {
            continue;
        }
        assert!(
            verify(KEY, other_token, other_expire, &signature, NOW).is_err(),
            "{other_token:?} / {other_expire:?} verified with the signature of {token:?} / {expire:?}"
        );
    }

    // A fuzzer-written expiry that verifies is the plain decimal spelling of its number.
    let own = sign(KEY, token, raw_expire);
    if let Ok(at) = verify(KEY, token, raw_expire, &own, NOW) {
        assert_eq!(at.to_string(), raw_expire, "a second spelling of {at} verified");
    }
});
