//! Dashboard views on 10 million generated events over 30 days, asked as a dashboard
//! asks them: the seven Stats API v2 queries of the dashboard's view (top figures with
//! the previous period, the graph by day, sources, pages, countries, devices, goals),
//! six in flight at once, through the real [`Engine`]
//! (parsing, planning, DuckDB, JSON) on the collector's default DuckDB resources.
//!
//! Views: unfiltered, and with one filter on each of several visit and event
//! properties; periods `7d`, `30d`, `month` and `all`, with the clock on the 31st
//! day (2026-01-31 12:00 UTC). Each view is asked `ROUNDS` times; the report gives,
//! per view, the median and slowest single query and the median and slowest whole
//! view, and at the end the same over everything.
//!
//! It prints what the store's lifecycle costs first: the roll-up, then storing each
//! day's visits and pairs and sealing it (wall time and this process's CPU time per
//! million events).
//!
//! Run: `cargo test --release --bench dashboard -- --bench` (10M events; the
//! generation takes about a minute). `SPOORLOOS_BENCH_DB=<file>` keeps the generated
//! store for the next run; `SPOORLOOS_BENCH_ALONE=1` times single queries only. Without `--bench` (as in `cargo test`), 100,000
//! events and one round: a check that every view answers.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use spoorloos::clock::Clock;
use spoorloos::config::Lifecycle;
use spoorloos::lifecycle;
use spoorloos::query::api::{Access, Engine};
use spoorloos::query::duckdb::DuckDbBackend;
use spoorloos::store::Store;
use spoorloos::store::duckdb::{DuckDbStore, Resources};

mod support;
use support::{AUTH, GENERATE, SITE, now};

const IN_FLIGHT: usize = 6;

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// The queries of one dashboard view.
fn view(period: &str, filter: Option<&Value>) -> Vec<(&'static str, Value)> {
    let breakdown = |dimension: &str, metrics: Value| {
        json!({"site_id": SITE, "date_range": period, "metrics": metrics,
               "dimensions": [dimension], "order_by": [["visitors", "desc"]],
               "pagination": {"limit": 10}})
    };
    // The queries the dashboard's first view asks (assets/dashboard/app.js): top
    // figures with the previous period, the graph, and the first tab of each panel.
    let mut queries = vec![
        (
            "top",
            json!({"site_id": SITE, "date_range": period,
                   "metrics": ["visitors", "visits", "pageviews", "views_per_visit",
                               "bounce_rate", "visit_duration"],
                   "include": {"comparisons": {"mode": "previous_period"}}}),
        ),
        (
            "graph",
            json!({"site_id": SITE, "date_range": period, "metrics": ["visitors"],
                   "dimensions": ["time:day"], "include": {"time_labels": true}}),
        ),
        (
            "sources",
            breakdown("visit:source", json!(["visitors", "percentage"])),
        ),
        (
            "pages",
            breakdown("event:page", json!(["visitors", "percentage"])),
        ),
        (
            "countries",
            breakdown("visit:country", json!(["visitors", "percentage"])),
        ),
        (
            "devices",
            breakdown("visit:device", json!(["visitors", "percentage"])),
        ),
        (
            "goals",
            breakdown(
                "event:goal",
                json!(["visitors", "events", "conversion_rate"]),
            ),
        ),
    ];
    if let Some(f) = filter {
        for (_, q) in &mut queries {
            q["filters"] = json!([f]);
        }
        // As Plausible's dashboard: no views per visit under an event filter.
        if f[1].as_str().is_some_and(|p| p.starts_with("event:"))
            && let Some((_, top)) = queries.first_mut()
        {
            top["metrics"] = json!([
                "visitors",
                "visits",
                "pageviews",
                "bounce_rate",
                "visit_duration"
            ]);
        }
    }
    queries
}

fn filters() -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("none", None),
        ("country", Some(json!(["is", "visit:country", ["DE"]]))),
        ("source", Some(json!(["is", "visit:source", ["Google"]]))),
        ("device", Some(json!(["is", "visit:device", ["Desktop"]]))),
        ("entry_page", Some(json!(["is", "visit:entry_page", ["/"]]))),
        ("page", Some(json!(["is", "event:page", ["/"]]))),
        ("goal", Some(json!(["is", "event:goal", ["Signup"]]))),
    ]
}

/// Asks one view, `IN_FLIGHT` queries at a time; returns each query's time and the
/// view's.
async fn ask_view(
    engine: &Arc<Engine>,
    queries: &[(&'static str, Value)],
) -> (Vec<(&'static str, f64)>, f64) {
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for (name, body) in queries {
        let (engine, gate, name) = (engine.clone(), gate.clone(), *name);
        let body = body.to_string();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            let asked = Instant::now();
            let answer = engine.v2(Access::Key(Some(AUTH)), body.as_bytes()).await;
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            (name, asked.elapsed().as_secs_f64())
        });
    }
    let mut times = Vec::new();
    while let Some(t) = tasks.join_next().await {
        times.push(t.expect("query task"));
    }
    (times, started.elapsed().as_secs_f64())
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(0.0, f64::max)
}

/// Median and slowest query, median and slowest view, in milliseconds.
fn figures(queries: &mut [f64], views: &mut [f64]) -> String {
    format!(
        "{:>7.0}ms {:>7.0}ms {:>7.0}ms {:>7.0}ms",
        median(queries) * 1e3,
        max(queries) * 1e3,
        median(views) * 1e3,
        max(views) * 1e3,
    )
}

/// The lifecycle as on a first start: roll up, store the visits and seal each day;
/// prints what it cost.
fn lifecycle(store: &mut DuckDbStore, events: i64) {
    let policy = Lifecycle {
        event_retention_days: 3650,
        ..Lifecycle::default()
    };
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    lifecycle::run(store, &policy, now()).expect("roll up");
    let (rollup_wall, rollup_cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let reader = DuckDbBackend::new(store.handle());
    let (now, timeout) = (now(), policy.session_timeout);
    let events_from = policy.events_from(now.date_naive());
    let mut step_cpu = cpu_seconds();
    let mut steps = Vec::new();
    let mut lap = |name: &'static str| {
        let c = cpu_seconds();
        steps.push(format!(
            "{name} {:.1}",
            (c - step_cpu) / (events as f64 / 1e6)
        ));
        step_cpu = c;
    };
    let sealed =
        lifecycle::partials::seal_in_steps(store, &reader, now, timeout, events_from, &mut lap)
            .expect("seal");
    store.checkpoint().expect("checkpoint");
    lap("checkpoint");
    let (seal_wall, seal_cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let millions = events as f64 / 1e6;
    println!(
        "roll-up {rollup_wall:.1} s ({:.1} CPU-s per million events); visits, partials and pairs \
         of {} days {seal_wall:.1} s ({:.1} CPU-s per million events: {})",
        rollup_cpu / millions,
        sealed.len(),
        seal_cpu / millions,
        steps.join(", "),
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let events: i64 = if full { 10_000_000 } else { 100_000 };
    let rounds = if full { 5 } else { 1 };

    // SPOORLOOS_BENCH_DB names a file to keep the generated, sealed store in and to
    // reuse on the next run (generation and sealing take minutes); else a temp file.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = std::env::var_os("SPOORLOOS_BENCH_DB")
        .map_or_else(|| dir.path().join("bench.duckdb"), std::path::PathBuf::from);
    let reuse = path.exists();
    let started = Instant::now();
    if !reuse {
        let mut store = DuckDbStore::open(&path).expect("open store");
        store
            .handle()
            .with(|conn| conn.execute(GENERATE, [events]))
            .expect("connection")
            .expect("generate events");
        store.checkpoint().expect("checkpoint");
        println!(
            "generated {events} events in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let config = support::config(3650);
    let resources = Resources::from_config(&config.store);
    let mut store = DuckDbStore::open_limited(&path, resources).expect("reopen store");

    if !reuse {
        lifecycle(&mut store, events);
    }
    let backend = Arc::new(DuckDbBackend::new(store.handle()));
    let engine =
        Arc::new(Engine::new(backend, &config, Clock::starting_at(now())).expect("engine"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    // Each query of the 30d view alone, unfiltered and filtered, a few times: what
    // one costs. `SPOORLOOS_BENCH_ALONE` asks them under every filter.
    let only_alone = std::env::var_os("SPOORLOOS_BENCH_ALONE").is_some();
    let alone: Vec<(&str, Option<Value>)> = if only_alone {
        filters()
    } else {
        filters().into_iter().take(2).collect()
    };
    for (label, name, body) in alone.iter().flat_map(|(label, f)| {
        view("30d", f.as_ref())
            .into_iter()
            .map(move |(n, b)| (*label, n, b))
    }) {
        let body = body.to_string();
        let mut times: Vec<f64> = (0..rounds.max(3))
            .map(|_| {
                let asked = Instant::now();
                let answer = rt.block_on(engine.v2(Access::Key(Some(AUTH)), body.as_bytes()));
                assert_eq!(answer.status, 200, "{name}: {}", answer.body);
                asked.elapsed().as_secs_f64()
            })
            .collect();
        println!(
            "alone 30d {label:<11} {name:<12} {:>7.0}ms",
            median(&mut times) * 1e3
        );
    }
    if only_alone {
        return;
    }
    println!(
        "{:<8} {:<11} {:>9} {:>9} {:>9} {:>9}  slowest query",
        "period", "filter", "q median", "q max", "view med", "view max"
    );
    let (mut all_queries, mut all_views) = (Vec::new(), Vec::new());
    for period in ["7d", "30d", "month", "all"] {
        for (label, filter) in filters() {
            let queries = view(period, filter.as_ref());
            let (mut times, mut views) = (Vec::new(), Vec::new());
            let mut slowest = ("", 0.0);
            for _ in 0..rounds {
                let (t, v) = rt.block_on(ask_view(&engine, &queries));
                for (name, x) in t {
                    if x > slowest.1 {
                        slowest = (name, x);
                    }
                    times.push(x);
                }
                views.push(v);
            }
            println!(
                "{period:<8} {label:<11} {}  {}",
                figures(&mut times, &mut views),
                slowest.0
            );
            all_queries.extend(times);
            all_views.extend(views);
        }
    }
    println!(
        "{:<20} {}",
        "every view",
        figures(&mut all_queries, &mut all_views)
    );
}
