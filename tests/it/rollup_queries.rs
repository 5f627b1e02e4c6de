//! Answers beyond the event retention: a day is queried while its events exist and
//! again after they expired (answered from the daily aggregates, and from the daily
//! pairs for a filter with a breakdown by another property), and the numbers must be
//! the same; what aggregates cannot answer is refused with a 400. Also the
//! minimum crowd size on answers from events.
//!
//! No visit here spans midnight: the roll-up cuts a visit at midnight (it counts on
//! both days), while the events path counts it once.

use serde_json::{Value, json};

use crate::support::*;

const SITE: &str = "rollup.test";
const KEY: &str = "test-key-rollup";
const US: &str = "216.160.83.56";
const JP: &str = "2001:218::";
const SE: &str = "89.160.20.112";

fn config(dir: &std::path::Path, min_crowd: u32) -> std::path::PathBuf {
    let path = dir.join("rollup.toml");
    let text = format!(
        r#"sites = ["{SITE}"]
trusted_proxies = ["127.0.0.1"]

[geoip]
country = "{geo}"

[[api_keys]]
name = "all"
hash = "{key}"

[retention]
min_crowd = {min_crowd}
"#,
        geo = shared("mmdb/maxmind-test/GeoIP2-City-Test.mmdb").display(),
        key = blake3::hash(KEY.as_bytes()).to_hex(),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn start_at(dir: tempfile::TempDir, min_crowd: u32, at: &str) -> Server {
    let config = config(dir.path(), min_crowd);
    start_in(
        dir,
        &[
            "--config",
            &config.display().to_string(),
            "--clock-start",
            at,
        ],
    )
}

async fn send(server: &Server, ip: &str, ua: &str, name: &str, path: &str, referrer: &str) {
    let mut body = json!({"name": name, "url": format!("https://{SITE}{path}"), "domain": SITE});
    if !referrer.is_empty() {
        body["referrer"] = json!(referrer);
    }
    let resp = server
        .event(&body.to_string(), ua, &[("x-forwarded-for", ip)])
        .await;
    assert_eq!(resp.status(), 202, "{body}");
}

async fn post(server: &Server, body: &Value) -> (u16, Value) {
    let resp = Server::client()
        .post(format!("{}/api/v2/query", server.url))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const METRICS: [&str; 5] = [
    "visitors",
    "visits",
    "pageviews",
    "bounce_rate",
    "visit_duration",
];

/// The results of the questions both paths must answer alike.
async fn answers(server: &Server, range: &Value) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut bodies = vec![
        json!({"metrics": METRICS}),
        json!({"metrics": ["visitors", "events", "views_per_visit"]}),
        json!({"metrics": METRICS, "dimensions": ["time:day"]}),
        json!({"metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]}),
        json!({"metrics": METRICS, "filters": [["is", "visit:country", ["US"]]]}),
        json!({"metrics": ["visitors", "events"], "dimensions": ["event:name"]}),
    ];
    for dim in ["visit:source", "visit:country", "event:page"] {
        bodies.push(json!({"metrics": METRICS, "dimensions": [dim]}));
    }
    // A filter on one property with a breakdown by another (daily pairs).
    let us = json!([["is", "visit:country", ["US"]]]);
    bodies.extend([
        json!({"metrics": METRICS, "dimensions": ["visit:source"], "filters": us}),
        json!({"metrics": ["visitors", "percentage"], "dimensions": ["visit:browser"],
               "filters": us}),
        json!({"metrics": METRICS, "dimensions": ["time:day", "event:page"], "filters": us}),
        json!({"metrics": ["visitors", "events"], "dimensions": ["event:goal"], "filters": us}),
        json!({"metrics": METRICS, "dimensions": ["event:page"],
               "filters": [["is", "visit:source", ["Google"]]]}),
        json!({"metrics": ["visitors", "visits", "pageviews", "events"],
               "dimensions": ["visit:country"], "filters": [["is", "event:page", ["/blog"]]]}),
        json!({"metrics": ["visitors", "events"], "dimensions": ["visit:browser"],
               "filters": [["is", "event:goal", ["Signup"]]]}),
        json!({"metrics": ["visitors", "pageviews", "bounce_rate"], "dimensions": ["event:page"],
               "filters": [["is", "visit:entry_page", ["/"]]]}),
    ]);
    for mut body in bodies {
        body["site_id"] = json!(SITE);
        body["date_range"] = range.clone();
        let (status, answer) = post(server, &body).await;
        if status != 200 {
            return Err(format!("{body} → {status} {answer}"));
        }
        out.push(answer["results"].clone());
    }
    Ok(out)
}

/// The answers, or a panic with the collector's log.
async fn answers_or_log(server: Server, range: &Value) -> (Server, Vec<Value>) {
    match answers(&server, range).await {
        Ok(a) => (server, a),
        Err(e) => {
            let stopped = server.stop();
            panic!("{e}\n{}", stopped.output);
        }
    }
}

#[tokio::test]
async fn events_and_aggregates_agree() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start_at(dir, 1, "2026-01-10T10:00:00Z");
    let google = "https://www.google.com/search";
    send(&server, US, UA_DESKTOP, "pageview", "/", google).await;
    send(&server, US, UA_DESKTOP, "pageview", "/pricing", "").await;
    send(
        &server,
        JP,
        UA_DESKTOP,
        "pageview",
        "/blog",
        "https://www.bing.com/",
    )
    .await;
    send(&server, SE, UA_FIREFOX, "pageview", "/", "").await;
    send(&server, US, UA_FIREFOX, "pageview", "/blog", google).await;
    send(&server, US, UA_FIREFOX, "Signup", "/blog", "").await;
    send(&server, SE, UA_MOBILE, "pageview", "/pricing", "").await;
    server.wait_stored(7).await;
    let stopped = server.stop();

    // Late that day: answered from the events alone.
    let day = json!(["2026-01-10", "2026-01-10"]);
    let server = start_at(stopped.dir, 1, "2026-01-10T23:00:00Z");
    let (server, from_events) = answers_or_log(server, &day).await;
    assert_eq!(from_events[0][0]["metrics"][0], json!(5), "{from_events:?}");
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT count(*) FROM sealed_days"),
        [["BigInt(0)"]]
    );

    // The next day, once its visits have ended, the day is rolled up and sealed:
    // then the same questions are answered from its visit partials.
    let server = start_at(stopped.dir, 1, "2026-01-11T00:30:00Z");
    server
        .wait_metric("spoorloos_visit_days_sealed_total", 1)
        .await;
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT CAST(day AS VARCHAR), CAST(last_day AS VARCHAR) FROM sealed_days"),
        [["2026-01-10", "2026-01-10"]]
    );
    let server = start_at(stopped.dir, 1, "2026-01-11T00:40:00Z");
    let (server, from_partials) = answers_or_log(server, &day).await;
    assert_eq!(from_partials, from_events);
    let stopped = server.stop();

    // Past the event retention: events gone, the same answers from aggregates.
    let server = start_at(stopped.dir, 1, "2026-03-01T12:00:00Z");
    let (server, from_aggregates) = answers_or_log(server, &day).await;
    assert_eq!(from_aggregates, from_events);
    // The pair answers are not empty: US visitors by source, Google's by page.
    assert_eq!(
        from_aggregates[9],
        json!([
            {"dimensions": ["Google"], "metrics": [2, 2, 3, 0, 0]},
        ]),
        "{from_aggregates:?}"
    );
    assert_eq!(from_aggregates[13].as_array().map(Vec::len), Some(3));
    // Every standard period takes a filter with a breakdown by another property.
    for (period, google) in [
        ("day", None),
        ("7d", None),
        ("28d", None),
        ("30d", None),
        ("month", None),
        ("6mo", Some(2)),
        ("12mo", Some(2)),
        ("year", Some(2)),
        ("all", Some(2)),
    ] {
        let (status, answer) = post(
            &server,
            &json!({"site_id": SITE, "date_range": period, "metrics": ["visitors"],
                    "dimensions": ["visit:source"],
                    "filters": [["is", "visit:country", ["US"]]]}),
        )
        .await;
        assert_eq!(status, 200, "{period}: {answer}");
        let expected = google.map_or(
            json!([]),
            |n| json!([{"dimensions": ["Google"], "metrics": [n]}]),
        );
        assert_eq!(answer["results"], expected, "{period}");
    }

    // "all" still reaches the old day.
    let (status, all) = post(
        &server,
        &json!({"site_id": SITE, "date_range": "all", "metrics": ["visitors"]}),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["results"][0]["metrics"][0], json!(5));

    // A range straddling the boundary adds today's events to the old aggregates.
    send(&server, JP, UA_MOBILE, "pageview", "/", "").await;
    server.wait_stored(1).await;
    let (status, both) = post(
        &server,
        &json!({"site_id": SITE, "date_range": ["2026-01-01", "2026-03-01"],
                "metrics": ["visitors", "pageviews", "bounce_rate"],
                "dimensions": ["visit:country"]}),
    )
    .await;
    assert_eq!(status, 200, "{both}");
    let jp = both["results"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["dimensions"] == json!(["JP"])))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(jp["metrics"], json!([2, 2, 100]), "{both}");

    // With the minimum crowd size at 1 nothing was folded: no approximation.
    let (status, paired) = post(
        &server,
        &json!({"site_id": SITE, "date_range": day, "metrics": ["visitors"],
                "dimensions": ["event:page"],
                "filters": [["is", "visit:country", ["US"]]]}),
    )
    .await;
    assert_eq!(status, 200, "{paired}");
    assert_eq!(paired["meta"].get("approximate"), None, "{paired}");

    // What aggregates cannot answer is refused, never guessed.
    let (status, refused) = post(
        &server,
        &json!({"site_id": SITE, "date_range": day, "metrics": ["visitors"],
                "dimensions": ["event:goal"],
                "filters": [["is", "event:name", ["Signup"]]]}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["error"],
        json!(
            "this query reaches before 2026-01-30, where only daily aggregates are kept; \
             they cannot combine a filter on event:name with a breakdown by event:goal"
        )
    );
    // A client tells this refusal from a malformed query by its code.
    assert_eq!(refused["code"], json!("past_event_retention"));
    for body in [
        json!({"metrics": ["visitors"], "filters": [["contains", "event:page", ["blog"]]]}),
        json!({"metrics": ["visitors"], "dimensions": ["visit:os_version"]}),
        json!({"metrics": ["time_on_page"], "dimensions": ["event:page"]}),
    ] {
        let mut body = body;
        body["site_id"] = json!(SITE);
        body["date_range"] = day.clone();
        let (status, answer) = post(&server, &body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("only daily aggregates are kept")),
            "{answer}"
        );
    }
    // The visit partials went with the events they came from.
    let stopped = server.stop();
    assert_eq!(
        stopped.rows("SELECT count(*) FROM visit_partials WHERE visit_day < DATE '2026-03-01'"),
        [["BigInt(0)"]]
    );
}

#[tokio::test]
async fn small_crowds_are_folded_in_answers_from_events() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start_at(dir, 5, "2026-01-10T10:00:00Z");
    for i in 0..6 {
        let ip = format!("203.0.113.{}", i + 1);
        send(&server, &ip, UA_DESKTOP, "pageview", "/popular", "").await;
    }
    send(
        &server,
        "198.51.100.7",
        UA_DESKTOP,
        "pageview",
        "/lonely",
        "",
    )
    .await;
    send(
        &server,
        "198.51.100.8",
        UA_DESKTOP,
        "pageview",
        "/alone",
        "",
    )
    .await;
    server.wait_stored(8).await;
    let (status, pages) = post(
        &server,
        &json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "pageviews", "bounce_rate"],
                "dimensions": ["event:page"]}),
    )
    .await;
    assert_eq!(status, 200, "{pages}");
    assert_eq!(
        pages["results"],
        json!([
            {"dimensions": ["/popular"], "metrics": [6, 6, 100]},
            {"dimensions": ["(other)"], "metrics": [2, 2, 100]}
        ])
    );
    // Totals are exempt.
    let (_, total) = post(
        &server,
        &json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors"]}),
    )
    .await;
    assert_eq!(total["results"][0]["metrics"], json!([8]));
    let stopped = server.stop();
    let server = start_at(stopped.dir, 5, "2026-01-11T00:30:00Z");
    server
        .wait_metric("spoorloos_visit_days_sealed_total", 1)
        .await;
    let stopped = server.stop();

    // Past the event retention, a filter with a breakdown comes from the pairs,
    // whose small cells were folded or left out when the events expired (the first
    // lifecycle run, done by the time the collector stops): `meta` says so.
    let server = start_at(stopped.dir, 5, "2026-03-01T12:00:00Z");
    let stopped = server.stop();
    let server = start_at(stopped.dir, 5, "2026-03-01T12:10:00Z");
    let (status, pages) = post(
        &server,
        &json!({"site_id": SITE, "date_range": ["2026-01-10", "2026-01-10"],
                "metrics": ["visitors"], "dimensions": ["event:page"],
                "filters": [["is", "visit:source", ["Direct / None"]]]}),
    )
    .await;
    assert_eq!(status, 200, "{pages}");
    // The two lonely pages' row names "Direct / None" with two visitors: left out.
    assert_eq!(
        pages["results"],
        json!([{"dimensions": ["/popular"], "metrics": [6]}])
    );
    assert!(
        pages["meta"]["approximate"]
            .as_str()
            .is_some_and(|why| why.contains("fewer than 5 visitors")),
        "{pages}"
    );
    server.stop();
}
