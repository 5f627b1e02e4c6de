//! The terminal commands end to end: `report` against a running collector and, after
//! it stops, against the database file (same numbers); `export` as CSV and Parquet;
//! `privacy` in both languages; bad values named with exit code 2.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::*;

const SITE: &str = "example.org";
const KEY: &str = "cli-test-key";

fn config(dir: &std::path::Path) -> String {
    let path = dir.join("cli.toml");
    let text = format!(
        r#"sites = ["{SITE}"]
trusted_proxies = ["127.0.0.1"]

[geoip]
country = "{geo}"

[retention]
event_days = 17
aggregate_months = 13
min_crowd = 2

[[api_keys]]
name = "cli"
hash = "{hash}"
"#,
        geo = shared("mmdb/maxmind-test/GeoIP2-City-Test.mmdb").display(),
        hash = blake3::hash(KEY.as_bytes()).to_hex(),
    );
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

/// Runs the binary in `dir`: (exit code, stdout, stderr).
fn cli(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spoorloos"))
        .args(args)
        .current_dir(dir)
        .env_remove("SPOORLOOS_API_KEY")
        .output()
        .expect("run spoorloos");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pv(path: &str) -> String {
    json!({"name": "pageview", "url": format!("https://{SITE}{path}"), "domain": SITE}).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn report_export_and_privacy_from_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let server = start_in(dir, &["--config", &cfg]);
    // GB: two visitors on /, one also on /blog/a; US: one visitor on /blog/a.
    let hits = [
        ("2.125.160.216", UA_DESKTOP, "/"),
        ("2.125.160.216", UA_DESKTOP, "/blog/a"),
        ("2.125.160.217", UA_FIREFOX, "/"),
        ("216.160.83.56", UA_MOBILE, "/blog/a"),
    ];
    for (ip, ua, path) in hits {
        let r = server
            .event(&pv(path), ua, &[("x-forwarded-for", ip)])
            .await;
        assert_eq!(r.status(), 202);
    }
    server.wait_stored(4).await;
    let dir = server.dir.path().to_owned();
    let by_country = [
        "report",
        "--config",
        &cfg,
        "--site",
        SITE,
        "--period",
        "7d",
        "--by",
        "country",
        "--metrics",
        "visitors,pageviews",
        "--format",
        "json",
    ];

    // (a) The running collector answers, with the key.
    let mut args = by_country.to_vec();
    args.extend(["--url", &server.url, "--key", KEY]);
    let (code, live, err) = cli(&dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("answered by the collector at"), "{err}");
    let live: Value = serde_json::from_str(&live).expect("json");
    assert_eq!(
        live,
        json!([
            {"country": "GB", "visitors": 2, "pageviews": 3},
            // min_crowd = 2: the one US visitor is folded into (other).
            {"country": "(other)", "visitors": 1, "pageviews": 1},
        ])
    );
    // Without the key the collector refuses, and says how to give one.
    let mut args = by_country.to_vec();
    args.extend(["--url", &server.url]);
    let (code, _, err) = cli(&dir, &args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--key"), "{err}");
    // A filter and a comparison (the previous 7 days are empty).
    let (code, out, err) = cli(
        &dir,
        &[
            "report",
            "--config",
            &cfg,
            "--site",
            SITE,
            "--period",
            "7d",
            "--url",
            &server.url,
            "--key",
            KEY,
            "--filter",
            "event:page==/blog/**",
            "--compare",
            "previous",
            "--metrics",
            "visitors",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "visitors,visitors_previous,visitors_change_pct\n2,0,\n"
    );

    // (b) After stop, the file answers with the same numbers.
    let stopped = server.stop();
    let mut args = by_country.to_vec();
    args.extend(["--url", "http://127.0.0.1:1"]);
    let (code, file, err) = cli(&dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("from the database file"), "{err}");
    assert_eq!(serde_json::from_str::<Value>(&file).expect("json"), live);
    let (code, table, err) = cli(
        &dir,
        &[
            "report",
            "--config",
            &cfg,
            "--site",
            SITE,
            "--by",
            "page",
            "--url",
            "http://127.0.0.1:1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        table.starts_with("page     visitors  visits  pageviews  bounce_rate  visit_duration\n"),
        "{table}"
    );

    // (c) Export, CSV and Parquet (the day is not rolled up: computed from events).
    let today = chrono::Utc::now().date_naive().to_string();
    let csv = dir.join("out.csv");
    let export = |format: &str, out: &std::path::Path| {
        let out = out.display().to_string();
        cli(
            &dir,
            &[
                "export", "--config", &cfg, "--site", SITE, "--from", &today, "--to", &today,
                "--format", format, "--out", &out,
            ],
        )
    };
    let (code, _, err) = export("csv", &csv);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(
        text.starts_with(
            "day,dimension,value,visitors,visits,pageviews,bounce_rate,visit_duration\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("{today},total,\"\",3,3,4,")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{today},country,GB,2,2,3,")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{today},country,(other),1,1,1,")),
        "{text}"
    );
    let parquet = dir.join("it's out.parquet");
    let (code, _, err) = export("parquet", &parquet);
    assert_eq!(code, 0, "{err}");
    let conn = duckdb::Connection::open_in_memory().expect("duckdb");
    let (visitors, pageviews): (i64, i64) = conn
        .query_row(
            "SELECT visitors, pageviews FROM read_parquet(?) WHERE dimension = 'total'",
            [parquet.display().to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("read parquet");
    assert_eq!((visitors, pageviews), (3, 4));

    // (d) Privacy statements name the configured retention.
    let (code, en, err) = cli(&dir, &["privacy", "--config", &cfg, "--lang", "en"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        en.contains("after 17 days")
            && en.contains("13 months")
            && en.contains("at least 2 visitors"),
        "{en}"
    );
    assert!(en.contains("your country,"), "{en}");
    let (code, nl, err) = cli(&dir, &["privacy", "--config", &cfg, "--lang", "nl"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        nl.contains("na 17 dagen") && nl.contains("13 maanden"),
        "{nl}"
    );

    // (e) Bad values are named, with exit code 2.
    for (args, named) in [
        (
            vec!["report", "--site", SITE, "--by", "colour"],
            "\"colour\"",
        ),
        (
            vec!["report", "--site", SITE, "--period", "fortnight"],
            "\"fortnight\"",
        ),
        (vec!["report", "--site", SITE, "--format", "xml"], "\"xml\""),
        (
            vec!["report", "--site", SITE, "--filter", "visit:colour==red"],
            "visit:colour",
        ),
        (
            vec![
                "export",
                "--site",
                SITE,
                "--from",
                "2026-13-01",
                "--to",
                "2026-01-01",
            ],
            "2026-13-01",
        ),
        (vec!["privacy", "--lang", "fr"], "\"fr\""),
    ] {
        let mut full = args.clone();
        full.extend(["--config", &cfg]);
        let (code, _, err) = cli(&dir, &full);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    drop(stopped);
}

/// A UTM tag a spreadsheet would take for a formula reaches `report` and `export`
/// CSV files as text (behind a `'`), never as a formula; Parquet keeps it as it is.
#[tokio::test(flavor = "multi_thread")]
async fn formulas_reach_spreadsheets_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let text = std::fs::read_to_string(&cfg).expect("config");
    std::fs::write(&cfg, text.replace("min_crowd = 2", "min_crowd = 1")).expect("config");
    let server = start_in(dir, &["--config", &cfg]);
    let campaigns = ["%3DHYPERLINK", "%2Bcmd", "-cmd", "%40cmd"];
    for (i, campaign) in campaigns.iter().enumerate() {
        let r = server
            .event(
                &pv(&format!("/?utm_campaign={campaign}")),
                UA_DESKTOP,
                &[("x-forwarded-for", &format!("2.125.160.{}", 216 + i))],
            )
            .await;
        assert_eq!(r.status(), 202);
    }
    server.wait_stored(4).await;
    let stopped = server.stop();
    let dir = stopped.dir.path().to_owned();
    let today = chrono::Utc::now().date_naive().to_string();
    let (code, report, err) = cli(
        &dir,
        &[
            "report",
            "--config",
            &cfg,
            "--site",
            SITE,
            "--period",
            "7d",
            "--by",
            "utm_campaign",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let csv = dir.join("export.csv");
    let csv_path = csv.display().to_string();
    let (code, _, err) = cli(
        &dir,
        &[
            "export", "--config", &cfg, "--site", SITE, "--from", &today, "--to", &today,
            "--format", "csv", "--out", &csv_path,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let export = std::fs::read_to_string(&csv).expect("export");
    for text in [&report, &export] {
        for campaign in ["=HYPERLINK", "+cmd", "-cmd", "@cmd"] {
            assert!(text.contains(&format!("'{campaign}")), "{campaign}: {text}");
            assert!(
                !text.lines().any(|l| l.split(',').any(|c| c == campaign)),
                "{campaign} as a formula: {text}"
            );
        }
    }
}
