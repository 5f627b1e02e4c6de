//! Limits and timeouts against hostile clients, mostly over raw sockets: slow,
//! silent or idle connections cannot hold the server, oversized heads get a clear
//! 4xx, and a slow request gets an answer that says what happened.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::*;

/// One second for heads and requests, two of idling, and room for four connections.
fn start_tight() -> Server {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("limits.toml");
    std::fs::write(
        &config,
        format!(
            "sites = [\"example.test\"]\n\n[limits]\nheader_read_timeout_secs = 1\n\
             request_timeout_secs = 1\nidle_timeout_secs = 2\nmax_connections = 4\nmax_headers = 16\n\n\
             [[api_keys]]\nname = \"k\"\nhash = \"{}\"\n",
            blake3::hash(b"key").to_hex()
        ),
    )
    .expect("config");
    start_in(dir, &["--config", &config.display().to_string()])
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.url.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    stream
}

/// Reads until the server closes (or 8 s pass): what it sent, and how long it took.
fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn silent_and_slow_clients_cannot_hold_the_server() {
    let server = start_tight();

    // A connection that never sends a byte is closed after the header timeout.
    let (sent, took) = read_until_closed(&mut connect(&server));
    assert!(
        sent.is_empty() && took < Duration::from_secs(4),
        "{sent:?} {took:?}"
    );

    // As many silent connections as the cap allows do not shut out a real visitor.
    let silent: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    let mut visitor = connect(&server);
    visitor
        .write_all(b"GET /p.gif HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        .expect("send");
    let (answer, took) = read_until_closed(&mut visitor);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("image/gif") && took < Duration::from_secs(5),
        "{took:?}"
    );
    drop(silent);

    // Headers dribbled a line at a time: cut off at the header timeout.
    let mut slowloris = connect(&server);
    slowloris
        .write_all(b"GET /p.gif HTTP/1.1\r\nHost: example.test\r\n")
        .expect("send");
    let started = Instant::now();
    let cut = (0..30).any(|i| {
        std::thread::sleep(Duration::from_millis(300));
        slowloris
            .write_all(format!("X-{i}: y\r\n").as_bytes())
            .is_err()
    });
    assert!(
        cut,
        "a dribbling client held its connection for {:?}",
        started.elapsed()
    );

    // HTTP/2 with prior knowledge, then silence (no answer to pings): dropped.
    let mut h2 = connect(&server);
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .expect("send");
    let (_, took) = read_until_closed(&mut h2);
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Stopped inside the HTTP/2 preface, before hyper's own timeouts apply.
    let mut partial = connect(&server);
    partial.write_all(b"PRI * HT").expect("send");
    let (_, took) = read_until_closed(&mut partial);
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn idle_http2_clients_give_their_place_back() {
    let server = start_tight();
    // As many HTTP/2 clients as the cap allows, each done with its one request and
    // idling: their pings are answered, so only the idle timeout can free a place.
    let mut idlers = Vec::new();
    for _ in 0..4 {
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .pool_idle_timeout(Duration::from_secs(600))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let answer = client
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .expect("h2 request");
        assert_eq!(answer.version(), reqwest::Version::HTTP_2);
        assert!(answer.status().is_success());
        idlers.push(client);
    }
    let started = Instant::now();
    let pixel = Server::client()
        .get(format!("{}/p.gif", server.url))
        .header("host", "example.test")
        .send()
        .await
        .expect("a visitor is served once an idle connection is closed");
    assert_eq!(pixel.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(idlers);
}

#[test]
fn a_silent_connection_does_not_delay_shutdown() {
    let server = start(&[]);
    let _silent = connect(&server);
    // Before, the server waited out its 5 s grace for it, and said so.
    let stopped = server.stop();
    assert!(
        !stopped.output.contains("did not finish"),
        "{}",
        stopped.output
    );
}

#[test]
fn slow_and_oversized_requests_get_a_clear_answer() {
    let server = start_tight();
    let ask = |request: &[u8]| {
        let mut stream = connect(&server);
        stream.write_all(request).expect("send");
        read_until_closed(&mut stream).0
    };

    // A body that stops arriving: 408 on the event API...
    let answer = ask(
        b"POST /api/event HTTP/1.1\r\nHost: example.test\r\nContent-Type: text/plain\r\n\
                       Content-Length: 100\r\nConnection: close\r\n\r\n{\"n\":",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // ...and a JSON 503 that says why on the Stats API (a slow query looks the same).
    let answer = ask(
        b"POST /api/v2/query HTTP/1.1\r\nHost: example.test\r\nAuthorization: Bearer key\r\n\
                       Content-Length: 100\r\nConnection: close\r\n\r\n{\"site_id\":",
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"No answer within 1 s"#),
        "{answer}"
    );

    // Too many headers, or one too large: 431 before any routing.
    let many: String = (0..40).map(|i| format!("X-{i}: y\r\n")).collect();
    let answer = ask(format!("GET /p.gif HTTP/1.1\r\nHost: example.test\r\n{many}\r\n").as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let huge = "a".repeat(70_000);
    let answer = ask(
        format!("GET /p.gif HTTP/1.1\r\nHost: example.test\r\nX-Big: {huge}\r\n\r\n").as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // Not HTTP at all: a 400, and the server goes on.
    let answer = ask(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    let answer = ask(b"GET /healthz HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Request bodies held in memory, all requests together, stay within
/// `limits.max_buffered_body_bytes`: while one slow sender holds most of it, the
/// next body that would not fit is answered 503 at once instead of being read;
/// once the first is done, the next fits.
#[test]
fn bodies_in_memory_stay_within_the_budget() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("budget.toml");
    std::fs::write(
        &config,
        "sites = [\"example.test\"]\n\n[limits]\nmax_body_bytes = 16000\nmax_buffered_body_bytes = 20000\n",
    )
    .expect("config");
    let server = start_in(dir, &["--config", &config.display().to_string()]);
    let head = |len: usize| {
        format!(
            "POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: {UA_DESKTOP}\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    let body = format!(
        r#"{{"name":"pageview","url":"http://example.test/budget","domain":"example.test"}}{}"#,
        " ".repeat(15_000)
    );
    // A slow sender: its head says 15 kB are coming, and they are not, yet.
    let mut slow = connect(&server);
    slow.write_all(head(body.len()).as_bytes()).expect("head");
    std::thread::sleep(Duration::from_millis(300));
    let mut next = connect(&server);
    next.write_all(head(body.len()).as_bytes()).expect("head");
    let (answer, took) = read_until_closed(&mut next);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The slow body arrives and is taken; then there is room again.
    slow.write_all(body.as_bytes()).expect("body");
    let (answer, _) = read_until_closed(&mut slow);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let mut after = connect(&server);
    after.write_all(head(body.len()).as_bytes()).expect("head");
    after.write_all(body.as_bytes()).expect("body");
    let (answer, _) = read_until_closed(&mut after);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
}
