//! The data lifecycle with the real binary and the hidden `--clock-start` flag: an
//! ended day is rolled up into anonymous aggregates, a sealed day gets its pairs
//! (small crowds folded into `(other)` when its events expire), and events past
//! retention vanish from the table *and* from the bytes of every file the collector
//! wrote.

use crate::support::*;

const SITE: &str = "example.test";

fn start_at(dir: tempfile::TempDir, at: &str) -> Server {
    start_in(
        dir,
        &[
            "--site",
            SITE,
            "--trusted-proxy",
            "127.0.0.1",
            "--clock-start",
            at,
        ],
    )
}

/// A home-page view from each of `ips`, with the clock at `clock`; the collector
/// stopped once they are stored.
async fn visitors_at(dir: tempfile::TempDir, clock: &str, ips: &[&str]) -> Stopped {
    let body = r#"{"n":"pageview","u":"http://example.test/","d":"example.test"}"#;
    let server = start_at(dir, clock);
    for ip in ips {
        server
            .event(body, UA_DESKTOP, &[("x-forwarded-for", ip)])
            .await;
    }
    server.wait_stored(ips.len() as u64).await;
    server.stop()
}

/// Six visitors from Google on /popular: a crowd of the default minimum size and one.
async fn google_crowd(server: &Server) {
    for i in 0..6 {
        let ip = format!("203.0.113.{}", i + 1);
        let body = r#"{"n":"pageview","u":"http://example.test/popular","d":"example.test","r":"https://www.google.com/"}"#;
        server
            .event(body, UA_DESKTOP, &[("x-forwarded-for", &ip)])
            .await;
    }
}

/// A day whose events expire before it was ever sealed (the collector was stopped
/// for longer than the retention) still gets its pairs, folded.
#[tokio::test]
async fn a_day_never_sealed_gets_its_pairs_as_its_events_expire() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start_at(dir, "2026-01-10T12:00:00Z");
    for i in 0..7 {
        let ip = format!("203.0.113.{}", i + 1);
        let page = if i < 6 { "/popular" } else { "/alone" };
        let body = format!(
            r#"{{"n":"pageview","u":"http://example.test{page}","d":"example.test","r":"https://www.google.com/"}}"#
        );
        server
            .event(&body, UA_DESKTOP, &[("x-forwarded-for", &ip)])
            .await;
    }
    server.wait_stored(7).await;
    let stopped = server.stop();
    let server = start_at(stopped.dir, "2026-03-01T12:00:00Z");
    let stopped = server.stop();
    assert_eq!(stopped.rows("SELECT count(*) FROM events"), [["BigInt(0)"]]);
    assert_eq!(
        stopped.rows(
            "SELECT value2, visitors FROM daily_pairs WHERE dimension = 'source' \
             AND value = 'Google' AND dimension2 = 'page'"
        ),
        [["/popular", "BigInt(6)"]]
    );
    assert_eq!(
        stopped.rows("SELECT count(*) FROM daily_pairs WHERE visitors < 5"),
        [["BigInt(0)"]]
    );
}

/// One visitor who came from a rare source and read six pages is one visitor in
/// each of six small cells: folded, those cells must not add up to a row that names
/// the source as if a crowd had come from it.
#[tokio::test]
async fn a_folded_row_counts_each_visitor_once() {
    let server = start_at(tempfile::tempdir().expect("dir"), "2026-01-10T12:00:00Z");
    google_crowd(&server).await;
    let alone = [("x-forwarded-for", "198.51.100.77")];
    for page in 0..6 {
        let body = format!(
            r#"{{"n":"pageview","u":"http://example.test/read-{page}","d":"example.test","r":"https://rare-source.example/"}}"#
        );
        server.event(&body, UA_FIREFOX, &alone).await;
    }
    server.wait_stored(12).await;
    let stopped = server.stop();
    let server = start_at(stopped.dir, "2026-01-11T00:30:00Z");
    server
        .wait_metric("spoorloos_visit_days_sealed_total", 1)
        .await;
    let stopped = server.stop();
    let stopped = start_at(stopped.dir, "2026-03-01T12:00:00Z").stop();
    assert_eq!(stopped.rows("SELECT count(*) FROM events"), [["BigInt(0)"]]);
    let named = stopped.rows(
        "SELECT dimension, value, dimension2, value2, visitors FROM daily_pairs \
         WHERE value LIKE '%rare-source%' OR value2 LIKE '%rare-source%'",
    );
    assert!(named.is_empty(), "{named:?}");
    assert_eq!(
        stopped.rows(
            "SELECT value2, visitors FROM daily_pairs WHERE dimension = 'source' \
             AND value = 'Google' AND dimension2 = 'page'"
        ),
        [["/popular", "BigInt(6)"]]
    );
}

#[tokio::test]
async fn days_roll_up_and_expired_events_leave_no_bytes() {
    let server = start_at(tempfile::tempdir().expect("dir"), "2026-01-10T12:00:00Z");
    google_crowd(&server).await;
    let lonely = [("x-forwarded-for", "198.51.100.77")];
    let body = r#"{"n":"pageview","u":"http://example.test/expire-me-zq7","d":"example.test"}"#;
    server.event(body, UA_FIREFOX, &lonely).await;
    server.wait_stored(7).await;
    let stopped = server.stop();
    let ids = stopped.rows("SELECT DISTINCT CAST(visitor_id AS VARCHAR) FROM events");
    assert_eq!(ids.len(), 7);

    // The next day, the ended day's visits, pairs and partials are stored and it is
    // rolled up, a step at a time; events stay (within retention).
    let server = start_at(stopped.dir, "2026-01-11T00:30:00Z");
    server
        .wait_metric("spoorloos_visit_days_sealed_total", 1)
        .await;
    server
        .wait_metric("spoorloos_days_rolled_up_total", 1)
        .await;
    let stopped = server.stop();
    let totals = stopped.rows(
        "SELECT visitors, visits, pageviews, bounces FROM daily_aggregates WHERE dimension = 'total'",
    );
    assert_eq!(
        totals,
        vec![vec![
            "BigInt(7)".to_owned(),
            "BigInt(7)".into(),
            "BigInt(7)".into(),
            "BigInt(7)".into()
        ]]
    );
    let pages = stopped.rows(
        "SELECT value, visitors FROM daily_aggregates WHERE dimension = 'page' ORDER BY value",
    );
    assert_eq!(
        pages,
        vec![
            vec!["(other)".to_owned(), "BigInt(1)".into()],
            vec!["/popular".to_owned(), "BigInt(6)".into()]
        ]
    );
    let sources = stopped.rows(
        "SELECT value, visitors FROM daily_aggregates WHERE dimension = 'source' ORDER BY value",
    );
    assert_eq!(
        sources,
        vec![
            vec!["(other)".to_owned(), "BigInt(1)".into()],
            vec!["Google".to_owned(), "BigInt(6)".into()]
        ]
    );
    // Only rows that name no value may hold fewer than min_crowd (5) visitors.
    let small = stopped.rows(
        "SELECT dimension, value, visitors FROM daily_aggregates \
         WHERE dimension <> 'total' AND value <> '(other)' AND visitors < 5",
    );
    assert!(small.is_empty(), "{small:?}");
    // Pairs name two values (or a value and `(other)`). While the day's events are
    // kept beside them, its pairs are exact, small cells too.
    let pair = stopped.rows(
        "SELECT visitors FROM daily_pairs WHERE dimension = 'source' AND value = 'Google' \
         AND dimension2 = 'page' AND value2 = '/popular'",
    );
    assert_eq!(pair, [["BigInt(6)"]]);
    assert_eq!(
        stopped.rows("SELECT count(*) FROM exact_pairs_days"),
        [["BigInt(1)"]]
    );
    // The aggregates agree with the events they came from.
    let from_events = stopped.rows("SELECT count(DISTINCT visitor_id), count(*) FROM events");
    assert_eq!(
        from_events,
        vec![vec!["BigInt(7)".to_owned(), "BigInt(7)".into()]]
    );
    assert!(
        contains(&stopped.all_bytes(), "expire-me-zq7"),
        "still an event: in the file"
    );

    // Past the event retention the events are gone, from the table and the bytes.
    let server = start_at(stopped.dir, "2026-03-01T12:00:00Z");
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT count(*) FROM events"),
        vec![vec!["BigInt(0)".to_owned()]]
    );
    // Compaction carried the views and the roll-up macros into the fresh file.
    let catalog = stopped.rows(
        "SELECT (SELECT count(*) FROM duckdb_functions() \
                 WHERE function_name = 'rollup_rows'), \
         (SELECT count(*) FROM duckdb_views() WHERE view_name = 'sessions')",
    );
    assert_eq!(
        catalog,
        vec![vec!["BigInt(1)".to_owned(), "BigInt(1)".into()]]
    );
    assert_eq!(
        stopped
            .rows("SELECT count(*) FROM daily_aggregates WHERE dimension = 'total'")
            .len(),
        1
    );
    // With the events, the pairs' small cells went: every row left holds five or
    // more visitors, and the one of Google and /popular is still there.
    assert_eq!(
        stopped.rows("SELECT count(*) FROM daily_pairs WHERE visitors < 5"),
        [["BigInt(0)"]]
    );
    assert_eq!(
        stopped.rows(
            "SELECT visitors FROM daily_pairs WHERE dimension = 'source' \
             AND value = 'Google' AND dimension2 = 'page' AND value2 = '/popular'"
        ),
        [["BigInt(6)"]]
    );
    assert_eq!(
        stopped.rows("SELECT count(*) FROM exact_pairs_days"),
        [["BigInt(0)"]]
    );
    let bytes = stopped.all_bytes();
    assert!(
        !contains(&bytes, "expire-me-zq7"),
        "an expired event's page is still on disk"
    );
    for id in ids {
        let id: u64 = id[0].parse().expect("visitor id");
        let needle = id.to_le_bytes();
        assert!(
            !bytes.windows(8).any(|w| w == needle),
            "an expired visitor id is still on disk"
        );
    }
}

async fn home_pageview(server: &Server) {
    server
        .event(
            r#"{"n":"pageview","u":"http://example.test/"}"#,
            UA_DESKTOP,
            &[],
        )
        .await;
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A collector stopped just after midnight (a one-minute session timeout, so
/// yesterday's salt is destroyed at 00:01), with yesterday's and today's salts
/// stored: the stopped server and both salts' bytes.
async fn salts_across_midnight() -> (Stopped, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("spoorloos.toml"),
        "[privacy]\nsession_timeout_minutes = 1\n",
    )
    .expect("config");
    let server = start_at(dir, "2026-02-01T23:59:59Z");
    home_pageview(&server).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    home_pageview(&server).await;
    server.wait_stored(2).await;
    let stopped = server.stop();
    let salts = stopped.rows("SELECT CAST(day AS VARCHAR), hex(salt) FROM salts ORDER BY day");
    assert_eq!(salts.len(), 2, "{salts:?}");
    assert_eq!(salts[0][0], "2026-02-01");
    let old = unhex(&salts[0][1]);
    let current = unhex(&salts[1][1]);
    assert!(stopped.all_bytes().windows(32).any(|w| w == old.as_slice()));
    (stopped, old, current)
}

#[tokio::test]
async fn a_destroyed_salt_is_nowhere_on_disk() {
    let (stopped, old, current) = salts_across_midnight().await;

    let server = start_at(stopped.dir, "2026-02-02T00:01:30Z");
    home_pageview(&server).await;
    server.wait_stored(1).await;
    let stopped = server.stop();
    let days = stopped.rows("SELECT CAST(day AS VARCHAR) FROM salts");
    assert_eq!(days, vec![vec!["2026-02-02".to_owned()]]);
    let bytes = stopped.all_bytes();
    assert!(
        !bytes.windows(32).any(|w| w == old.as_slice()),
        "the destroyed salt is still on disk"
    );
    assert!(
        bytes.windows(32).any(|w| w == current.as_slice()),
        "today's salt must survive"
    );
}

/// A salt destruction whose compaction fails (something already sits at the
/// `.compact` path) is owed, not forgotten: `/metrics` shows it, no half-written
/// copy is left, and a later start finishes it, so the salt's bytes are gone.
#[tokio::test]
async fn a_failed_salt_destruction_is_finished_later() {
    let (stopped, old, _) = salts_across_midnight().await;

    // The compaction cannot write its copy: a folder is in the way.
    let blocker = stopped.dir.path().join("spoorloos.duckdb.compact");
    std::fs::create_dir(&blocker).expect("blocker");
    std::fs::write(blocker.join("keep"), "x").expect("blocker file");
    let server = start_at(stopped.dir, "2026-02-02T00:01:30Z");
    home_pageview(&server).await;
    server.wait_stored(1).await;
    server
        .wait_metric("spoorloos_salt_destruction_pending", 1)
        .await;
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT CAST(day AS VARCHAR) FROM salts"),
        vec![vec!["2026-02-02".to_owned()]]
    );
    assert!(
        stopped
            .output
            .contains("a destroyed salt is still in the database file"),
        "{}",
        stopped.output
    );

    // Out of the way, a normal start finishes the destruction.
    std::fs::remove_dir_all(&blocker).expect("remove blocker");
    let server = start_at(stopped.dir, "2026-02-02T00:02:00Z");
    home_pageview(&server).await;
    server.wait_stored(1).await;
    let metrics = server.metrics().await;
    assert_eq!(
        metric(&metrics, "spoorloos_salt_destruction_pending"),
        0.0,
        "{metrics}"
    );
    let stopped = server.stop();
    let leftovers: Vec<_> = std::fs::read_dir(stopped.dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".compact"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(
        !stopped.all_bytes().windows(32).any(|w| w == old.as_slice()),
        "the destroyed salt is still on disk"
    );
}

#[tokio::test]
async fn days_follow_the_clock_when_it_goes_back() {
    let body = r#"{"n":"pageview","u":"http://example.test/","d":"example.test"}"#;
    let total = |stopped: &Stopped| {
        stopped.rows(
            "SELECT CAST(day AS VARCHAR), visitors FROM daily_aggregates WHERE dimension = 'total'",
        )
    };
    let stopped = visitors_at(
        tempfile::tempdir().expect("dir"),
        "2026-01-10T12:00:00Z",
        &["203.0.113.1", "203.0.113.2"],
    )
    .await;

    // The clock jumps two days ahead: day 10 has ended and is rolled up.
    let server = start_at(stopped.dir, "2026-01-12T12:00:00Z");
    server
        .wait_metric("spoorloos_days_rolled_up_total", 1)
        .await;
    let stopped = server.stop();
    assert_eq!(total(&stopped), [["2026-01-10", "BigInt(2)"]]);

    // Back on day 10, the day is open again and takes another visitor.
    let server = start_at(stopped.dir, "2026-01-10T18:00:00Z");
    server
        .event(body, UA_DESKTOP, &[("x-forwarded-for", "203.0.113.3")])
        .await;
    server.wait_stored(1).await;
    let stopped = server.stop();
    assert!(total(&stopped).is_empty(), "{:?}", total(&stopped));
    assert!(
        stopped.output.contains("the clock went back"),
        "{}",
        stopped.output
    );

    // Once it ends, it is rolled up with all three.
    let server = start_at(stopped.dir, "2026-01-11T00:30:00Z");
    server
        .wait_metric("spoorloos_days_rolled_up_total", 1)
        .await;
    let stopped = server.stop();
    assert_eq!(total(&stopped), [["2026-01-10", "BigInt(3)"]]);
}

/// A clock that ran weeks ahead and came back: the events it stamped ahead are
/// deleted with what was derived from them (their pseudonyms would otherwise
/// outlive their salts by as long as it ran ahead), the log says so, and the
/// aggregates of the days it passed stay.
#[tokio::test]
async fn events_stamped_ahead_of_a_clock_that_went_back_are_deleted() {
    let stopped = visitors_at(
        tempfile::tempdir().expect("dir"),
        "2026-01-10T12:00:00Z",
        &["203.0.113.1", "203.0.113.2"],
    )
    .await;

    // Fifty days ahead: day 10's events expire (rolled up first), two more arrive.
    let stopped = visitors_at(
        stopped.dir,
        "2026-03-01T12:00:00Z",
        &["203.0.113.3", "203.0.113.4"],
    )
    .await;
    let server = start_at(stopped.dir, "2026-03-03T12:00:00Z");
    server
        .wait_metric("spoorloos_days_rolled_up_total", 1)
        .await;
    let stopped = server.stop();
    let ahead = stopped.rows("SELECT DISTINCT CAST(visitor_id AS VARCHAR) FROM events");
    assert_eq!(ahead.len(), 2, "{ahead:?}");

    // Back on day 11: the events of March go, the aggregates of both days stay.
    let stopped = start_at(stopped.dir, "2026-01-11T12:00:00Z").stop();
    assert_eq!(stopped.rows("SELECT count(*) FROM events"), [["BigInt(0)"]]);
    assert_eq!(stopped.rows("SELECT count(*) FROM visits"), [["BigInt(0)"]]);
    assert_eq!(
        stopped.rows(
            "SELECT CAST(day AS VARCHAR), visitors FROM daily_aggregates \
             WHERE dimension = 'total' ORDER BY day"
        ),
        [["2026-01-10", "BigInt(2)"], ["2026-03-01", "BigInt(2)"]]
    );
    assert!(
        stopped.output.contains("stamped ahead of the clock"),
        "{}",
        stopped.output
    );
    let bytes = stopped.all_bytes();
    for id in ahead {
        let id: u64 = id[0].parse().expect("visitor id");
        assert!(
            !bytes.windows(8).any(|w| w == id.to_le_bytes()),
            "a visitor id stamped ahead is still on disk"
        );
    }
}

/// With the longest session timeout (24 h), a visit kept alive across midnights by
/// a screen that refreshes keeps its visitor id through the day after its salt's
/// day, and not into the next: no visitor id outlives the day after its salt's.
#[tokio::test]
async fn no_visitor_id_outlives_the_day_after_its_salt_s_day() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("spoorloos.toml");
    std::fs::write(
        &cfg,
        format!(
            "sites = [\"{SITE}\"]\ntrusted_proxies = [\"127.0.0.1\"]\n\n[privacy]\nsession_timeout_minutes = 1440\n"
        ),
    )
    .expect("config");
    let cfg = cfg.display().to_string();
    let at = |dir, clock: &str| start_in(dir, &["--config", &cfg, "--clock-start", clock]);
    let body = r#"{"n":"pageview","u":"http://example.test/screen","d":"example.test"}"#;
    let screen = [("x-forwarded-for", "203.0.113.9")];
    let mut dir = dir;
    for clock in [
        "2026-01-10T23:50:00Z",
        "2026-01-11T12:00:00Z",
        "2026-01-11T23:55:00Z",
        "2026-01-12T06:00:00Z",
    ] {
        let server = at(dir, clock);
        server.event(body, UA_DESKTOP, &screen).await;
        server.wait_stored(1).await;
        dir = server.stop().dir;
    }
    let stopped = Stopped {
        dir,
        output: String::new(),
    };
    let ids = stopped.rows(
        "SELECT CAST(CAST(ts AS DATE) AS VARCHAR), CAST(visitor_id AS VARCHAR), \
         CAST(session_id AS VARCHAR) FROM events ORDER BY ts",
    );
    assert_eq!(ids.len(), 4, "{ids:?}");
    // One visit through the day after it began, under the first day's visitor id.
    assert!(ids[..3].iter().all(|r| r[1..] == ids[0][1..]), "{ids:?}");
    // On the day after that, a visitor id and a visit of their own.
    assert_ne!(ids[3][1], ids[0][1], "{ids:?}");
    assert_ne!(ids[3][2], ids[0][2], "{ids:?}");
    // And the first day's salt is gone.
    assert_eq!(
        stopped.rows("SELECT count(*) FROM salts WHERE day <= '2026-01-10'"),
        [["BigInt(0)"]]
    );
}
