//! The dashboard in a real browser: headless Chromium (tests/browser/dashboard.mjs)
//! signs in through the setup link, changes the period, filters by clicking, compares,
//! searches and downloads a panel, switches to Dutch, dark mode and a phone, opens a
//! shared link, watches a new site turn live, and runs axe-core; every request must
//! stay on the collector. A filtered view of older days says, in English and Dutch,
//! that its figures come from folded daily totals (tests/browser/approximate.mjs).
//! Plus the sign-in's protections over plain HTTP, and the commands that make a
//! user's password hash and a shared link (revoked by removing its entry).

use std::path::Path;
use std::process::Command;

use crate::support::*;

const SHARE_TOKEN: &str = "a-shared-link-token-for-the-tests-only-0123456789";

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("spoorloos.toml");
    let text = format!(
        r#"sites = ["localhost", "shop.example"]
trusted_proxies = ["127.0.0.1"]

[geoip]
country = "{geo}"
city = true

[retention]
min_crowd = 2

[[dashboard.shared_links]]
name = "agency"
site = "localhost"
token_hash = "{hash}"
"#,
        geo = shared("mmdb/maxmind-test/GeoIP2-City-Test.mmdb").display(),
        hash = blake3::hash(SHARE_TOKEN.as_bytes()).to_hex()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The setup link's token from the start-up banner (printed just after the line
/// `start` waits for).
fn setup_token(server: &Server) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = server.output();
        if let Some(token) = out
            .split("/setup?token=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            return token.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no setup link in the banner: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Traffic over the last minutes: two countries and none, several pages, sources
/// and browsers; each user agent a visitor of its own.
async fn seed(server: &Server) -> u64 {
    let ips = ["2.125.160.216", "216.160.83.56", "81.2.69.142", "192.0.2.7"];
    let pages = ["/", "/pricing", "/blog/launch", "/pricing/teams"];
    let referrers = [
        "https://www.google.com/",
        "https://news.ycombinator.com/",
        "",
    ];
    let mut n = 0;
    for i in 0..48u64 {
        let ua = format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36",
            100 + i
        );
        let ip = ips[(i % 4) as usize];
        let page = pages[(i % 4) as usize];
        let referrer = referrers[(i % 3) as usize];
        // Every fourth visitor signs up, on the pro or the free plan, after reading
        // most of the pricing page for half a minute.
        if i % 4 == 1 {
            let body = r#"{"n":"engagement","u":"http://localhost/pricing","d":"localhost","sd":80,"e":30000}"#;
            let r = server.event(body, &ua, &[("x-forwarded-for", ip)]).await;
            assert_eq!(r.status(), 202);
            n += 1;
            let plan = if i % 8 == 1 { "pro" } else { "free" };
            let body = format!(
                r#"{{"n":"Signup","u":"http://localhost/pricing","d":"localhost","p":{{"plan":"{plan}"}}}}"#
            );
            let r = server.event(&body, &ua, &[("x-forwarded-for", ip)]).await;
            assert_eq!(r.status(), 202);
            n += 1;
        }
        for path in ["/", page] {
            let body = format!(
                r#"{{"n":"pageview","u":"http://localhost{path}","d":"localhost","r":"{referrer}"}}"#
            );
            let r = server.event(&body, &ua, &[("x-forwarded-for", ip)]).await;
            assert_eq!(r.status(), 202);
            n += 1;
        }
    }
    // A long tail: 60 documentation pages two visitors each (more rows than a
    // details page shows), two pages one visitor each (folded into "(other)"), and a
    // campaign whose name is markup (shown as text).
    let tail = (0..60)
        .flat_map(|i| [(format!("/docs/{i}"), 0), (format!("/docs/{i}"), 1)])
        .chain([("/lonely/1".to_owned(), 2), ("/lonely/2".to_owned(), 3)])
        .chain((4..6).map(|v| {
            let campaign = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";
            (format!("/?utm_campaign={campaign}"), v)
        }));
    for (path, visitor) in tail {
        let ua = format!(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{}.1 Safari/605.1.15",
            12 + visitor
        );
        let body = format!(r#"{{"n":"pageview","u":"http://localhost{path}","d":"localhost"}}"#);
        let r = server
            .event(&body, &ua, &[("x-forwarded-for", "2.125.160.216")])
            .await;
        assert_eq!(r.status(), 202);
        n += 1;
    }
    // A crawler: filtered, and counted in the data quality.
    let body = r#"{"n":"pageview","u":"http://localhost/","d":"localhost"}"#;
    let r = server
        .event(body, "curl/8.5.0", &[("x-forwarded-for", "192.0.2.99")])
        .await;
    assert!(r.status().is_success());
    n
}

#[tokio::test]
async fn the_dashboard_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let server = start_in(dir, &["--config", cfg.to_str().unwrap()]);
    let stored = seed(&server).await;
    server.wait_stored(stored).await;
    let args = vec![
        server.url.clone(),
        setup_token(&server),
        SHARE_TOKEN.to_owned(),
        "shop.example".to_owned(),
    ];
    let summary = drive(&server, "dashboard.mjs", args).await;
    eprintln!("{summary}");
    // The users file holds an argon2 hash, never the password.
    let stopped = server.stop();
    let bytes = stopped.all_bytes();
    assert!(!contains(&bytes, "a long and good password"));
}

/// Runs a driver in `tests/browser/` with `args`; fails with its output.
async fn drive(server: &Server, script: &str, args: Vec<String>) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/browser/node_modules/axe-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "browser test dependencies missing: run `bash tests/browser/install.sh`"
    );
    let mut argv = vec![
        root.join("tests/browser")
            .join(script)
            .display()
            .to_string(),
    ];
    argv.extend(args);
    let out = tokio::task::spawn_blocking(move || Command::new("node").args(argv).output())
        .await
        .unwrap()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed: {summary}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.output()
    );
    summary
}

/// A view of the last 12 months filtered by a source, once the day with the events
/// has passed the event retention: its pages come from the folded daily pairs, and
/// the panel says so.
#[tokio::test]
async fn older_days_show_the_folded_totals_notice() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("spoorloos.toml");
    std::fs::write(
        &cfg,
        "sites = [\"localhost\"]\ntrusted_proxies = [\"127.0.0.1\"]\n[retention]\nmin_crowd = 5\n",
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let at = |dir, clock: &str| start_in(dir, &["--config", &cfg, "--clock-start", clock]);
    let server = at(dir, "2026-01-10T12:00:00Z");
    for i in 0..8 {
        let page = if i < 6 { "/popular" } else { "/lonely" };
        let body = format!(
            r#"{{"n":"pageview","u":"http://localhost{page}","d":"localhost","r":"https://www.google.com/"}}"#
        );
        let ip = format!("203.0.113.{}", i + 1);
        let r = server
            .event(&body, UA_DESKTOP, &[("x-forwarded-for", &ip)])
            .await;
        assert_eq!(r.status(), 202);
    }
    server.wait_stored(8).await;
    // Past the retention: the first lifecycle run folds the day's pairs.
    let stopped = server.stop();
    let stopped = at(stopped.dir, "2026-03-01T12:00:00Z").stop();
    let server = at(stopped.dir, "2026-03-01T12:10:00Z");
    let token = setup_token(&server);
    drive(&server, "approximate.mjs", vec![server.url.clone(), token]).await;
    server.stop();
}

#[tokio::test]
async fn the_sign_in_refuses_cross_site_forms_and_guessing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    // Behind a proxy: the public address differs from the Host the collector sees.
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[dashboard]\npublic_url = \"https://stats.example\"\n");
    std::fs::write(&cfg, text).unwrap();
    let server = start_in(dir, &["--config", cfg.to_str().unwrap()]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = setup_token(&server);
    // A form posted from another site is refused, even with the right token.
    let r = client
        .post(format!("{}/setup", server.url))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&name=eve&password=0123456789ab"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .post(format!("{}/setup", server.url))
        .header("origin", "https://stats.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&name=anna&password=0123456789ab"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    // The API refuses a signed-in request without the page's CSRF token.
    let session = cookie.split(';').next().unwrap().to_owned();
    let r = client
        .post(format!("{}/dashboard/api/query", server.url))
        .header("cookie", &session)
        .body(r#"{"site_id":"localhost","date_range":"30d","metrics":["visitors"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Guessing passwords: refused after ten wrong ones.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = client
            .post(format!("{}/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=anna&password=wrong+password")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    // Visitors of a tracked site never get a cookie.
    let r = client
        .get(format!(
            "{}/p.gif?d=localhost&u=http://localhost/",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    // Every dashboard page has the strict policy.
    let r = client
        .get(format!("{}/login", server.url))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
}

/// Runs the binary with `args` and `input` on standard input: (exit code, stdout,
/// stderr).
fn run(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_spoorloos"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `hash-password` and `share-link` make what the config takes: the hash signs its
/// password in, the link opens its site; a link whose entry is removed is revoked at
/// the next start.
#[tokio::test]
async fn hash_password_and_share_link_make_working_entries() {
    let (code, _, err) = run(&["hash-password"], "short\n");
    assert_ne!(code, 0);
    assert!(err.contains("shorter than"), "{err}");
    let (code, hash, err) = run(&["hash-password"], "a long and good password\n");
    assert_eq!(code, 0, "{err}");
    let hash = hash.trim().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("spoorloos.toml");
    let base = format!(
        "sites = [\"localhost\"]\n\n[[dashboard.users]]\nname = \"anna\"\npassword_hash = \"{hash}\"\n"
    );
    std::fs::write(&cfg, &base).unwrap();
    let cfg_arg = cfg.to_str().unwrap().to_owned();
    let (code, _, err) = run(
        &[
            "share-link",
            "--site",
            "elsewhere.example",
            "--config",
            &cfg_arg,
        ],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("elsewhere.example"), "{err}");
    let (code, link, entry) = run(
        &[
            "share-link",
            "--site",
            "localhost",
            "--config",
            &cfg_arg,
            "--url",
            "https://stats.example",
        ],
        "",
    );
    assert_eq!(code, 0, "{entry}");
    let token = link
        .trim()
        .strip_prefix("https://stats.example/share/")
        .unwrap_or_else(|| panic!("{link}"))
        .to_owned();
    let shared = entry
        .split("[[dashboard.shared_links]]")
        .nth(1)
        .unwrap_or_else(|| panic!("{entry}"))
        .replace('…', "client");
    std::fs::write(
        &cfg,
        format!("{base}\n[[dashboard.shared_links]]{shared}\n"),
    )
    .unwrap();

    let server = start_in(dir, &["--config", &cfg_arg]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |password: &'static str| {
        client
            .post(format!("{}/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name=anna&password={password}"))
            .send()
    };
    assert_eq!(login("not+the+password").await.unwrap().status(), 401);
    assert_eq!(
        login("a+long+and+good+password").await.unwrap().status(),
        303
    );
    let share = format!("{}/share/{token}", server.url);
    assert_eq!(client.get(&share).send().await.unwrap().status(), 200);

    // Revoked: the entry is gone from the config, and the collector restarted.
    let stopped = server.stop();
    std::fs::write(&cfg, &base).unwrap();
    let server = start_in(stopped.dir, &["--config", &cfg_arg]);
    let share = format!("{}/share/{token}", server.url);
    assert_eq!(client.get(&share).send().await.unwrap().status(), 404);
    server.stop();
}
