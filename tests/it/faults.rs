//! Faults under load: SIGTERM and `kill -9` while hits stream in, a disk
//! that fills up and empties again, and clients guessing Stats API keys. Each test
//! runs the real binary against a real DuckDB file.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::*;

const SITE: &str = "example.test";

/// A path made of letters only (the page minimiser keeps letters as they are).
fn path(task: usize, i: usize) -> String {
    let mut name = String::new();
    let mut n = i;
    loop {
        name.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    format!("/load/{}/{name}", char::from(b'a' + task as u8))
}

/// Streams pageviews from `tasks` concurrent clients until `stop` is set; returns
/// the paths whose event the collector acknowledged as stored-to-be (202 without
/// a drop header) and how many requests were sent.
async fn stream(url: String, tasks: usize, stop: Arc<AtomicBool>) -> (HashSet<String>, usize) {
    let client = Server::client();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                let p = path(task, sent);
                sent += 1;
                let body =
                    format!(r#"{{"name":"pageview","url":"http://{SITE}{p}","domain":"{SITE}"}}"#);
                let resp = client
                    .post(format!("{url}/api/event"))
                    .header("user-agent", UA_FIREFOX)
                    .header("content-type", "text/plain")
                    .body(body)
                    .send()
                    .await;
                match resp {
                    Ok(r)
                        if r.status() == 202
                            && r.headers().get("x-spoorloos-dropped").is_none() =>
                    {
                        accepted.push(p)
                    }
                    Ok(_) => {}
                    // The collector went away (the test stopped or killed it).
                    Err(_) => break,
                }
            }
            (accepted, sent)
        }));
    }
    let mut accepted = HashSet::new();
    let mut sent = 0;
    for h in handles {
        let (a, s) = h.await.expect("join");
        accepted.extend(a);
        sent += s;
    }
    (accepted, sent)
}

fn stored_paths(stopped: &Stopped) -> HashSet<String> {
    stopped
        .rows("SELECT pathname FROM events")
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect()
}

type Load = tokio::task::JoinHandle<(HashSet<String>, usize)>;

/// A collector with 8 clients streaming at it, once 500 events are stored; set the
/// flag to stop the clients.
async fn under_load() -> (Server, Arc<AtomicBool>, Load) {
    let server = start(&["--site", SITE]);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(stream(server.url.clone(), 8, stop.clone()));
    server.wait_stored(500).await;
    (server, stop, load)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_accepted() {
    let (server, stop, load) = under_load().await;
    // SIGTERM while the clients are still sending.
    let stopped = tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("join");
    stop.store(true, Ordering::Relaxed);
    let (accepted, sent) = load.await.expect("join");
    let stored = stored_paths(&stopped);
    assert!(accepted.len() >= 500, "only {} accepted", accepted.len());
    let lost: Vec<_> = accepted.difference(&stored).take(5).collect();
    assert!(
        lost.is_empty(),
        "{} of {} accepted events lost, e.g. {lost:?}",
        accepted.difference(&stored).count(),
        accepted.len()
    );
    assert!(
        stored.len() <= sent,
        "{} stored of {sent} sent",
        stored.len()
    );
}

/// A request still sending its body when the collector is told to stop, finishing
/// only after the shutdown grace (5 s): it is never answered 202 unless its event is
/// in the file (at that point the writer has drained: it gets 503, or the closed
/// connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_straggler_after_sigterm_is_never_acknowledged_unwritten() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(&["--site", SITE]);
    let body = format!(r#"{{"n":"pageview","u":"http://{SITE}/stragglerzq","d":"{SITE}"}}"#);
    let (first, rest) = body.split_at(10);
    let mut conn = tokio::net::TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/event HTTP/1.1\r\nHost: {SITE}\r\nContent-Type: application/json\r\n\
         User-Agent: {UA_DESKTOP}\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let _ = conn.write_all(rest.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let stopped = tokio::task::spawn_blocking(move || server.wait_exit())
        .await
        .expect("join");
    let stored = stopped.rows("SELECT count(*) FROM events WHERE pathname = '/stragglerzq'");
    assert!(
        !answer.starts_with("HTTP/1.1 202") || stored == [["BigInt(1)"]],
        "acknowledged, not stored: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_keeps_everything_flushed_and_the_file_opens() {
    let (server, stop, load) = under_load().await;
    let flushed = metric(&server.metrics().await, "spoorloos_events_stored_total");
    assert!(flushed >= 500.0);
    // A crash while the clients are still sending: no drain, no checkpoint.
    let dir = server.kill();
    stop.store(true, Ordering::Relaxed);
    load.await.expect("join");

    // The file opens (DuckDB replays its WAL) and a restarted collector serves.
    let restarted = start_in(dir, &["--site", SITE]);
    let resp = restarted.get("/p.gif", UA_FIREFOX, &[]).await;
    assert_eq!(resp.status(), 200);
    let stopped = restarted.stop();
    let stored = stored_paths(&stopped);
    // Everything written before the last flush we saw is there; what was accepted
    // after it may be lost (the window: one flush interval plus the queue).
    assert!(
        stored.len() as f64 >= flushed,
        "{} stored after the crash, {flushed} flushed before it",
        stored.len()
    );
    assert!(
        !stopped.output.contains("panicked"),
        "restart output: {}",
        stopped.output
    );
}

/// A small tmpfs mounted on a temp dir (root only; `None` where mounting is not
/// allowed), unmounted on drop.
struct SmallDisk {
    dir: Option<tempfile::TempDir>,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<(Self, tempfile::TempDir)> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        // The collector's directory lives on the tmpfs; the guard unmounts it.
        let inner = tempfile::tempdir_in(dir.path()).ok()?;
        Some((Self { dir: Some(dir) }, inner))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::process::Command::new("umount")
                .args(["-l"])
                .arg(dir.path())
                .status();
        }
    }
}

/// Fills the file system holding `dir` until a write fails; returns the filler.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.flush();
    filler
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_keeps_the_endpoint_answering_and_writing_resumes() {
    let Some((_disk, dir)) = SmallDisk::mount(64) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let server = start_in(dir, &["--site", SITE]);
    let filler = fill(server.dir.path());

    // Hits keep coming while nothing can be written.
    let mut sent = Vec::new();
    for i in 0..200 {
        let p = path(0, i);
        let body = format!(r#"{{"name":"pageview","url":"http://{SITE}{p}","domain":"{SITE}"}}"#);
        let resp = server.event(&body, UA_FIREFOX, &[]).await;
        assert_eq!(resp.status(), 202);
        sent.push(p);
    }
    let pixel = server
        .get(
            "/p.gif?u=http%3A%2F%2Fexample.test%2Fpixel",
            UA_FIREFOX,
            &[],
        )
        .await;
    assert_eq!(pixel.status(), 200);
    assert_eq!(pixel.bytes().await.expect("gif").len(), 43);
    sent.push("/pixel".into());

    // The failure is visible in /metrics.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut m = server.metrics().await;
    while metric(&m, "spoorloos_store_write_errors_total") < 1.0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        m = server.metrics().await;
    }
    assert!(
        metric(&m, "spoorloos_store_write_errors_total") >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "spoorloos_store_retry_pending") >= 1.0, "{m}");
    assert_eq!(metric(&m, "spoorloos_hits_accepted_total"), 201.0, "{m}");
    // Readiness says so while the store refuses writes.
    let health = server.get("/healthz", "test", &[]).await;
    assert_eq!(health.status(), 503);

    // Space returns: the held events are written, none lost.
    std::fs::remove_file(&filler).expect("remove filler");
    server.wait_stored(201).await;
    let m = server.metrics().await;
    assert_eq!(metric(&m, "spoorloos_events_stored_total"), 201.0, "{m}");
    assert_eq!(metric(&m, "spoorloos_store_retry_pending"), 0.0, "{m}");
    assert_eq!(server.get("/healthz", "test", &[]).await.status(), 200);
    let stopped = server.stop();
    let stored = stored_paths(&stopped);
    for p in &sent {
        assert!(stored.contains(p), "{p} lost; stored {stored:?}");
    }
    assert!(
        stopped.output.contains("writing resumed"),
        "{}",
        stopped.output
    );
}

/// A salt rotation at midnight on a full disk: the new salt cannot be stored (and
/// when DuckDB fails in a checkpoint, the error is fatal: the database refuses
/// every write until reopened, which the writer does). Once space is back the held
/// hits and the new salts are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_database_error_on_a_full_disk_is_recovered_from() {
    let Some((_disk, dir)) = SmallDisk::mount(64) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let server = start_in(
        dir,
        &["--site", SITE, "--clock-start", "2026-03-01T23:59:58Z"],
    );
    // Let start-up store the first salts, then fill the disk before midnight.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let filler = fill(server.dir.path());
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut sent = Vec::new();
    for i in 0..20 {
        let p = path(1, i);
        let body = format!(r#"{{"name":"pageview","url":"http://{SITE}{p}","domain":"{SITE}"}}"#);
        assert_eq!(server.event(&body, UA_FIREFOX, &[]).await.status(), 202);
        sent.push(p);
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    std::fs::remove_file(&filler).expect("remove filler");
    server.wait_stored(20).await;
    let stopped = server.stop();
    let stored = stored_paths(&stopped);
    for p in &sent {
        assert!(
            stored.contains(p),
            "{p} lost; stored {stored:?}\n{}",
            stopped.output
        );
    }
    // The new day's salt reached the file too.
    let days = stopped.rows("SELECT CAST(day AS VARCHAR) FROM salts ORDER BY day");
    assert!(
        days.iter().flatten().any(|d| d == "2026-03-02"),
        "{days:?}\n{}",
        stopped.output
    );
}

#[tokio::test]
async fn wrong_api_keys_are_rate_limited_per_client() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("keys.toml");
    std::fs::write(
        &config,
        format!(
            "sites = [\"{SITE}\"]\ntrusted_proxies = [\"127.0.0.1\"]\n\n[[api_keys]]\nname = \"k\"\nhash = \"{}\"\n",
            blake3::hash(b"right-key").to_hex()
        ),
    )
    .expect("config");
    let server = start_in(dir, &["--config", &config.display().to_string()]);
    let client = Server::client();
    let ask = |key: &'static str, from: &'static str| {
        client
            .get(format!(
                "{}/api/v1/stats/aggregate?site_id={SITE}&period=day",
                server.url
            ))
            .header("authorization", format!("Bearer {key}"))
            .header("x-forwarded-for", from)
            .send()
    };
    assert_eq!(
        ask("right-key", "198.51.100.7")
            .await
            .expect("send")
            .status(),
        200
    );
    for _ in 0..10 {
        assert_eq!(
            ask("guess", "198.51.100.7").await.expect("send").status(),
            401
        );
    }
    // The eleventh guess, and even the right key, from that client: refused.
    let refused = ask("right-key", "198.51.100.7").await.expect("send");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    let text = refused.text().await.expect("body");
    assert!(text.contains("wrong API key"), "{text}");
    // Another client is not affected.
    assert_eq!(
        ask("right-key", "198.51.100.8")
            .await
            .expect("send")
            .status(),
        200
    );
    let m = server.metrics().await;
    assert_eq!(metric(&m, "spoorloos_api_auth_failures_total"), 10.0, "{m}");
    assert_eq!(metric(&m, "spoorloos_api_auth_limited_total"), 1.0, "{m}");
    let stopped = server.stop();
    // The key guessed and the right key never reach the log.
    assert!(!stopped.output.contains("right-key") && !stopped.output.contains("guess"));
}

/// A collector with one API key, `right-key`.
fn with_one_key() -> Server {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("keys.toml");
    std::fs::write(
        &config,
        format!(
            "sites = [\"{SITE}\"]\n\n[[api_keys]]\nname = \"k\"\nhash = \"{}\"\n",
            blake3::hash(b"right-key").to_hex()
        ),
    )
    .expect("config");
    start_in(dir, &["--config", &config.display().to_string()])
}

/// Sixty wrong keys sent at once on sixty connections, each request's body held
/// back a moment: still at most ten are compared (401), the rest refused (429).
#[tokio::test(flavor = "multi_thread")]
async fn the_wrong_key_limit_holds_under_concurrency() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = with_one_key();
    let addr = server.url.trim_start_matches("http://").to_owned();
    let body = format!(r#"{{"site_id":"{SITE}","metrics":["visitors"],"date_range":"day"}}"#);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (addr, body) = (addr.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            let head = format!(
                "POST /api/v2/query HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer guess-{i}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).await.expect("head");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            // The server may have answered and closed already.
            let _ = conn.write_all(body.as_bytes()).await;
            let mut answer = Vec::new();
            let _ = conn.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer)
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    let compared = statuses.iter().filter(|s| *s == "401").count();
    let refused = statuses.iter().filter(|s| *s == "429").count();
    assert_eq!(compared, 10, "{statuses:?}");
    assert_eq!(refused, 50, "{statuses:?}");
}

/// The same over HTTP/2: sixty wrong keys as streams of one connection, all in
/// flight at once, are compared ten times.
#[tokio::test(flavor = "multi_thread")]
async fn the_wrong_key_limit_holds_over_http2_streams() {
    let server = with_one_key();
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let body = format!(r#"{{"site_id":"{SITE}","metrics":["visitors"],"date_range":"day"}}"#);
    let requests: Vec<_> = (0..60)
        .map(|i| {
            let request = client
                .post(format!("{}/api/v2/query", server.url))
                .bearer_auth(format!("guess-{i}"))
                .body(body.clone())
                .send();
            tokio::spawn(request)
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        let answer = request.await.expect("task").expect("answer");
        assert_eq!(answer.version(), reqwest::Version::HTTP_2);
        statuses.push(answer.status().as_u16());
    }
    let compared = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((compared, refused), (10, 50), "{statuses:?}");
}
