//! Real browsers, real trackers: headless Chromium loads pages carrying the pixel,
//! `s.js`, and Plausible's official tracker (npm `@plausible-analytics/tracker`)
//! pointed at the collector; the rows in DuckDB must say what happened.
//! Needs `tests/browser/install.sh` (run by `.ci/run`).

use std::path::Path;
use std::process::Command;

use crate::support::*;

#[tokio::test]
async fn headless_chromium_with_pixel_script_and_plausible_tracker() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let driver = root.join("tests/browser/drive.mjs");
    assert!(
        root.join("tests/browser/node_modules").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "browser test dependencies missing: run `bash tests/browser/install.sh`"
    );
    let server = start(&["--site", "localhost"]);
    let url = server.url.clone();
    let out =
        tokio::task::spawn_blocking(move || Command::new("node").arg(driver).arg(url).output())
            .await
            .expect("join")
            .expect("run node");
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "driver failed: {summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.wait_stored(6).await;
    let stopped = server.stop();

    let pageviews = stopped.rows(
        "SELECT pathname, coalesce(source, '-'), browser, device FROM events WHERE name = 'pageview' ORDER BY pathname, device",
    );
    let has = |path: &str, source: &str, device: &str| {
        pageviews.iter().any(|r| {
            r[0] == path
                && (source.is_empty() || r[1] == source)
                && r[2] == "Chrome"
                && r[3] == device
        })
    };
    assert!(has("/pixel/", "", "Desktop"), "{pageviews:?}\n{summary}");
    assert!(
        has("/script/", "Google", "Desktop"),
        "{pageviews:?}\n{summary}"
    );
    assert!(
        has("/script/", "Google", "Mobile"),
        "{pageviews:?}\n{summary}"
    );
    assert!(
        has("/script/spa/next", "", "Desktop"),
        "{pageviews:?}\n{summary}"
    );
    assert!(
        has("/plausible/", "Hacker News", "Desktop"),
        "{pageviews:?}\n{summary}"
    );

    let custom = stopped.rows("SELECT pathname, props FROM events WHERE name = 'Signup'");
    assert!(custom.iter().any(|r| r[1].contains("pro")), "{custom:?}");
    let engagement = stopped.rows(
        "SELECT pathname, max(scroll_depth), max(engaged_ms) FROM events WHERE name = 'engagement' GROUP BY pathname ORDER BY pathname",
    );
    for path in ["/script/", "/plausible/"] {
        let row = engagement.iter().find(|r| r[0] == path);
        assert!(
            row.is_some_and(|r| r[1] != "NULL" && r[2] != "NULL"),
            "no engagement for {path}: {engagement:?}\n{summary}"
        );
    }
    // Every pageview of a page load carries a pseudonym and a session.
    let anonymous =
        stopped.rows("SELECT count(*) FROM events WHERE visitor_id IS NULL OR session_id IS NULL");
    assert_eq!(anonymous, vec![vec!["BigInt(0)".to_owned()]]);
}
