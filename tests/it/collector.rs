//! The collector end to end: real binary, real HTTP over loopback, real DuckDB file,
//! real GeoIP databases. Each test states one rule of the ingestion side.

use crate::support::*;

const SITE: &str = "example.test";

fn geo_args() -> Vec<String> {
    vec![
        "--site".into(),
        SITE.into(),
        "--site".into(),
        "second.test".into(),
        "--trusted-proxy".into(),
        "127.0.0.1".into(),
        "--geoip-country".into(),
        shared("mmdb/maxmind-test/GeoIP2-City-Test.mmdb")
            .display()
            .to_string(),
        "--geoip-connection-type".into(),
        shared("mmdb/maxmind-test/GeoIP2-Connection-Type-Test.mmdb")
            .display()
            .to_string(),
        "--referrer-spam-list".into(),
        shared("referrer-spam/spammers.txt").display().to_string(),
    ]
}

fn start_geo(extra: &[&str]) -> Server {
    let mut args = geo_args();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(&refs)
}

fn pageview(url: &str) -> String {
    format!(r#"{{"name":"pageview","url":"{url}","domain":"{SITE}"}}"#)
}

#[tokio::test]
async fn pixel_always_answers_with_the_gif() {
    let server = start_geo(&[]);
    for (query, ua) in [
        ("/p.gif?u=https%3A%2F%2Fexample.test%2F&w=1280", UA_DESKTOP),
        ("/p.gif?u=https%3A%2F%2Fexample.test%2F", "curl/8.0"),
        ("/p.gif?u=https%3A%2F%2Funknown.test%2F", UA_DESKTOP),
        ("/p.gif?u=data%3Atext&n=%ZZ%%", UA_DESKTOP),
        ("/p.gif", ""),
    ] {
        let resp = server.get(query, ua, &[]).await;
        assert_eq!(resp.status(), 200, "{query}");
        assert_eq!(resp.headers()["content-type"], "image/gif");
        assert!(
            resp.headers()["cache-control"]
                .to_str()
                .unwrap_or_default()
                .contains("no-store")
        );
        assert_eq!(
            resp.bytes().await.map(|b| b.len()).unwrap_or(0),
            43,
            "{query}"
        );
    }
    // HEAD, a GET that carries a body, and the wrong method, on one kept-alive
    // connection: the pixel is answered apart from the other routes. (No
    // User-Agent: these hits are bots, so the rows below stay two.)
    let client = Server::client();
    let pixel = format!("{}/p.gif?u=https%3A%2F%2Fexample.test%2Fhead", server.url);
    let head = client.head(&pixel).send().await.expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "image/gif");
    assert_eq!(
        head.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
    assert!(head.bytes().await.expect("body").is_empty());
    let with_body = client.get(&pixel).body("unexpected").send().await;
    let with_body = with_body.expect("GET with a body");
    assert_eq!(with_body.status(), 200);
    assert_eq!(with_body.bytes().await.map(|b| b.len()).unwrap_or(0), 43);
    let post = client.post(&pixel).send().await.expect("POST");
    assert_eq!(post.status(), 405);
    // The page URL falls back to the Referer header.
    let resp = server
        .get(
            "/p.gif?w=390",
            UA_MOBILE,
            &[("referer", "https://www.example.test/from-referer?x=1")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    server.wait_stored(2).await;
    let stopped = server.stop();
    let rows = stopped.rows("SELECT pathname, device, screen FROM events ORDER BY pathname");
    assert_eq!(
        rows,
        vec![
            vec!["/".to_owned(), "Desktop".into(), "Laptop".into()],
            vec!["/from-referer".to_owned(), "Mobile".into(), "Mobile".into()],
        ]
    );
}

/// Behind a trusted proxy that appends its own `X-Forwarded-For` line, the client's
/// forged earlier line is not believed: the address (and so the pseudonym and the
/// country) is the one the proxy saw.
#[tokio::test]
async fn a_forged_forwarding_line_is_not_believed() {
    let server = start_geo(&[]);
    let lines = [
        ("x-forwarded-for", "216.160.83.56"),
        ("x-forwarded-for", "2.125.160.216"),
    ];
    let r = server
        .event(&pageview("http://example.test/forged"), UA_DESKTOP, &lines)
        .await;
    assert_eq!(r.status(), 202);
    server.wait_stored(1).await;
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT country FROM events"),
        vec![vec!["GB".to_owned()]]
    );
}

/// A HEAD of the pixel (a link checker, a monitor; never a browser) is answered
/// with the image's headers and counts nothing, even with a browser's User-Agent.
#[tokio::test]
async fn a_head_of_the_pixel_counts_nothing() {
    let server = start_geo(&[]);
    let client = Server::client();
    let head = client
        .head(format!(
            "{}/p.gif?u=https%3A%2F%2Fexample.test%2Fhead",
            server.url
        ))
        .header("user-agent", UA_DESKTOP)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "image/gif");
    let get = server
        .get("/p.gif?u=https%3A%2F%2Fexample.test%2Fget", UA_DESKTOP, &[])
        .await;
    assert_eq!(get.status(), 200);
    server.wait_stored(1).await;
    // Stopping drains the queue: a counted HEAD would be stored before the GET.
    let stopped = server.stop();
    let rows = stopped.rows("SELECT pathname FROM events");
    assert_eq!(rows, vec![vec!["/get".to_owned()]]);
}

#[tokio::test]
async fn event_api_accepts_and_validates_like_plausible() {
    let server = start_geo(&[]);
    let resp = server
        .event(&pageview("http://example.test/"), UA_DESKTOP, &[])
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert_eq!(resp.text().await.unwrap_or_default(), "ok");

    let bad = [
        ("", "Unable to parse request body as json"),
        ("defnotjson", "Unable to parse request body as json"),
        (
            r#"{"name":"pageview","domain":"example.test"}"#,
            r#"{"errors":{"url":["is required"]}}"#,
        ),
        (
            r#"{"name":"pageview","url":"about:config","domain":null}"#,
            r#"{"errors":{"domain":["can't be blank"]}}"#,
        ),
        (
            r#"{"name":"","url":"http://example.test/"}"#,
            r#"{"errors":{"event_name":["can't be blank"]}}"#,
        ),
        (
            r#"{"name":"pageview","url":"data:text/html,hi"}"#,
            "scheme is not allowed",
        ),
    ];
    for (body, expected) in bad {
        let resp = server.event(body, UA_DESKTOP, &[]).await;
        assert_eq!(resp.status(), 400, "{body}");
        let text = resp.text().await.unwrap_or_default();
        assert!(text.contains(expected), "{body}: {text}");
    }
    let huge = format!(
        r#"{{"name":"pageview","url":"http://example.test/","p":{{"k":"{}"}}}}"#,
        "x".repeat(40_000)
    );
    assert_eq!(server.event(&huge, UA_DESKTOP, &[]).await.status(), 400);

    // Silent drops still answer 202, with a header counting them.
    let drops = [
        (pageview("http://example.test/"), UA_HEADLESS, vec![]),
        (
            pageview("http://example.test/"),
            "python-requests/2.31",
            vec![],
        ),
        (pageview("http://example.test/"), "", vec![]),
        (
            r#"{"n":"pageview","u":"http://unknown.test/"}"#.to_owned(),
            UA_DESKTOP,
            vec![],
        ),
        (
            pageview("http://example.test/"),
            UA_DESKTOP,
            vec![("sec-purpose", "prefetch")],
        ),
        (
            format!(
                r#"{{"n":"pageview","u":"http://example.test/","d":"{SITE}","r":"https://01casino-x.ru/page"}}"#
            ),
            UA_DESKTOP,
            vec![],
        ),
    ];
    for (body, ua, headers) in &drops {
        let resp = server.event(body, ua, headers).await;
        assert_eq!(resp.status(), 202, "{body} {ua}");
        assert_eq!(
            resp.headers()
                .get("x-spoorloos-dropped")
                .map(|v| v.as_bytes()),
            Some(&b"1"[..]),
            "{body} {ua}"
        );
    }
    // A comma list of domains fans out; an unknown one among them is dropped.
    let resp = server
        .event(r#"{"n":"pageview","u":"http://example.test/fan","d":"example.test,second.test,nope.test"}"#, UA_DESKTOP, &[])
        .await;
    assert_eq!(
        resp.headers()
            .get("x-spoorloos-dropped")
            .map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );

    server.wait_stored(3).await;
    let metrics = server.metrics().await;
    for reason in ["bot", "unknown_site", "prefetch", "spam_referrer"] {
        let line = format!("spoorloos_hits_dropped_total{{reason=\"{reason}\"}}");
        assert!(metric(&metrics, &line) >= 1.0, "{reason}: {metrics}");
    }
    // The bots by what gave them away, adding up to the bot drops.
    let bots = metric(&metrics, "spoorloos_hits_dropped_total{reason=\"bot\"}");
    let kinds = metric(&metrics, "spoorloos_bots_dropped_total{");
    assert!(bots >= 3.0 && kinds == bots, "{metrics}");
    for kind in ["automation", "http_client", "empty"] {
        let line = format!("spoorloos_bots_dropped_total{{kind=\"{kind}\"}}");
        assert!(metric(&metrics, &line) >= 1.0, "{kind}: {metrics}");
    }
    assert!(metrics.contains("spoorloos_queue_depth"));
    assert!(metrics.contains("spoorloos_batch_flush_seconds"));
    assert!(metrics.contains("spoorloos_lifecycle_errors_total 0"));
    let stopped = server.stop();
    let rows = stopped.rows("SELECT site, pathname FROM events ORDER BY site, pathname");
    assert_eq!(
        rows,
        vec![
            vec!["example.test".to_owned(), "/".into()],
            vec!["example.test".to_owned(), "/fan".into()],
            vec!["second.test".to_owned(), "/fan".into()],
        ]
    );
}

#[tokio::test]
async fn enrichment_and_minimisation_are_stored() {
    let server = start_geo(&[]);
    let gb = [("x-forwarded-for", "2.125.160.216")];
    let body = r#"{"n":"pageview","u":"https://www.example.test/blog/post?utm_source=newsletter&utm_medium=email&utm_campaign=launch&secret=hunter2&email=jan@example.nl#top","d":"example.test","r":"https://www.google.com/search?q=spoorloos","w":1440}"#;
    assert_eq!(server.event(body, UA_DESKTOP, &gb).await.status(), 202);
    let body = r#"{"n":"pageview","u":"https://example.test/orders/12345678/jan@example.nl","d":"example.test","r":"https://news.ycombinator.com/item?id=1"}"#;
    server
        .event(body, UA_TABLET, &[("x-forwarded-for", "216.160.83.56")])
        .await;
    let body = r#"{"n":"Signup","u":"https://example.test/pricing","d":"example.test","p":{"plan":"pro"}}"#;
    server
        .event(body, UA_FIREFOX, &[("x-forwarded-for", "2001:218::1")])
        .await;
    server.wait_stored(3).await;
    let stopped = server.stop();
    let rows = stopped.rows(
        "SELECT name, hostname, pathname, referrer, source, channel, utm_source, utm_medium, utm_campaign, country, browser, os, device, screen, props FROM events ORDER BY ts",
    );
    let first = &rows[0];
    assert_eq!(first[..3], ["pageview", "example.test", "/blog/post"]);
    assert_eq!(first[3], "google.com/search");
    assert_eq!(first[4], "newsletter");
    assert_eq!(first[5], "Email");
    assert_eq!(first[6..9], ["newsletter", "email", "launch"]);
    assert_eq!(first[9], "GB");
    assert_eq!(first[10], "Chrome");
    assert_eq!(first[11], "macOS");
    assert_eq!(first[12], "Desktop");
    assert_eq!(first[13], "Desktop");
    let second = &rows[1];
    assert!(
        !second[2].contains("12345678") && !second[2].contains("jan@"),
        "{}",
        second[2]
    );
    assert_eq!(second[4], "Hacker News");
    assert_eq!(second[9], "US");
    assert_eq!(second[12], "Tablet");
    let third = &rows[2];
    assert_eq!(third[0], "Signup");
    assert_eq!(third[9], "JP");
    assert_eq!(third[10], "Firefox");
    assert_eq!(third[14], r#"{"plan":"pro"}"#);
    // Connection type comes from the Connection-Type database when configured.
    let conn = stopped.rows("SELECT count(*) FROM events WHERE connection_type IS NOT NULL");
    assert_eq!(conn.len(), 1);
}

#[tokio::test]
async fn proxy_headers_count_only_from_trusted_proxies() {
    let server = start(&[
        "--site",
        SITE,
        "--geoip-country",
        &shared("mmdb/maxmind-test/GeoIP2-Country-Test.mmdb")
            .display()
            .to_string(),
    ]);
    let spoof = [
        ("x-forwarded-for", "2.125.160.216"),
        ("cf-connecting-ip", "2.125.160.216"),
    ];
    server
        .event(&pageview("http://example.test/"), UA_DESKTOP, &spoof)
        .await;
    server
        .event(
            &pageview("http://example.test/"),
            UA_DESKTOP,
            &[("x-forwarded-for", "216.160.83.56")],
        )
        .await;
    server.wait_stored(2).await;
    let stopped = server.stop();
    // Both are the loopback peer: no country, one visitor.
    let rows =
        stopped.rows("SELECT count(*), count(country), count(DISTINCT visitor_id) FROM events");
    assert_eq!(
        rows,
        vec![vec![
            "BigInt(2)".to_owned(),
            "BigInt(0)".into(),
            "BigInt(1)".into()
        ]]
    );
}

#[tokio::test]
async fn sessions_and_privacy_signals() {
    let server = start_geo(&[]);
    let a = [("x-forwarded-for", "2.125.160.216")];
    let b = [("x-forwarded-for", "216.160.83.56")];
    server
        .event(&pageview("http://example.test/one"), UA_DESKTOP, &a)
        .await;
    server
        .event(&pageview("http://example.test/two"), UA_DESKTOP, &a)
        .await;
    server
        .event(&pageview("http://example.test/one"), UA_DESKTOP, &b)
        .await;
    server
        .event(&pageview("http://example.test/one"), UA_FIREFOX, &a)
        .await;
    let gpc = [("x-forwarded-for", "2.125.160.216"), ("sec-gpc", "1")];
    server
        .event(&pageview("http://example.test/gpc"), UA_DESKTOP, &gpc)
        .await;
    server.wait_stored(5).await;
    let stopped = server.stop();
    // The GPC hit has no pseudonym and a session id of its own: a fourth visit.
    let rows = stopped.rows("SELECT count(DISTINCT visitor_id), count(DISTINCT session_id), count(*) FILTER (WHERE visitor_id IS NULL) FROM events");
    assert_eq!(
        rows,
        vec![vec![
            "BigInt(3)".to_owned(),
            "BigInt(4)".into(),
            "BigInt(1)".into()
        ]]
    );
    let shared = stopped.rows(
        "SELECT count(*) FROM events WHERE session_id = (SELECT session_id FROM events WHERE visitor_id IS NULL)",
    );
    assert_eq!(shared, vec![vec!["BigInt(1)".to_owned()]]);
    let sessions = stopped
        .rows("SELECT entry_page, exit_page, pageviews, bounce FROM sessions WHERE pageviews = 2");
    assert_eq!(
        sessions,
        vec![vec![
            "/one".to_owned(),
            "/two".into(),
            "BigInt(2)".into(),
            "Boolean(false)".into()
        ]]
    );
}

#[tokio::test]
async fn nothing_identifying_reaches_disk_or_logs() {
    let server = start_geo(&[]);
    let ips = [
        "2.125.160.216",
        "216.160.83.56",
        "2001:218::1",
        "89.160.20.112",
    ];
    let uas = [UA_DESKTOP, UA_MOBILE, UA_TABLET, UA_FIREFOX];
    for (ip, ua) in ips.iter().zip(uas) {
        let body = r#"{"n":"pageview","u":"https://example.test/p?token=hunter2secret&utm_source=x","d":"example.test","r":"https://ref.example.org/path?q=private-query"}"#;
        server.event(body, ua, &[("x-forwarded-for", ip)]).await;
        server
            .get(
                "/p.gif?u=https%3A%2F%2Fexample.test%2Fq%3Fsession%3Dabcdef123456",
                ua,
                &[("x-forwarded-for", ip)],
            )
            .await;
    }
    server.wait_stored(8).await;
    let stopped = server.stop();
    let rows = stopped.rows("SELECT count(*) FROM events");
    assert_eq!(rows, vec![vec!["BigInt(8)".to_owned()]]);
    let bytes = stopped.all_bytes();
    for needle in ips
        .iter()
        .chain(uas.iter())
        .chain(["hunter2secret", "private-query", "abcdef123456"].iter())
    {
        assert!(
            !contains(&bytes, needle),
            "{needle:?} found on disk or in the logs"
        );
    }
    // Distinctive UA fragments too, not just whole strings.
    for fragment in [
        "Surfing TAB B 9.7",
        "U007 Pro Build",
        "Intel Mac OS X 10_13_4",
    ] {
        assert!(!contains(&bytes, fragment), "{fragment:?} found");
    }
}

#[tokio::test]
async fn a_restart_within_the_day_keeps_visitors() {
    let server = start(&["--site", SITE]);
    server
        .event(&pageview("http://example.test/a"), UA_DESKTOP, &[])
        .await;
    server.wait_stored(1).await;
    let stopped = server.stop();
    let server = start_in(stopped.dir, &["--site", SITE]);
    server
        .event(&pageview("http://example.test/b"), UA_DESKTOP, &[])
        .await;
    server.wait_stored(1).await;
    let stopped = server.stop();
    let rows = stopped.rows(
        "SELECT count(DISTINCT visitor_id), count(DISTINCT session_id), count(*) FROM events",
    );
    assert_eq!(
        rows,
        vec![vec![
            "BigInt(1)".to_owned(),
            "BigInt(1)".into(),
            "BigInt(2)".into()
        ]]
    );
    let salts = stopped.rows("SELECT count(*) FROM salts");
    assert_eq!(salts, vec![vec!["BigInt(1)".to_owned()]]);
}

#[tokio::test]
async fn midnight_rotates_the_salt_without_splitting_a_session() {
    let server = start(&["--site", SITE, "--clock-start", "2026-11-24T23:59:58Z"]);
    server
        .event(&pageview("http://example.test/before"), UA_DESKTOP, &[])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    server
        .event(&pageview("http://example.test/after"), UA_DESKTOP, &[])
        .await;
    server.wait_stored(2).await;
    let stopped = server.stop();
    let rows = stopped.rows("SELECT count(DISTINCT visitor_id), count(DISTINCT session_id), count(DISTINCT CAST(ts AS DATE)) FROM events");
    assert_eq!(
        rows,
        vec![vec![
            "BigInt(1)".to_owned(),
            "BigInt(1)".into(),
            "BigInt(2)".into()
        ]]
    );
    // Today's salt and yesterday's (kept only for the session timeout).
    let salts = stopped.rows("SELECT CAST(day AS VARCHAR) FROM salts ORDER BY day");
    assert_eq!(
        salts,
        vec![vec!["2026-11-24".to_owned()], vec!["2026-11-25".to_owned()]]
    );
}

#[tokio::test]
async fn endpoints_script_health_and_cors() {
    let server = start(&["--site", SITE]);
    let resp = server.get("/s.js", UA_DESKTOP, &[]).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .contains("javascript")
    );
    let script = resp.bytes().await.unwrap_or_default();
    assert!(script.len() > 200);
    assert_eq!(server.get("/healthz", "", &[]).await.status(), 200);
    assert_eq!(server.get("/nope", "", &[]).await.status(), 404);
    let home = server
        .get("/demo", UA_DESKTOP, &[])
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(home.contains("/s.js"));
    let preflight = Server::client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/event", server.url),
        )
        .header("origin", "https://example.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    server.stop();
}

#[test]
fn bad_configuration_stops_start_up_with_a_clear_message() {
    for bad in std::fs::read_dir(shared("mmdb/bad"))
        .expect("bad dir")
        .flatten()
    {
        let path = bad.path().display().to_string();
        let (ok, out) = run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "x.duckdb",
            "--geoip-country",
            &path,
        ]);
        assert!(!ok, "{path} accepted");
        assert!(
            out.contains("GeoIP database") && out.contains(&path),
            "{out}"
        );
        assert!(!out.contains("panicked"), "{out}");
    }
    let (ok, out) = run(&["serve", "--listen", "127.0.0.1:0", "--site", "not a domain"]);
    assert!(!ok && out.contains("sites[0]"), "{out}");
    let (ok, out) = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--trusted-proxy",
        "10.0.0.0/77",
    ]);
    assert!(!ok && out.contains("trusted_proxies[0]"), "{out}");
    let (ok, out) = run(&["serve", "--listen", "nonsense"]);
    assert!(!ok && out.contains("nonsense"), "{out}");
    let (ok, out) = run(&["serve", "--config", "/no/such/spoorloos.toml"]);
    assert!(!ok && out.contains("/no/such/spoorloos.toml"), "{out}");
}

#[test]
fn example_config_is_valid_and_snippet_prints_both() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spoorloos.example.toml");
    let (ok, out) = run(&["check-config", "--config", &example.display().to_string()]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "snippet",
        "--site",
        "smtware.com",
        "--endpoint",
        "https://stats.example.org",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains(r#"<script defer src="https://stats.example.org/s.js" data-domain="smtware.com"></script>"#), "{out}");
    assert!(out.contains(r#"https://stats.example.org/p.gif?d=smtware.com" referrerpolicy="no-referrer-when-downgrade""#), "{out}");
    assert!(out.contains("<noscript>"));
    let (ok, out) = run(&["snippet", "--site", "smtware.com", "--endpoint", "ftp://x"]);
    assert!(!ok && out.contains("ftp://x"), "{out}");
}

#[test]
fn environment_overrides_the_file_and_flags_override_the_environment() {
    let env = [
        ("SPOORLOOS_SITES", "a.test,www.B.test"),
        ("SPOORLOOS_PRIVACY_SIGNALS", "drop"),
    ];
    let (ok, out) = run_env(&["check-config"], &env);
    assert!(ok, "{out}");
    assert!(
        out.contains("\"a.test\"") && out.contains("\"b.test\""),
        "{out}"
    );
    assert!(out.contains("Drop"), "{out}");
    let (ok, out) = run_env(&["check-config", "--site", "c.test"], &env);
    assert!(
        ok && out.contains("\"c.test\"") && !out.contains("\"a.test\""),
        "{out}"
    );
    let (ok, out) = run_env(
        &["check-config"],
        &[("SPOORLOOS_PRIVACY_SIGNALS", "sometimes")],
    );
    assert!(!ok && out.contains("sometimes"), "{out}");
}

#[tokio::test]
async fn connection_type_from_the_browser_when_no_database() {
    let server = start(&["--site", SITE]);
    server
        .event(
            r#"{"n":"pageview","u":"http://example.test/a","c":"3g","sv":1}"#,
            UA_DESKTOP,
            &[],
        )
        .await;
    server
        .get(
            "/p.gif?u=http%3A%2F%2Fexample.test%2Fb",
            UA_FIREFOX,
            &[("ect", "slow-2g")],
        )
        .await;
    server
        .event(
            r#"{"n":"pageview","u":"http://example.test/c","c":"<script>"}"#,
            UA_MOBILE,
            &[],
        )
        .await;
    server.wait_stored(3).await;
    let stopped = server.stop();
    let rows = stopped.rows(
        "SELECT pathname, coalesce(connection_type, '-'), save_data FROM events ORDER BY pathname",
    );
    assert_eq!(
        rows,
        vec![
            vec!["/a".to_owned(), "3g".into(), "Boolean(true)".into()],
            vec!["/b".to_owned(), "slow-2g".into(), "Boolean(false)".into()],
            vec!["/c".to_owned(), "-".into(), "Boolean(false)".into()],
        ]
    );
}

#[tokio::test]
async fn a_burst_beyond_the_queue_is_answered_counted_and_nothing_accepted_is_lost() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("spoorloos.toml"),
        "[store]\nqueue_capacity = 4\nbatch_size = 2\n",
    )
    .expect("write config");
    let server = start_in(dir, &["--site", SITE]);
    let client = Server::client();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let url = format!("{}/p.gif?u=http%3A%2F%2Fexample.test%2F{i}", server.url);
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let resp = client
                .get(url)
                .header("user-agent", UA_DESKTOP)
                .send()
                .await
                .expect("send");
            (
                resp.status().as_u16(),
                resp.bytes().await.map(|b| b.len()).unwrap_or(0),
            )
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join"), (200, 43));
    }
    let metrics = server.metrics().await;
    let accepted = metric(&metrics, "spoorloos_hits_accepted_total");
    let overload = metric(
        &metrics,
        "spoorloos_hits_dropped_total{reason=\"overload\"}",
    );
    assert_eq!(accepted + overload, 300.0, "{metrics}");
    let stopped = server.stop();
    let stored = stopped.rows("SELECT count(*) FROM events");
    assert_eq!(stored, vec![vec![format!("BigInt({accepted})")]]);
}

/// Every file and folder the collector creates is private to its user, whatever
/// umask it was started under: the database holds today's salt next to today's
/// pseudonyms.
#[tokio::test]
async fn files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    fn modes(dir: &std::path::Path, out: &mut Vec<(String, u32)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let mode = entry
                .metadata()
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            out.push((path.display().to_string(), mode & 0o777));
            if path.is_dir() {
                modes(&path, out);
            }
        }
    }
    let server = start_with_umask("000", &["--site", SITE]);
    server
        .event(&pageview("http://example.test/private"), UA_DESKTOP, &[])
        .await;
    server.wait_stored(1).await;
    let stopped = server.stop();
    let mut found = Vec::new();
    modes(stopped.dir.path(), &mut found);
    assert!(
        found
            .iter()
            .any(|(path, _)| path.ends_with("spoorloos.duckdb")),
        "{found:?}"
    );
    let open: Vec<_> = found.iter().filter(|(_, mode)| mode & 0o077 != 0).collect();
    assert!(open.is_empty(), "readable by others: {open:?}");
}

/// A folder with `sources.tsv` holding `sources` and `sources.toml` holding `config`
/// with `{sources}` replaced by that file's path; the folder and both paths.
fn sources_config(sources: &str, config: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("dir");
    let tsv = dir.path().join("sources.tsv");
    std::fs::write(&tsv, sources).expect("sources");
    let tsv = tsv.display().to_string();
    let toml = dir.path().join("sources.toml");
    std::fs::write(&toml, config.replace("{sources}", &tsv)).expect("config");
    let toml = toml.display().to_string();
    (dir, tsv, toml)
}

/// A configured known-sources file replaces the built-in list: its sources are named
/// and get their channel, and the built-in ones it leaves out are plain hosts; a line
/// that does not read stops start-up with the file and the line named.
#[tokio::test]
async fn known_sources_come_from_a_configured_file() {
    let (dir, _, config) = sources_config(
        "# name\tcategory\thosts\taliases\nZoekMachine\tsearch\tzoekmachine.test\tzm\n",
        &format!("sites = [\"{SITE}\"]\nknown_sources = \"{{sources}}\"\n"),
    );
    let server = start_in(dir, &["--config", &config]);
    for referrer in [
        "https://www.zoekmachine.test/?q=spoorloos",
        "https://www.google.com/",
    ] {
        let body =
            format!(r#"{{"n":"pageview","u":"https://{SITE}/","d":"{SITE}","r":"{referrer}"}}"#);
        assert_eq!(server.event(&body, UA_DESKTOP, &[]).await.status(), 202);
    }
    server.wait_stored(2).await;
    let stopped = server.stop();
    let rows = stopped.rows("SELECT source, channel FROM events ORDER BY ts");
    assert_eq!(
        rows[0],
        ["ZoekMachine", "Organic Search"],
        "{}",
        stopped.output
    );
    assert_eq!(rows[1], ["google.com", "Referral"]);

    let (_dir, path, config) = sources_config(
        "ZoekMachine\tsearch\tzoekmachine.test\t\nOops\tnews\toops.test\t\n",
        "known_sources = \"{sources}\"\n",
    );
    let (ok, out) = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        "x.duckdb",
        "--config",
        &config,
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains(&path) && out.contains("line 2"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}
