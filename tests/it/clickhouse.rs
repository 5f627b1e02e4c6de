//! The ClickHouse store's foundations against a real two-shard cluster: two
//! `clickhouse-server` processes (Debian's package) started by
//! `scripts/clickhouse-cluster.sh`. The schema on both nodes and a drifted node
//! refused; a batch split over the shards by visitor; an insert whose answer is
//! lost counted, not sent twice; two collectors agreeing on a day's salt, with one
//! shard down too; a destroyed salt and an expired day gone from both servers'
//! files; and the spool: batches kept while the cluster or one shard is down, kept
//! across a restart of the collector, sent once each when it is back.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use spoorloos::event::EventView;
use spoorloos::store::clickhouse::spool::Spool;
use spoorloos::store::clickhouse::{ClickHouseError, Cluster, ClusterSpec, Ingest, Written};

/// The two servers, stopped when dropped.
struct Servers {
    dir: tempfile::TempDir,
    urls: Vec<String>,
    password: String,
    /// Their first port: each test's cluster has its own (tests run at once).
    ports: &'static str,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/clickhouse-cluster.sh")
}

impl Servers {
    fn start(ports: &'static str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let out = Command::new("bash")
            .arg(script())
            .args(["start", &dir.path().display().to_string()])
            .env("CLICKHOUSE_PORT_BASE", ports)
            .output()
            .expect("run the cluster script");
        assert!(
            out.status.success(),
            "the ClickHouse cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let urls = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let password = std::fs::read_to_string(dir.path().join("password")).expect("password");
        Self {
            dir,
            urls,
            password,
            ports,
        }
    }

    fn node(&self, verb: &str, n: usize) {
        let status = Command::new("bash")
            .arg(script())
            .args([verb, &self.dir.path().display().to_string(), &n.to_string()])
            .env("CLICKHOUSE_PORT_BASE", self.ports)
            .status()
            .expect("run the cluster script");
        assert!(status.success(), "{verb} {n}");
    }

    fn spec(&self, database: &str, nodes: Vec<String>) -> ClusterSpec {
        ClusterSpec {
            nodes,
            database: database.into(),
            cluster: "spoorloos".into(),
            user: "spoorloos".into(),
            password: self.password.clone(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Runs `sql` on node `n` (1 or 2) with the command-line client's HTTP
    /// equivalent; its answer.
    fn sql(&self, n: usize, sql: &str) -> String {
        let out = Command::new("curl")
            .args(["-sS", "--data-binary", sql])
            .args(["-H", "X-ClickHouse-User: spoorloos"])
            .args(["-H", &format!("X-ClickHouse-Key: {}", self.password)])
            .arg(&self.urls[n - 1])
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Every byte of both servers' data folders.
    fn all_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    stack.push(entry.path());
                }
            } else if let Ok(b) = std::fs::read(&path) {
                bytes.extend(b);
            }
        }
        bytes
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", &self.dir.path().display().to_string()])
            .env("CLICKHOUSE_PORT_BASE", self.ports)
            .status();
    }
}

fn event(visitor: u64, path: &str) -> EventView<'_> {
    EventView {
        ts_micros: 1_768_046_400_000_000 + i64::try_from(visitor).unwrap_or(0),
        site: "example.test",
        name: "pageview",
        hostname: "example.test",
        pathname: path,
        visitor_id: Some(visitor),
        session_id: Some(visitor.wrapping_mul(31)),
        visit_day: 20_463,
        referrer: None,
        source: Some("Google"),
        channel: "Organic Search",
        utm_source: None,
        utm_medium: None,
        utm_campaign: None,
        utm_content: None,
        utm_term: None,
        country: Some("NL"),
        region: None,
        city: None,
        browser: "Firefox",
        browser_version: "133",
        os: "Linux",
        os_version: "",
        device: "desktop",
        screen: Some("desktop"),
        connection_type: None,
        save_data: false,
        props: None,
        scroll_depth: None,
        engaged_ms: None,
        interactive: true,
    }
}

/// A proxy in front of a node that swallows the answer to the first insert it
/// forwards (the insert is done, the answer lost), and passes everything else.
fn lossy_proxy(upstream: &str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let swallowed = Arc::new(AtomicUsize::new(0));
    let count = swallowed.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, count) = (upstream.clone(), count.clone());
            std::thread::spawn(move || relay(client, &upstream, &count));
        }
    });
    (url, swallowed)
}

fn relay(client: TcpStream, upstream: &str, swallowed: &Arc<AtomicUsize>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let swallow = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, count) = (swallow.clone(), swallowed.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = from_client.read(&mut buf) {
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            if chunk.windows(12).any(|w| w == b"query=INSERT")
                && count.fetch_add(1, Ordering::SeqCst) == 0
            {
                flag.store(true, Ordering::SeqCst);
            }
            if to_server.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let (mut from_server, mut to_client) = (server, client);
    let mut buf = [0u8; 65536];
    while let Ok(n) = from_server.read(&mut buf) {
        if n == 0 {
            break;
        }
        if swallow.load(Ordering::SeqCst) {
            // The insert is done; its answer never arrives.
            let _ = to_client.shutdown(std::net::Shutdown::Both);
            let _ = from_server.shutdown(std::net::Shutdown::Both);
            return;
        }
        if to_client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

#[test]
fn a_two_shard_cluster_takes_batches_once_and_agrees_on_salts() {
    let servers = Servers::start("28123");
    let day = NaiveDate::from_ymd_opt(2026, 1, 10).expect("day");

    // The schema on both nodes, twice over; a node whose tables drifted is refused.
    let spec = servers.spec("spoorloos_it", servers.urls.clone());
    Cluster::connect(&spec).expect("connect");
    let cluster = Cluster::connect(&spec).expect("connect again");
    for n in [1, 2] {
        assert_eq!(
            servers.sql(
                n,
                "SELECT count() FROM system.tables WHERE database = 'spoorloos_it'"
            ),
            "3"
        );
    }
    servers.sql(
        2,
        "ALTER TABLE spoorloos_it.events_local ADD COLUMN extra UInt8",
    );
    match Cluster::connect(&spec) {
        Err(ClickHouseError::Drift { node, .. }) => assert_eq!(node, servers.urls[1]),
        other => panic!("a drifted node was taken: {:?}", other.err()),
    }
    servers.sql(2, "ALTER TABLE spoorloos_it.events_local DROP COLUMN extra");

    // A batch over both shards, each visitor on one; the Distributed table sees all.
    let paths: Vec<String> = (0..200).map(|i| format!("/p{i}")).collect();
    let mut batch = (0..200u64).map(|v| event(v, &paths[v as usize]));
    assert_eq!(cluster.insert("0a-1", &mut batch).expect("insert"), 200);
    let (one, two) = (
        servers.sql(1, "SELECT count() FROM spoorloos_it.events_local"),
        servers.sql(2, "SELECT count() FROM spoorloos_it.events_local"),
    );
    assert_eq!((one.as_str(), two.as_str()), ("100", "100"));
    assert_eq!(
        servers.sql(
            1,
            "SELECT count(), uniqExact(visitor_id) FROM spoorloos_it.events"
        ),
        "200\t200"
    );

    // Retention: a day's partition dropped on both nodes, its rows' files gone.
    let old = NaiveDate::from_ymd_opt(2026, 1, 9).expect("day");
    let mut expiring = (5000..5010u64).map(|v| EventView {
        ts_micros: 1_767_960_000_000_000,
        ..event(v, "/expire-me-ch9")
    });
    assert_eq!(cluster.insert("0c-3", &mut expiring).expect("insert"), 10);
    assert_eq!(cluster.batch_rows("0c-3", old).expect("count"), 10);
    let needle = b"/expire-me-ch9";
    assert!(
        servers
            .all_bytes()
            .windows(needle.len())
            .any(|w| w == needle)
    );
    cluster.drop_events_before(day).expect("retention");
    assert_eq!(
        servers.sql(1, "SELECT count() FROM spoorloos_it.events"),
        "200",
        "the day kept"
    );
    gone(&servers, needle, "an expired event's page");

    // The answer to an insert is lost: the batch is counted, not sent again.
    let (proxy, swallowed) = lossy_proxy(&servers.urls[0]);
    let lossy =
        Cluster::connect(&servers.spec("spoorloos_it", vec![proxy, servers.urls[1].clone()]))
            .expect("connect through the proxy");
    let mut batch = (1000..1100u64).map(|v| event(v, "/again"));
    assert_eq!(lossy.insert("0b-2", &mut batch).expect("insert"), 100);
    assert_eq!(swallowed.load(Ordering::SeqCst), 1, "no answer was lost");
    assert_eq!(lossy.batch_rows("0b-2", day).expect("count"), 100);

    // Two collectors at midnight agree on one salt; with a shard down, too.
    let specs = [spec.clone(), spec.clone()];
    let salts: Vec<_> = specs
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                Cluster::connect(&s)
                    .expect("connect")
                    .salt(day)
                    .expect("salt")
                    .key
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert_eq!(salts[0], salts[1], "two collectors, two salts");
    let hex: String = salts[0].iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !servers
            .sql(1, "SELECT query FROM system.processes")
            .contains(&hex)
    );
    servers.node("stop-node", 2);
    assert_eq!(
        cluster.salt(day).expect("salt with a shard down").key,
        salts[0]
    );
    servers.node("start-node", 2);

    // Destroyed: the day's partition dropped on both nodes, its files gone (they
    // held it before: the scan can see it).
    assert!(
        servers
            .all_bytes()
            .windows(hex.len())
            .any(|w| w == hex.as_bytes())
    );
    cluster
        .destroy_salts_before(day.succ_opt().expect("day"))
        .expect("destroy");
    for n in [1, 2] {
        assert_eq!(
            servers.sql(n, "SELECT count() FROM spoorloos_it.salts"),
            "0"
        );
    }
    gone(&servers, hex.as_bytes(), "a destroyed salt (hex)");
    gone(&servers, &salts[0], "a destroyed salt");
}

/// Waits (bounded) until `needle` is in no file of either server.
fn gone(servers: &Servers, needle: &[u8], what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while servers
        .all_bytes()
        .windows(needle.len())
        .any(|w| w == needle)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} is still in a server's files"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_spool_keeps_batches_while_clickhouse_is_down_and_sends_each_once() {
    let servers = Servers::start("38123");
    let day = NaiveDate::from_ymd_opt(2026, 1, 10).expect("day");
    let spec = servers.spec("spoorloos_spool", servers.urls.clone());
    let spool_dir = servers.dir.path().join("spool");
    let open = |max: u64| Ingest {
        cluster: Cluster::connect(&spec).expect("connect"),
        spool: Spool::open(&spool_dir, max).expect("spool"),
    };
    let mut ingest = open(1 << 20);
    // A spool of one byte: nothing fits.
    let mut small = Ingest {
        cluster: Cluster::connect(&spec).expect("connect"),
        spool: Spool::open(&servers.dir.path().join("small"), 1).expect("spool"),
    };
    let paths: Vec<String> = (0..40).map(|i| format!("/s{i}")).collect();
    let batch = |from: u64| (from..from + 40).map(|v| event(v, &paths[(v % 40) as usize]));

    // One shard down: the batch is kept whole; its other shard has its half.
    servers.node("stop-node", 2);
    assert_eq!(
        ingest.write("1a-1", &mut batch(0)).expect("write"),
        Written::Spooled(40)
    );
    // Both down: the next batches wait behind it.
    servers.node("stop-node", 1);
    assert_eq!(
        ingest.write("1a-2", &mut batch(100)).expect("write"),
        Written::Spooled(40)
    );
    assert_eq!(
        ingest.write("1a-3", &mut batch(200)).expect("write"),
        Written::Spooled(40)
    );
    assert_eq!(ingest.spool.len(), 3);
    // Full: a batch that does not fit is dropped, and says how many rows.
    assert_eq!(
        small.write("1b-1", &mut batch(300)).expect("write"),
        Written::Dropped(40)
    );
    drop(small);

    // The collector is killed with a full spool, and started again once both are back.
    drop(ingest);
    servers.node("start-node", 1);
    servers.node("start-node", 2);
    let mut ingest = open(1 << 20);
    assert_eq!(ingest.spool.len(), 3);
    assert_eq!(ingest.replay().expect("replay"), 120);
    assert!(ingest.spool.is_empty());
    assert_eq!(std::fs::read_dir(&spool_dir).expect("dir").count(), 0);
    for id in ["1a-1", "1a-2", "1a-3"] {
        assert_eq!(
            ingest.cluster.batch_rows(id, day).expect("count"),
            40,
            "{id}"
        );
    }
    assert_eq!(ingest.cluster.batch_rows("1b-1", day).expect("count"), 0);
    assert_eq!(
        ingest.write("1a-4", &mut batch(400)).expect("write"),
        Written::Sent(40)
    );
}

/// `spoorloos migrate-to-clickhouse` moves a stopped collector's events into the
/// cluster, says what it moved, and run again sends nothing twice.
#[tokio::test]
async fn a_store_moves_into_the_cluster_once() {
    use crate::support::*;
    let server = start(&["--site", "example.test", "--trusted-proxy", "127.0.0.1"]);
    for i in 0..12 {
        let body =
            format!(r#"{{"n":"pageview","u":"http://example.test/moved-{i}","d":"example.test"}}"#);
        let ip = format!("203.0.113.{}", i + 1);
        server
            .event(&body, UA_DESKTOP, &[("x-forwarded-for", &ip)])
            .await;
    }
    server.wait_stored(12).await;
    let stopped = server.stop();
    let database = stopped.dir.path().join("spoorloos.duckdb");

    let servers = Servers::start("48123");
    let config = servers.dir.path().join("migrate.toml");
    let run = |config: &Path| {
        Command::new(env!("CARGO_BIN_EXE_spoorloos"))
            .args(["migrate-to-clickhouse", "--from"])
            .arg(&database)
            .arg("--config")
            .arg(config)
            .output()
            .expect("run")
    };
    std::fs::write(&config, "sites = [\"example.test\"]\n").expect("config");
    let refused = run(&config);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("[clickhouse] nodes"));

    std::fs::write(
        &config,
        format!(
            "sites = [\"example.test\"]\n\n[clickhouse]\nnodes = [\"{}\", \"{}\"]\n\
             database = \"moved\"\nuser = \"spoorloos\"\npassword_file = \"{}\"\n",
            servers.urls[0],
            servers.urls[1],
            servers.dir.path().join("password").display()
        ),
    )
    .expect("config");
    for _ in 0..2 {
        let moved = run(&config);
        let said = String::from_utf8_lossy(&moved.stdout).into_owned();
        assert!(
            moved.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&moved.stderr)
        );
        assert!(said.contains("moved 12 events of 1 day into"), "{said}");
        assert_eq!(
            servers.sql(1, "SELECT count(), uniqExact(pathname) FROM moved.events"),
            "12\t12"
        );
    }
    // The password is in no output.
    let moved = run(&config);
    let all = [moved.stdout, moved.stderr].concat();
    assert!(!String::from_utf8_lossy(&all).contains(&servers.password));
}
