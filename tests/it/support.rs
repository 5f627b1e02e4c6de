//! The test vocabulary: start the real `spoorloos` binary on port 0 with a fresh
//! DuckDB file, talk to it over loopback HTTP, stop it with SIGTERM, then read the
//! file it wrote and scan every byte it left behind.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const UA_DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Safari/537.36";
pub const UA_MOBILE: &str = "Mozilla/5.0 (Linux; Android 6.0; U007 Pro Build/MRA58K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/44.0.2403.119 Mobile Safari/537.36";
pub const UA_TABLET: &str = "Mozilla/5.0 (Linux; U; Android 4.2.2; it-it; Surfing TAB B 9.7 3G Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30";
pub const UA_HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/85.0.4183.83 Safari/537.36";
pub const UA_FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0";

/// `tests/data/...` (sources and licences in its README).
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub struct Server {
    pub url: String,
    pub dir: tempfile::TempDir,
    child: Process,
    output: Arc<Mutex<String>>,
}

/// The collector's process, killed when dropped still running: a test that fails
/// before it stops its server leaves no server behind.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the collector with `args` (plus a temp database and port 0).
pub fn start(args: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    start_in(dir, args)
}

pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
    start_under(dir, args, Command::new(env!("CARGO_BIN_EXE_spoorloos")))
}

/// [`start`] under the file-creation mask `umask` (through `sh`).
pub fn start_with_umask(umask: &str, args: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_spoorloos"));
    start_under(dir, args, sh)
}

fn start_under(dir: tempfile::TempDir, args: &[&str], mut command: Command) -> Server {
    let db = dir.path().join("spoorloos.duckdb");
    let mut child = command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(&db)
        .args(args)
        .current_dir(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spoorloos");
    let output = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = output.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        sink.lock().unwrap().push_str(&text);
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = output.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Spoorloos listening on ") {
                let _ = tx.send(url.to_owned());
            }
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("server did not start: {}", output.lock().unwrap()));
    Server {
        url,
        dir,
        child: Process(child),
        output,
    }
}

/// Runs the binary to completion (for start-up failures and CLI commands).
pub fn run(args: &[&str]) -> (bool, String) {
    run_env(args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_spoorloos"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .expect("run spoorloos");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

impl Server {
    /// What the collector printed so far (standard output and error).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }

    /// POSTs a JSON body to the Events API with a User-Agent and extra headers.
    pub async fn event(&self, body: &str, ua: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = Self::client()
            .post(format!("{}/api/event", self.url))
            .header("user-agent", ua)
            .header("content-type", "text/plain")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }

    pub async fn get(
        &self,
        path_and_query: &str,
        ua: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = Self::client()
            .get(format!("{}{path_and_query}", self.url))
            .header("user-agent", ua);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }

    pub async fn metrics(&self) -> String {
        self.get("/metrics", "test", &[])
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Waits (bounded) until `/metrics` reports `n` stored events.
    pub async fn wait_stored(&self, n: u64) {
        self.wait_metric("spoorloos_events_stored_total", n).await;
    }

    /// Waits (bounded) until the counter `name` in `/metrics` reaches `n`.
    pub async fn wait_metric(&self, name: &str, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.metrics().await;
            if metric(&m, name) >= n as f64 || Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (a crash: no drain, no checkpoint), wait for exit; returns the
    /// directory with the database so a new collector can start on it.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.0.kill();
        let _ = self.child.0.wait();
        self.dir
    }

    /// SIGTERM, wait for exit; returns everything the process printed.
    pub fn stop(self) -> Stopped {
        self.terminate();
        self.wait_exit()
    }

    /// SIGTERM, without waiting.
    pub fn terminate(&self) {
        let pid = self.child.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
    }

    /// Waits (bounded) for the process to exit cleanly; returns everything it printed.
    pub fn wait_exit(mut self) -> Stopped {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Ok(Some(status)) = self.child.0.try_wait() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.0.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads collect the tail of the output.
        std::thread::sleep(Duration::from_millis(100));
        let output = self.output.lock().unwrap().clone();
        assert!(
            status.is_some_and(|s| s.success()),
            "unclean exit ({status:?}): {output}"
        );
        Stopped {
            dir: self.dir,
            output,
        }
    }
}

pub struct Stopped {
    pub dir: tempfile::TempDir,
    pub output: String,
}

impl Stopped {
    pub fn db(&self) -> duckdb::Connection {
        let config = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .expect("config");
        duckdb::Connection::open_with_flags(self.dir.path().join("spoorloos.duckdb"), config)
            .expect("open database")
    }

    /// Rows of `sql` as strings (NULL → "NULL").
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let conn = self.db();
        let mut stmt = conn.prepare(sql).expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        let mut out = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            let n = row.as_ref().column_count();
            let mut cells = Vec::new();
            for i in 0..n {
                let v: duckdb::types::Value = row.get(i).expect("cell");
                cells.push(match v {
                    duckdb::types::Value::Null => "NULL".to_owned(),
                    duckdb::types::Value::Text(s) => s,
                    other => format!("{other:?}"),
                });
            }
            out.push(cells);
        }
        out
    }

    /// Every byte of every file the collector wrote, plus its output.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut bytes = self.output.clone().into_bytes();
        for entry in walk(self.dir.path()) {
            bytes.extend(std::fs::read(entry).unwrap_or_default());
        }
        bytes
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Whether `needle` occurs in `haystack`, as UTF-8 or UTF-16LE, or (for IPs) as
/// the raw 4/16 address bytes.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let find = |n: &[u8]| !n.is_empty() && haystack.windows(n.len()).any(|w| w == n);
    if find(needle.as_bytes()) {
        return true;
    }
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    if find(&utf16) {
        return true;
    }
    match needle.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => find(&v4.octets()) && needle != "127.0.0.1",
        Ok(std::net::IpAddr::V6(v6)) => find(&v6.octets()),
        Err(_) => false,
    }
}

/// The value of an unlabelled metric, or the sum over a labelled one's matching lines.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
