//! Wrong guesses cannot lock the real owner out of the dashboard (security round 3, finding 7),
//! through the real binary, with clients on distinct loopback addresses: a network that keeps
//! guessing waits longer and longer and is refused for that account, while the owner (or the
//! operator) with the right key from another address always signs in.

use pixelway_testkit::Pixelway;
use reqwest::StatusCode;
use std::net::IpAddr;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const CONFIG: &str = r#"
[server]
admin_token = "operator-token-for-limits"

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#;

fn at(last: u8) -> IpAddr {
    [127, 0, 0, last].into()
}

/// Guesses `key` for `account` from `from` until the server makes that network wait (429);
/// how many guesses were answered 401 first.
async fn guess_until_refused(server: &Pixelway, from: IpAddr, account: Option<&str>) -> usize {
    for answered in 0..50 {
        match server.sign_in_from(from, account, "a-wrong-guess").await {
            Err(StatusCode::UNAUTHORIZED) => continue,
            Err(StatusCode::TOO_MANY_REQUESTS) => return answered,
            other => panic!("unexpected answer to a wrong key: {:?}", other.map(|_| ())),
        }
    }
    panic!("50 wrong guesses and never refused");
}

#[tokio::test]
async fn guesses_from_one_network_never_lock_the_owner_out() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    for (who, key, guesser, owner) in [
        (Some("demo"), "private_demo_key", at(10), at(11)),
        (None, "operator-token-for-limits", at(20), at(21)),
    ] {
        let answered = guess_until_refused(&server, guesser, who).await;
        assert!(
            (1..10).contains(&answered),
            "{answered} guesses before the wait"
        );
        // The guessing network waits, even with the right key.
        assert_eq!(
            server.sign_in_from(guesser, who, key).await.unwrap_err(),
            StatusCode::TOO_MANY_REQUESTS
        );
        // Anyone else with the right key signs in at once.
        server
            .sign_in_from(owner, who, key)
            .await
            .expect("the right key from a clean address signs in");
    }
}
