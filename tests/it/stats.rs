//! The Stats API end to end: a data set with known answers is sent as real hits over
//! two days (the hidden `--clock-start` places them), then every metric, dimension
//! and filter operator is asked for through `/api/v2/query` and `/api/v1/stats/*`.

use serde_json::{Value, json};

use crate::support::*;

/// Known answers checked without stopping at the first wrong one: each mismatch is
/// kept with the behaviour it belongs to and its line, and all are reported at the
/// end (or, should a later step panic, before that panic's message).
#[derive(Default)]
struct Checks {
    behaviour: &'static str,
    failures: Vec<String>,
}

impl Checks {
    fn fail(&mut self, line: u32, what: String, note: String) {
        self.failures.push(format!(
            "{} (stats.rs:{line}): {what} {note}",
            self.behaviour
        ));
    }

    fn done(mut self) {
        let failures = std::mem::take(&mut self.failures);
        assert!(
            failures.is_empty(),
            "{} known answers differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

impl Drop for Checks {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.failures.is_empty() {
            eprintln!(
                "known answers that differed before the panic:\n{}",
                self.failures.join("\n")
            );
        }
    }
}

/// `assert_eq!` that records the mismatch in a [`Checks`] and goes on.
macro_rules! check_eq {
    ($c:expr, $got:expr, $want:expr $(,)?) => {{
        match (&$got, &$want) {
            (got, want) => {
                if *got != *want {
                    $c.fail(line!(), format!("{got:?}\n    expected {want:?}"), String::new());
                }
            }
        }
    }};
    ($c:expr, $got:expr, $want:expr, $($msg:tt)+) => {{
        match (&$got, &$want) {
            (got, want) => {
                if *got != *want {
                    $c.fail(line!(), format!("{got:?}\n    expected {want:?}"), format!($($msg)+));
                }
            }
        }
    }};
}

/// `assert!` that records the failure in a [`Checks`] and goes on.
macro_rules! check {
    ($c:expr, $cond:expr $(,)?) => {{
        if !$cond {
            $c.fail(line!(), stringify!($cond).to_owned(), String::new());
        }
    }};
    ($c:expr, $cond:expr, $($msg:tt)+) => {{
        if !$cond {
            $c.fail(line!(), stringify!($cond).to_owned(), format!($($msg)+));
        }
    }};
}

const SITE: &str = "example.org";
const OTHER: &str = "other.org";
const KEY: &str = "test-key-all-sites";
const OTHER_KEY: &str = "test-key-other-only";

const GB: &str = "2.125.160.216";
const US: &str = "216.160.83.56";
const JP: &str = "2001:218::";
const SE: &str = "89.160.20.112";

/// A config with two keys (one for every site, one for `other.org` only) and
/// New York time for `other.org`.
fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("stats.toml");
    let text = format!(
        r#"sites = ["{SITE}", "{OTHER}"]
trusted_proxies = ["127.0.0.1"]

[geoip]
country = "{geo}"
city = true

[[api_keys]]
name = "everything"
hash = "{all}"

[[api_keys]]
name = "other only"
hash = "{other}"
sites = ["{OTHER}"]

[site_timezones]
"{OTHER}" = "America/New_York"

# Small numbers on purpose; the crowd-size folding is tested in rollup_queries.rs.
[retention]
min_crowd = 1
"#,
        geo = shared("mmdb/maxmind-test/GeoIP2-City-Test.mmdb").display(),
        all = blake3::hash(KEY.as_bytes()).to_hex(),
        other = blake3::hash(OTHER_KEY.as_bytes()).to_hex(),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn start_at(dir: tempfile::TempDir, config: &std::path::Path, clock: &str) -> Server {
    start_in(
        dir,
        &[
            "--config",
            &config.display().to_string(),
            "--clock-start",
            clock,
        ],
    )
}

struct Hit<'a> {
    ip: &'a str,
    ua: &'a str,
    body: Value,
    gpc: bool,
}

fn hit<'a>(ip: &'a str, ua: &'a str, body: Value) -> Hit<'a> {
    Hit {
        ip,
        ua,
        body,
        gpc: false,
    }
}

fn pv(path: &str) -> Value {
    json!({"name": "pageview", "url": format!("https://{SITE}{path}"), "domain": SITE})
}

async fn send(server: &Server, hits: &[Hit<'_>]) {
    for h in hits {
        let mut headers = vec![("x-forwarded-for", h.ip)];
        if h.gpc {
            headers.push(("sec-gpc", "1"));
        }
        let resp = server.event(&h.body.to_string(), h.ua, &headers).await;
        assert_eq!(resp.status(), 202, "{}", h.body);
    }
}

async fn post(server: &Server, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = Server::client()
        .post(format!("{}/api/v2/query", server.url))
        .json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn v1(server: &Server, path: &str) -> (u16, Value) {
    let resp = Server::client()
        .get(format!("{}/api/v1/stats/{path}", server.url))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `results` of a v2 query that must succeed, as `[[dims…], [metrics…]]` pairs.
async fn q(server: &Server, body: Value) -> Vec<(Vec<String>, Vec<Value>)> {
    let mut body = body;
    if body.get("site_id").is_none() {
        body["site_id"] = json!(SITE);
    }
    if body.get("date_range").is_none() {
        body["date_range"] = json!(["2026-01-10", "2026-01-12"]);
    }
    let (status, answer) = post(server, Some(KEY), &body).await;
    assert_eq!(status, 200, "{body} → {answer}");
    answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let dims = r["dimensions"]
                .as_array()
                .expect("dimensions")
                .iter()
                .map(|d| d.as_str().unwrap_or_default().to_owned())
                .collect();
            (dims, r["metrics"].as_array().expect("metrics").clone())
        })
        .collect()
}

/// The metrics of an aggregate query.
async fn agg(server: &Server, metrics: &[&str], filters: Value) -> Vec<Value> {
    let rows = q(server, json!({"metrics": metrics, "filters": filters})).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().map(|r| r.1).unwrap_or_default()
}

/// A one-dimension breakdown as `(label, metrics)` pairs.
async fn by(
    server: &Server,
    dim: &str,
    metrics: &[&str],
    filters: Value,
) -> Vec<(String, Vec<Value>)> {
    q(
        server,
        json!({"metrics": metrics, "dimensions": [dim], "filters": filters}),
    )
    .await
    .into_iter()
    .map(|(d, m)| (d.join("|"), m))
    .collect()
}

fn rows(pairs: &[(&str, Value)]) -> Vec<(String, Vec<Value>)> {
    pairs
        .iter()
        .map(|(l, v)| {
            let ms = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            ((*l).to_owned(), ms)
        })
        .collect()
}

/// Day 1 (2026-01-10, 10:00 UTC): four visits, one of them under a privacy signal.
/// Day 2 (2026-01-12, 15:00 UTC): the GB visitor again (a new pseudonym: new day),
/// a tablet from Sweden, and one visit to other.org.
async fn data_set(config: &std::path::Path) -> Server {
    let server = start_at(
        tempfile::tempdir().expect("dir"),
        config,
        "2026-01-10T10:00:00Z",
    );
    let mut google = pv("/");
    google["referrer"] = json!("https://www.google.com/");
    send(&server, &[hit(GB, UA_DESKTOP, google)]).await;
    // The GB visit lasts 4 s: the rest of its events come later.
    tokio::time::sleep(std::time::Duration::from_millis(4_000)).await;
    let engaged = json!({"name": "engagement", "url": format!("https://{SITE}/blog/a"), "domain": SITE, "sd": 80, "e": 30000});
    let mut mobile_engaged = engaged.clone();
    mobile_engaged["sd"] = json!(40);
    mobile_engaged["e"] = json!(10000);
    let mut signup = pv("/blog/a");
    signup["name"] = json!("Signup");
    signup["props"] = json!({"plan": "pro", "a/b~c": "odd key"});
    let mut pricing = pv("/pricing");
    pricing["w"] = json!(1280);
    pricing["c"] = json!("4g");
    let anonymous = Hit {
        gpc: true,
        ..hit(SE, UA_DESKTOP, pv("/"))
    };
    send(
        &server,
        &[
            hit(GB, UA_DESKTOP, pv("/blog/a")),
            hit(GB, UA_DESKTOP, engaged.clone()),
            hit(GB, UA_DESKTOP, signup),
            hit(
                US,
                UA_MOBILE,
                pv("/blog/a?utm_source=newsletter&utm_medium=email&utm_campaign=jan"),
            ),
            hit(US, UA_MOBILE, mobile_engaged),
            hit(JP, UA_FIREFOX, pricing),
            anonymous,
        ],
    )
    .await;
    server.wait_stored(8).await;
    let stopped = server.stop();

    let server = start_at(stopped.dir, config, "2026-01-12T15:00:00Z");
    let mut hn = pv("/");
    hn["referrer"] = json!("https://news.ycombinator.com/");
    let mut signup = pv("/pricing");
    signup["name"] = json!("Signup");
    signup["props"] = json!({"plan": "free"});
    send(
        &server,
        &[
            hit(GB, UA_DESKTOP, pv("/blog/b")),
            hit(GB, UA_DESKTOP, pv("/pricing")),
            hit(GB, UA_DESKTOP, signup),
            hit(SE, UA_TABLET, hn),
            hit(
                US,
                UA_DESKTOP,
                json!({"name": "pageview", "url": format!("https://{OTHER}/"), "domain": OTHER}),
            ),
        ],
    )
    .await;
    server.wait_stored(5).await;
    server
}

/// One seeded collector, every behaviour below asked of it; each wrong answer is
/// reported with its behaviour, all of them together.
#[tokio::test]
async fn stats_api_answers_known_numbers() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path());
    let s = data_set(&config).await;

    let mut c = Checks::default();
    c.behaviour = "every_aggregate_metric_over_both_days";
    every_aggregate_metric_over_both_days(&s, &mut c).await;
    c.behaviour = "date_ranges_end_on_the_clock_s_today";
    date_ranges_end_on_the_clock_s_today(&s, &mut c).await;
    c.behaviour = "visit_properties_come_from_the_first_event";
    visit_properties_come_from_the_first_event(&s, &mut c).await;
    c.behaviour = "event_properties_count_their_events";
    event_properties_count_their_events(&s, &mut c).await;
    c.behaviour = "a_date_time_range_by_minute";
    a_date_time_range_by_minute(&s, &mut c).await;
    c.behaviour = "regions_and_cities_with_geoip_city";
    regions_and_cities_with_geoip_city(&s, &mut c).await;
    c.behaviour = "custom_properties_break_down_and_filter";
    custom_properties_break_down_and_filter(&s, &mut c).await;
    c.behaviour = "time_buckets";
    time_buckets(&s, &mut c).await;
    c.behaviour = "every_filter_operator_and_combinator";
    every_filter_operator_and_combinator(&s, &mut c).await;
    c.behaviour = "ordering_and_pagination";
    ordering_and_pagination(&s, &mut c).await;
    c.behaviour = "the_response_shape_and_its_query_echo";
    the_response_shape_and_its_query_echo(&s, &mut c).await;
    c.behaviour = "the_site_time_zone_moves_the_days";
    the_site_time_zone_moves_the_days(&s, &mut c).await;
    c.behaviour = "stats_api_v1_on_the_same_engine";
    stats_api_v1_on_the_same_engine(&s, &mut c).await;
    c.behaviour = "v2_include_labels_totals_and_comparisons";
    v2_include_labels_totals_and_comparisons(&s, &mut c).await;
    s.stop();
    c.done();
}

/// Every aggregate metric over both days. The privacy-signal hit is one visitor
/// and one visit; engagement events are not events.
async fn every_aggregate_metric_over_both_days(s: &Server, c: &mut Checks) {
    let all = agg(
        s,
        &[
            "visitors",
            "visits",
            "pageviews",
            "events",
            "views_per_visit",
            "bounce_rate",
            "visit_duration",
            "percentage",
        ],
        json!([]),
    )
    .await;
    check_eq!(
        c,
        all,
        vec![
            json!(6),
            json!(6),
            json!(8),
            json!(10),
            json!(1.33),
            json!(67),
            json!(1),
            json!(100.0)
        ]
    );
}

/// Date ranges: "today" is 2026-01-12 on the second run's clock.
async fn date_ranges_end_on_the_clock_s_today(s: &Server, c: &mut Checks) {
    let range = |r: Value| json!({"metrics": ["visitors"], "date_range": r});
    check_eq!(c, q(s, range(json!("day"))).await[0].1, vec![json!(2)]);
    check_eq!(c, q(s, range(json!("7d"))).await[0].1, vec![json!(6)]);
    check_eq!(c, q(s, range(json!("month"))).await[0].1, vec![json!(6)]);
    check_eq!(c, q(s, range(json!("all"))).await[0].1, vec![json!(6)]);
    check_eq!(
        c,
        q(s, range(json!(["2026-01-10", "2026-01-10"]))).await[0].1,
        vec![json!(4)]
    );
    check_eq!(
        c,
        q(s, range(json!(["2026-01-11", "2026-01-11"]))).await[0].1,
        vec![json!(0)]
    );
}

/// Visit properties come from the visit's first event.
async fn visit_properties_come_from_the_first_event(s: &Server, c: &mut Checks) {
    check_eq!(
        c,
        by(s, "visit:country", &["visitors", "percentage"], json!([])).await,
        rows(&[
            ("GB", json!([2, 33.3])),
            ("SE", json!([2, 33.3])),
            ("JP", json!([1, 16.7])),
            ("US", json!([1, 16.7])),
        ])
    );
    check_eq!(
        c,
        by(s, "visit:device", &["visitors", "bounce_rate"], json!([])).await,
        rows(&[
            ("Desktop", json!([4, 50])),
            ("Mobile", json!([1, 100])),
            ("Tablet", json!([1, 100])),
        ])
    );
    check_eq!(
        c,
        by(
            s,
            "visit:source",
            &["visitors", "visit_duration"],
            json!([])
        )
        .await,
        rows(&[
            ("Direct / None", json!([3, 0])),
            ("Google", json!([1, 4])),
            ("Hacker News", json!([1, 0])),
            ("newsletter", json!([1, 0])),
        ])
    );
    check_eq!(
        c,
        by(s, "visit:channel", &["visits"], json!([])).await,
        rows(&[
            ("Direct", json!(3)),
            ("Email", json!(1)),
            ("Organic Search", json!(1)),
            ("Organic Social", json!(1)),
        ])
    );
    for (dim, label) in [
        ("visit:utm_source", "newsletter"),
        ("visit:utm_medium", "email"),
        ("visit:utm_campaign", "jan"),
    ] {
        let got = by(s, dim, &["visitors"], json!([])).await;
        check_eq!(
            c,
            got,
            rows(&[("(none)", json!(5)), (label, json!(1))]),
            "{dim}"
        );
    }
    check_eq!(
        c,
        by(s, "visit:referrer", &["visitors"], json!([])).await,
        rows(&[
            ("Direct / None", json!(4)),
            ("google.com", json!(1)),
            ("news.ycombinator.com", json!(1)),
        ])
    );
    check_eq!(
        c,
        by(s, "visit:entry_page", &["visits", "bounce_rate"], json!([])).await,
        rows(&[
            ("/", json!([3, 67])),
            ("/blog/a", json!([1, 100])),
            ("/blog/b", json!([1, 0])),
            ("/pricing", json!([1, 100])),
        ])
    );
    check_eq!(
        c,
        by(s, "visit:exit_page", &["visits"], json!([])).await,
        rows(&[
            ("/", json!(2)),
            ("/blog/a", json!(2)),
            ("/pricing", json!(2)),
        ])
    );
    check_eq!(
        c,
        by(
            s,
            "visit:screen",
            &["visitors"],
            json!([["is", "visit:country", ["JP"]]])
        )
        .await,
        rows(&[("Laptop", json!(1))])
    );
    check_eq!(
        c,
        by(
            s,
            "visit:connection_type",
            &["visitors"],
            json!([["is", "visit:country", ["JP"]]])
        )
        .await,
        rows(&[("4g", json!(1))])
    );
    let browsers = by(s, "visit:browser", &["visitors"], json!([])).await;
    check_eq!(
        c,
        browsers
            .iter()
            .map(|r| r.1[0].as_i64().unwrap_or(0))
            .sum::<i64>(),
        6
    );
    check!(
        c,
        browsers.contains(&("Firefox".into(), vec![json!(1)])),
        "{browsers:?}"
    );
    let versions = by(
        s,
        "visit:browser_version",
        &["visitors"],
        json!([["is", "visit:browser", ["Firefox"]]]),
    )
    .await;
    check_eq!(c, versions, rows(&[("132", json!(1))]));
    let os = by(
        s,
        "visit:os",
        &["visitors"],
        json!([["is", "visit:country", ["JP"]]]),
    )
    .await;
    check_eq!(c, os.len(), 1);
    let osv = by(
        s,
        "visit:os_version",
        &["visitors"],
        json!([["is", "visit:country", ["JP"]]]),
    )
    .await;
    check_eq!(c, osv.len(), 1);
}

/// Event properties.
async fn event_properties_count_their_events(s: &Server, c: &mut Checks) {
    check_eq!(
        c,
        by(
            s,
            "event:page",
            &["visitors", "pageviews", "events", "bounce_rate"],
            json!([])
        )
        .await,
        rows(&[
            ("/", json!([3, 3, 3, 67])),
            ("/blog/a", json!([2, 2, 3, 100])),
            ("/pricing", json!([2, 2, 3, 100])),
            ("/blog/b", json!([1, 1, 1, 0])),
        ])
    );
    check_eq!(
        c,
        by(
            s,
            "event:page",
            &["time_on_page", "scroll_depth"],
            json!([["is", "event:page", ["/blog/a"]]])
        )
        .await,
        rows(&[("/blog/a", json!([20, 60]))])
    );
    check_eq!(
        c,
        agg(
            s,
            &["visitors", "time_on_page", "scroll_depth"],
            json!([["is", "event:page", ["/blog/a"]]])
        )
        .await,
        vec![json!(2), json!(20), json!(60)]
    );
    check_eq!(
        c,
        by(s, "event:name", &["visitors", "events"], json!([])).await,
        rows(&[("pageview", json!([6, 8])), ("Signup", json!([2, 2]))])
    );
    check_eq!(
        c,
        by(
            s,
            "event:goal",
            &["visitors", "events", "conversion_rate"],
            json!([])
        )
        .await,
        rows(&[("Signup", json!([2, 2, 33.33]))])
    );
    check_eq!(
        c,
        agg(
            s,
            &["visitors", "conversion_rate"],
            json!([["is", "event:goal", ["Signup"]]])
        )
        .await,
        vec![json!(2), json!(33.33)]
    );
}

/// A date-time range by minute, as a live view asks: the second day's visits
/// arrived in its 15:00 minute.
async fn a_date_time_range_by_minute(s: &Server, c: &mut Checks) {
    let (status, answer) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "date_range": ["2026-01-12T14:50:00Z", "2026-01-12T15:10:00Z"],
                "metrics": ["visitors", "pageviews"], "dimensions": ["time:minute"],
                "include": {"time_labels": true}}),
    )
    .await;
    check_eq!(c, status, 200, "{answer}");
    check_eq!(
        c,
        answer["results"],
        json!([{"dimensions": ["2026-01-12 15:00:00"], "metrics": [2, 3]}]),
        "{answer}"
    );
    let labels = answer["meta"]["time_labels"].as_array().expect("labels");
    check_eq!(c, labels.len(), 21, "{labels:?}");
    check_eq!(c, labels[10], "2026-01-12 15:00:00");
    let (status, answer) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "date_range": ["2026-01-01T00:00:00Z", "2026-01-12T15:10:00Z"],
                "metrics": ["visitors"]}),
    )
    .await;
    check_eq!(c, status, 400, "{answer}");
}

/// Regions (ISO 3166-2) and cities, kept with `geoip.city`.
async fn regions_and_cities_with_geoip_city(s: &Server, c: &mut Checks) {
    let cases = [
        (
            "visit:region",
            json!([["is", "visit:country", ["GB", "US"]]]),
            rows(&[("GB-ENG", json!([2])), ("US-WA", json!([1]))]),
        ),
        (
            "visit:city",
            json!([["is", "visit:region", ["GB-ENG"]]]),
            rows(&[("Boxford", json!([2]))]),
        ),
        // The name forms: English names for the codes, in answers and in filters.
        (
            "visit:region_name",
            json!([[
                "is",
                "visit:country_name",
                ["United Kingdom", "United States"]
            ]]),
            rows(&[("England", json!([2])), ("Washington", json!([1]))]),
        ),
        (
            "visit:city_name",
            json!([["contains", "visit:region_name", ["engl"], {"case_sensitive": false}]]),
            rows(&[("Boxford", json!([2]))]),
        ),
    ];
    for (dimension, filters, expected) in cases {
        check_eq!(c, by(s, dimension, &["visitors"], filters).await, expected);
    }
}

/// Custom properties: a breakdown (events without the key are "(none)"), a filter,
/// a key with the JSON Pointer's special characters, and v1.
async fn custom_properties_break_down_and_filter(s: &Server, c: &mut Checks) {
    check_eq!(
        c,
        by(s, "event:props:plan", &["visitors", "events"], json!([])).await,
        rows(&[
            ("(none)", json!([6, 8])),
            ("free", json!([1, 1])),
            ("pro", json!([1, 1]))
        ])
    );
    check_eq!(
        c,
        by(
            s,
            "event:goal",
            &["visitors"],
            json!([["is", "event:props:plan", ["pro"]]])
        )
        .await,
        rows(&[("Signup", json!([1]))])
    );
    check_eq!(
        c,
        by(
            s,
            "event:props:a/b~c",
            &["visitors"],
            json!([["is_not", "event:props:a/b~c", ["(none)"]]])
        )
        .await,
        rows(&[("odd key", json!([1]))])
    );
    let (status, answer) = v1(
        s,
        &format!(
            "breakdown?site_id={SITE}&period=custom&date=2026-01-10,2026-01-12&property=event:props:plan&filters=event:props:plan%3D%3Dfree"
        ),
    )
    .await;
    check_eq!(c, status, 200, "{answer}");
    check_eq!(c, answer["results"][0]["plan"], "free", "{answer}");
    let (status, answer) = v1(
        s,
        &format!("props?site_id={SITE}&period=custom&date=2026-01-10,2026-01-12"),
    )
    .await;
    check_eq!(c, status, 200, "{answer}");
    check_eq!(c, answer["results"], json!(["plan", "a/b~c"]), "{answer}");
    let (status, answer) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "date_range": "7d", "metrics": ["visitors"],
                "dimensions": ["event:props:a", "event:props:b", "event:props:c",
                               "event:props:d", "event:props:e"]}),
    )
    .await;
    check_eq!(c, status, 400, "{answer}");
    check_eq!(
        c,
        agg(
            s,
            &["conversion_rate"],
            json!([
                ["is", "event:name", ["Signup"]],
                ["is", "visit:country", ["GB"]]
            ])
        )
        .await,
        vec![json!(100.0)]
    );
    check_eq!(
        c,
        by(s, "event:hostname", &["visitors"], json!([])).await,
        rows(&[("example.org", json!(6))])
    );
}

/// Time buckets.
async fn time_buckets(s: &Server, c: &mut Checks) {
    check_eq!(
        c,
        q(
            s,
            json!({"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]})
        )
        .await,
        vec![
            (vec!["2026-01-10".to_owned()], vec![json!(4), json!(5)]),
            (vec!["2026-01-12".to_owned()], vec![json!(2), json!(3)]),
        ]
    );
    check_eq!(
        c,
        q(
            s,
            json!({"metrics": ["visitors"], "dimensions": ["time"], "date_range": "day"})
        )
        .await,
        vec![(vec!["2026-01-12 15:00:00".to_owned()], vec![json!(2)])]
    );
    check_eq!(
        c,
        q(
            s,
            json!({"metrics": ["visits"], "dimensions": ["time:week"]})
        )
        .await,
        vec![
            (vec!["2026-01-05".to_owned()], vec![json!(4)]),
            (vec!["2026-01-12".to_owned()], vec![json!(2)]),
        ]
    );
    check_eq!(
        c,
        q(
            s,
            json!({"metrics": ["visits"], "dimensions": ["time:month"]})
        )
        .await,
        vec![(vec!["2026-01-01".to_owned()], vec![json!(6)])]
    );
    check_eq!(c,
        q(s, json!({"metrics": ["visitors"], "dimensions": ["time:hour", "visit:country"], "date_range": ["2026-01-10", "2026-01-10"]})).await.len(),
        4
    );
}

/// Every filter operator and combinator.
async fn every_filter_operator_and_combinator(s: &Server, c: &mut Checks) {
    let visitors = |f: Value| async move { agg(s, &["visitors"], f).await[0].clone() };
    check_eq!(
        c,
        visitors(json!([["is", "visit:country", ["GB", "US"]]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["is_not", "visit:country", ["GB"]]])).await,
        json!(4)
    );
    check_eq!(
        c,
        visitors(json!([["contains", "event:page", ["blog"]]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["contains", "event:page", ["BLOG"], {"case_sensitive": false}]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["contains", "event:page", ["BLOG"]]])).await,
        json!(0)
    );
    check_eq!(
        c,
        visitors(json!([["contains_not", "event:page", ["blog"]]])).await,
        json!(5)
    );
    check_eq!(
        c,
        visitors(json!([["matches", "event:page", ["^/blog/[ab]$"]]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["matches_not", "event:page", ["^/blog"]]])).await,
        json!(5)
    );
    check_eq!(
        c,
        visitors(json!([[
            "or",
            [
                ["is", "visit:country", ["JP"]],
                ["is", "visit:device", ["Tablet"]]
            ]
        ]]))
        .await,
        json!(2)
    );
    check_eq!(
        c,
        visitors(json!([["not", ["is", "visit:country", ["GB"]]]])).await,
        json!(4)
    );
    check_eq!(
        c,
        visitors(json!([[
            "and",
            [
                ["contains", "event:page", ["blog"]],
                ["is", "visit:country", ["GB"]]
            ]
        ]]))
        .await,
        json!(2)
    );
    check_eq!(
        c,
        visitors(json!([["is", "visit:source", ["Direct / None"]]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["is", "visit:entry_page", ["/"]]])).await,
        json!(3)
    );
    check_eq!(
        c,
        visitors(json!([["is", "event:hostname", ["example.org"]]])).await,
        json!(6)
    );
}

/// Ordering and pagination.
async fn ordering_and_pagination(s: &Server, c: &mut Checks) {
    let page = q(
        s,
        json!({"metrics": ["visitors"], "dimensions": ["visit:country"], "order_by": [["visit:country", "desc"]], "pagination": {"limit": 2, "offset": 1}}),
    )
    .await;
    check_eq!(
        c,
        page,
        vec![
            (vec!["SE".to_owned()], vec![json!(2)]),
            (vec!["JP".to_owned()], vec![json!(1)]),
        ]
    );
}

/// The response's shape and its `query` echo.
async fn the_response_shape_and_its_query_echo(s: &Server, c: &mut Checks) {
    let (status, answer) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "7d"}),
    )
    .await;
    check_eq!(c, status, 200);
    check_eq!(
        c,
        answer["results"],
        json!([{"dimensions": [], "metrics": [6]}])
    );
    check_eq!(c, answer["meta"], json!({}));
    check_eq!(
        c,
        answer["query"]["date_range"],
        json!(["2026-01-06T00:00:00+00:00", "2026-01-12T23:59:59+00:00"])
    );
    check_eq!(
        c,
        answer["query"]["order_by"],
        json!([["visitors", "desc"]])
    );
    check_eq!(
        c,
        answer["query"]["pagination"],
        json!({"limit": 10000, "offset": 0})
    );
}

/// The site's time zone: other.org runs on New York time (15:00 UTC = 10:00).
async fn the_site_time_zone_moves_the_days(s: &Server, c: &mut Checks) {
    let (status, answer) = post(
        s,
        Some(OTHER_KEY),
        &json!({"site_id": OTHER, "metrics": ["visitors"], "dimensions": ["time:hour"], "date_range": "day"}),
    )
    .await;
    check_eq!(c, status, 200, "{answer}");
    check_eq!(
        c,
        answer["results"],
        json!([{"dimensions": ["2026-01-12 10:00:00"], "metrics": [1]}])
    );
    check_eq!(
        c,
        answer["query"]["date_range"][0],
        json!("2026-01-12T00:00:00-05:00")
    );
}

/// Stats API v1 on the same engine.
async fn stats_api_v1_on_the_same_engine(s: &Server, c: &mut Checks) {
    let (status, a) = v1(s, &format!("aggregate?site_id={SITE}&period=7d&metrics=visitors,pageviews,bounce_rate,visit_duration,views_per_visit,visits,events")).await;
    check_eq!(c, status, 200, "{a}");
    check_eq!(
        c,
        a["results"],
        json!({
            "visitors": {"value": 6}, "pageviews": {"value": 8}, "bounce_rate": {"value": 67},
            "visit_duration": {"value": 1}, "views_per_visit": {"value": 1.33},
            "visits": {"value": 6}, "events": {"value": 10}
        })
    );
    let (_, a) = v1(s, &format!("aggregate?site_id={SITE}&period=custom&date=2026-01-11,2026-01-12&metrics=visitors,bounce_rate&compare=previous_period")).await;
    check_eq!(
        c,
        a["results"],
        json!({"visitors": {"value": 2, "change": -50}, "bounce_rate": {"value": 50, "change": -25}})
    );
    let (_, a) = v1(
        s,
        &format!(
            "aggregate?site_id={SITE}&period=day&date=2026-01-10&filters=visit:country%3D%3DGB%7CUS"
        ),
    )
    .await;
    check_eq!(c, a["results"]["visitors"]["value"], json!(2));
    let (_, a) = v1(
        s,
        &format!("timeseries?site_id={SITE}&period=7d&metrics=visitors,pageviews"),
    )
    .await;
    let series = a["results"].as_array().expect("results");
    check_eq!(c, series.len(), 7, "{a}");
    check_eq!(
        c,
        series[4],
        json!({"date": "2026-01-10", "visitors": 4, "pageviews": 5})
    );
    check_eq!(
        c,
        series[5],
        json!({"date": "2026-01-11", "visitors": 0, "pageviews": 0})
    );
    check_eq!(
        c,
        series[6],
        json!({"date": "2026-01-12", "visitors": 2, "pageviews": 3})
    );
    let (_, a) = v1(s, &format!("breakdown?site_id={SITE}&period=7d&property=visit:country&filters=event:page%3D%3D/blog/**")).await;
    check_eq!(
        c,
        a["results"],
        json!([{"country": "GB", "visitors": 2}, {"country": "US", "visitors": 1}])
    );
    let (_, a) = v1(s, &format!("breakdown?site_id={SITE}&period=7d&property=visit:country&filters=visit:country!%3DGB;event:page%3D%3D/blog/*")).await;
    check_eq!(c, a["results"], json!([{"country": "US", "visitors": 1}]));
    let (_, a) = v1(
        s,
        &format!("breakdown?site_id={SITE}&period=7d&property=visit:country&limit=1&page=2"),
    )
    .await;
    check_eq!(c, a["results"], json!([{"country": "SE", "visitors": 2}]));
    let (_, a) = v1(s, &format!("breakdown?site_id={SITE}&period=7d&property=event:page&metrics=visitors&filters=event:page%3D%3D/blog*")).await;
    check_eq!(c, a["results"], json!([]));
    let (status, a) = v1(s, &format!("realtime/visitors?site_id={SITE}")).await;
    check_eq!(c, (status, a), (200, json!(2)));
}

/// v2 `include`: every time bucket, the row count before pagination, and each
/// row next to its counterpart in another period (the v1 figures above).
async fn v2_include_labels_totals_and_comparisons(s: &Server, c: &mut Checks) {
    let (status, a) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "metrics": ["visitors"],
        "dimensions": ["time:day"], "date_range": ["2026-01-10", "2026-01-12"],
        "include": {"time_labels": true, "imports": true}}),
    )
    .await;
    check_eq!(c, status, 200, "{a}");
    check_eq!(
        c,
        a["meta"]["time_labels"],
        json!(["2026-01-10", "2026-01-11", "2026-01-12"])
    );
    check_eq!(c, a["results"].as_array().map(Vec::len), Some(2), "{a}");
    let (status, a) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "metrics": ["visitors"],
        "dimensions": ["visit:country"], "date_range": "7d", "pagination": {"limit": 1},
        "include": {"total_rows": true}}),
    )
    .await;
    check_eq!(c, status, 200, "{a}");
    check_eq!(c, a["meta"]["total_rows"], json!(4));
    check_eq!(
        c,
        a["results"],
        json!([{"dimensions": ["GB"], "metrics": [2]}])
    );
    let previous = json!({"mode": "previous_period"});
    let (_, a) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "metrics": ["visitors", "bounce_rate"],
        "date_range": ["2026-01-11", "2026-01-12"], "include": {"comparisons": previous}}),
    )
    .await;
    check_eq!(
        c,
        a["results"],
        json!([{"dimensions": [], "metrics": [2, 50],
                "comparison": {"dimensions": [], "metrics": [4, 75], "change": [-50, -25]}}])
    );
    let (_, a) = post(
        s,
        Some(KEY),
        &json!({"site_id": SITE, "metrics": ["visitors"],
        "dimensions": ["time:day"], "date_range": ["2026-01-11", "2026-01-12"],
        "include": {"comparisons": previous}}),
    )
    .await;
    check_eq!(
        c,
        a["results"],
        json!([{"dimensions": ["2026-01-12"], "metrics": [2],
                "comparison": {"dimensions": ["2026-01-10"], "metrics": [4], "change": [-50]}}])
    );
    let (_, a) = post(s, Some(KEY), &json!({"site_id": SITE, "metrics": ["visitors"],
        "dimensions": ["visit:country"], "date_range": ["2026-01-12", "2026-01-12"],
        "include": {"comparisons": {"mode": "custom", "date_range": ["2026-01-10", "2026-01-10"]}}})).await;
    check_eq!(
        c,
        a["results"][0],
        json!({"dimensions": ["GB"], "metrics": [1],
               "comparison": {"dimensions": ["GB"], "metrics": [1], "change": [0]}})
    );
    for (include, needle) in [
        (json!({"time_labels": true}), "time_labels"),
        (json!({"comparisons": {"mode": "last_week"}}), "comparisons"),
        (
            json!({"comparisons": {"mode": "custom", "date_range": ["2026-01-10"]}}),
            "date_range",
        ),
        (json!({"total_rows": "yes"}), "total_rows"),
        (json!({"funnel": true}), "funnel"),
    ] {
        let (status, a) = post(
            s,
            Some(KEY),
            &json!({"site_id": SITE, "metrics": ["visitors"],
            "date_range": "7d", "include": include}),
        )
        .await;
        check_eq!(c, status, 400, "{include} → {a}");
        check!(
            c,
            a["error"].as_str().unwrap_or_default().contains(needle),
            "{a}"
        );
    }
    let (status, a) = v1(s, &format!("aggregate?site_id={SITE}&period=3d")).await;
    check_eq!(c, status, 400);
    check!(
        c,
        a["error"].as_str().unwrap_or_default().contains("period"),
        "{a}"
    );
}

#[tokio::test]
async fn keys_and_bad_queries() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path());
    let s = start_in(
        tempfile::tempdir().expect("dir"),
        &["--config", &config.display().to_string()],
    );
    let body = json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "7d"});

    // Keys: 401 without or with a wrong key, 403 for a site the key may not read.
    assert_eq!(post(&s, None, &body).await.0, 401);
    assert_eq!(post(&s, Some("wrong"), &body).await.0, 401);
    let (status, answer) = post(&s, Some(OTHER_KEY), &body).await;
    assert_eq!(status, 403, "{answer}");
    let mut other = body.clone();
    other["site_id"] = json!(OTHER);
    assert_eq!(post(&s, Some(OTHER_KEY), &other).await.0, 200);
    let (status, answer) = post(&s, Some(KEY), &body).await;
    assert_eq!(
        (status, &answer["results"]),
        (200, &json!([{"dimensions": [], "metrics": [0]}]))
    );
    let resp = Server::client()
        .get(format!("{}/api/v1/stats/aggregate?site_id={SITE}", s.url))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    // The sites a key may read, and what the collector stores, for API clients.
    let get = |path: &str, key: &str| {
        let request = Server::client()
            .get(format!("{}/api/v1/{path}", s.url))
            .bearer_auth(key)
            .send();
        async move {
            let answer = request.await.expect("request");
            let status = answer.status().as_u16();
            (status, answer.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(
        get("sites", KEY).await,
        (
            200,
            json!({"sites": [{"domain": SITE, "timezone": "UTC"}, {"domain": OTHER, "timezone": "America/New_York"}]})
        )
    );
    assert_eq!(
        get("sites", OTHER_KEY).await,
        (
            200,
            json!({"sites": [{"domain": OTHER, "timezone": "America/New_York"}]})
        )
    );
    assert_eq!(get("sites", "wrong").await.0, 401);
    let (_, en) = get("privacy", KEY).await;
    let text = en["privacy"].as_str().unwrap_or_default();
    assert!(en["lang"] == "en" && text.contains("BLAKE3"), "{en}");
    let (_, nl) = get("privacy?lang=nl", KEY).await;
    assert_eq!(nl["lang"], "nl", "{nl}");
    assert_ne!(nl["privacy"], en["privacy"]);
    assert_eq!(get("privacy", "wrong").await.0, 401);
    // Ingestion needs no key.
    let hit = s
        .event(
            &json!({"name": "pageview", "url": format!("https://{SITE}/"), "domain": SITE})
                .to_string(),
            UA_DESKTOP,
            &[],
        )
        .await;
    assert_eq!(hit.status(), 202);

    // Bad queries: 400 with what is wrong.
    let cases = [
        (json!({"metrics": ["nope"]}), "Unknown metric 'nope'."),
        (
            json!({"metrics": ["visitors"], "dimensions": ["visit:nope"]}),
            "Invalid dimension 'visit:nope'.",
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["equals", "visit:country", ["NL"]]]}),
            "Unknown operator for filter",
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["is", "visit:nope", ["NL"]]]}),
            "Invalid filter dimension 'visit:nope'.",
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["is", "visit:country", ["NLD"]]]}),
            "2-letter country code",
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["matches", "event:page", ["("]]]}),
            "Invalid regular expression",
        ),
        (
            json!({"metrics": ["visitors"], "date_range": "3d"}),
            "Invalid date_range \"3d\".",
        ),
        (
            json!({"metrics": ["visitors"], "date_range": ["2026-02-30", "2026-03-01"]}),
            "Invalid date_range",
        ),
        (
            json!({"metrics": ["bounce_rate"], "dimensions": ["event:name"]}),
            "Session metric(s) `bounce_rate` cannot be queried along with event dimensions.",
        ),
        (
            json!({"metrics": ["conversion_rate"]}),
            "Metric `conversion_rate` can only be queried with event:goal filters or dimensions.",
        ),
        (
            json!({"metrics": ["views_per_visit"], "dimensions": ["visit:country"]}),
            "Metric `views_per_visit` cannot be queried with `dimensions`.",
        ),
        (
            json!({"metrics": ["views_per_visit"], "filters": [["is", "event:page", ["/"]]]}),
            "Metric `views_per_visit` cannot be queried with a filter on `event:page`.",
        ),
        (
            json!({"metrics": ["scroll_depth"]}),
            "Metric `scroll_depth` can only be queried with event:page filters or dimensions.",
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["not", ["is", "event:goal", ["Signup"]]]]}),
            "can only be filtered at the top level",
        ),
        (
            json!({"metrics": ["visitors"], "order_by": [["visits", "desc"]]}),
            "Entry is not a queried metric or dimension.",
        ),
        (
            json!({"metrics": ["visitors"], "pagination": {"limit": 0}}),
            "pagination.limit",
        ),
        (
            json!({"metrics": ["visitors"], "bogus": 1}),
            "unknown key `bogus`",
        ),
    ];
    for (mut case, expected) in cases {
        case["site_id"] = json!(SITE);
        if case.get("date_range").is_none() {
            case["date_range"] = json!("7d");
        }
        let (status, answer) = post(&s, Some(KEY), &case).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{case} → {answer}");
        assert!(
            error.contains(expected),
            "{case} → {error:?}, wanted {expected:?}"
        );
    }
    let (status, answer) = post(
        &s,
        Some(KEY),
        &json!({"site_id": "unknown.org", "metrics": ["visitors"], "date_range": "7d"}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let resp = Server::client()
        .post(format!("{}/api/v2/query", s.url))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);

    // The key never reaches the logs.
    let stopped = s.stop();
    assert!(!stopped.output.contains(KEY) && !stopped.output.contains(OTHER_KEY));
}

/// An accepted hit shows up in the Stats API while the collector runs (the writer
/// flushes at least every `flush_interval_ms`, 500 ms by default). The latency is
/// printed, not asserted: speed belongs to benchmarks.
#[tokio::test]
async fn an_accepted_hit_is_visible_to_queries_while_running() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(dir.path());
    let server = start_in(dir, &["--config", &cfg.display().to_string()]);
    let sent = std::time::Instant::now();
    send(&server, &[hit(GB, UA_DESKTOP, pv("/fresh"))]).await;
    let body = json!({"site_id": SITE, "date_range": "day", "metrics": ["pageviews"]});
    let mut seen = None;
    while sent.elapsed() < std::time::Duration::from_secs(10) {
        let (status, answer) = post(&server, Some(KEY), &body).await;
        assert_eq!(status, 200, "{answer}");
        if answer["results"][0]["metrics"][0] == json!(1) {
            seen = Some(sent.elapsed());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the hit never became visible");
    println!("visible to the Stats API after {seen:?}");
    server.stop();
}

/// Hits that are not counted are counted per site and day, for the dashboard's data
/// quality: a bot and a prefetch for the site, none for a site not configured here.
#[tokio::test]
async fn dropped_hits_are_counted_per_site_and_day() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(dir.path());
    let server = start_in(dir, &["--config", &cfg.display().to_string()]);
    send(&server, &[hit(GB, UA_HEADLESS, pv("/by-a-bot"))]).await;
    let r = server
        .event(
            &pv("/prefetched").to_string(),
            UA_DESKTOP,
            &[("x-forwarded-for", US), ("sec-purpose", "prefetch")],
        )
        .await;
    assert_eq!(r.status(), 202);
    let elsewhere =
        json!({"name": "pageview", "url": "https://nowhere.example/", "domain": "nowhere.example"});
    send(&server, &[hit(GB, UA_HEADLESS, elsewhere)]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        let (status, answer) = v1(&server, &format!("quality?site_id={SITE}&period=day")).await;
        assert_eq!(status, 200, "{answer}");
        if answer["results"]["prefetch"] == json!(1) || std::time::Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        answer["results"],
        json!({"bot": 1, "prefetch": 1}),
        "{answer}"
    );
    let stopped = server.stop();
    let rows = stopped.rows("SELECT site, reason, hits FROM quality_daily ORDER BY reason");
    assert_eq!(rows.len(), 2, "{rows:?}");
}
