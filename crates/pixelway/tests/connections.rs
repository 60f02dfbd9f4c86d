//! Connections no client can hold for free (security round 2, finding 4): a client that sends
//! nothing, half a header, or keeps an HTTP/1.1 or h2c connection idle is closed after the
//! configured timeouts; with more idle clients than `server.max_connections`, a real request is
//! still served once the idle ones are closed; the process runs with its file-descriptor limit
//! raised to the hard limit.

use pixelway_testkit::{Pixelway, http_client};
use reqwest::StatusCode;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const CONFIG: &str = r#"
[server]
header_read_timeout = "1s"
idle_timeout = "2s"
max_connections = 8

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#;

const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn start() -> Pixelway {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("demo", "cups.jpg", CUPS);
    server
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
fn read_until_closed(mut stream: TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return (received, started.elapsed()),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            // A reset also means the server closed it.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (received, started.elapsed());
            }
            Err(e) => panic!(
                "still open after {:?} ({e}); received {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&received)
            ),
        }
    }
}

#[test]
fn silent_partial_and_idle_http1_connections_are_closed() {
    let server = start();
    let limit = Duration::from_secs(8);
    // Nothing at all.
    let silent = TcpStream::connect(server.addr).unwrap();
    let (_, after) = read_until_closed(silent, limit);
    assert!(
        after < Duration::from_secs(4),
        "silent client held {after:?}"
    );
    // Half a request head.
    let mut partial = TcpStream::connect(server.addr).unwrap();
    partial
        .write_all(b"GET /demo/cups.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    let (_, after) = read_until_closed(partial, limit);
    assert!(
        after < Duration::from_secs(4),
        "partial head held {after:?}"
    );
    // A whole request, then an idle keep-alive connection.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.write_all(b"GET /demo/cups.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let (received, after) = read_until_closed(idle, limit);
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &received[..20]
    );
    assert!(
        after < Duration::from_secs(4),
        "idle keep-alive held {after:?}"
    );
}

#[test]
fn idle_h2c_connections_are_closed() {
    let server = start();
    let mut h2 = TcpStream::connect(server.addr).unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing.
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    h2.write_all(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]).unwrap();
    let (received, after) = read_until_closed(h2, Duration::from_secs(10));
    assert!(after < Duration::from_secs(5), "idle h2c held {after:?}");
    // The server spoke HTTP/2 (a SETTINGS frame first) and said goodbye (GOAWAY, type 7).
    assert!(received.len() >= 9 && received[3] == 0x4, "{received:?}");
    assert!(
        received
            .windows(4)
            .any(|w| w[3] == 0x7 && w[0..3] == [0, 0, 8]),
        "no GOAWAY in {received:?}"
    );
}

#[tokio::test]
async fn more_idle_clients_than_the_cap_do_not_stop_service() {
    let server = start();
    // Three times the cap, all silent.
    let idle: Vec<TcpStream> = (0..24)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    let started = Instant::now();
    let response = http_client()
        .get(server.url("/demo/cups.jpg"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served while idle clients wait");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap()[..], CUPS[..]);
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(idle);
}

#[test]
fn the_file_descriptor_limit_is_raised_to_the_hard_limit() {
    // Started as on a host whose soft limit is 256 (the hard limit as this machine has it).
    let server = Pixelway::start_with_fd_limit(BIN, Some(CONFIG), 256);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    // "Max open files  <soft>  <hard>  files"
    let (soft, hard) = (fields[3], fields[4]);
    assert_eq!(soft, hard, "{line}");
    if hard != "256" {
        assert_ne!(soft, "256", "{line}");
    }
}
