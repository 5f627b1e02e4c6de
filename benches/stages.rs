//! One criterion bench per pipeline stage (parse, filter + UA enrichment, URL and
//! referrer minimisation, GeoIP, pseudonymise, the whole pipeline, packing for the
//! writer's queue, DuckDB append: one repeated event, and 100k varied ones into a
//! fresh file with its checkpoint), so
//! a regression shows where it happened. Run: `cargo bench --bench stages`.

use std::hint::black_box;
use std::net::IpAddr;

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spoorloos::config::Config;
use spoorloos::enrich::geo::Geo;
use spoorloos::enrich::ua::{ClientHints, UaParser};
use spoorloos::enrich::{page, referrer};
use spoorloos::event::{EventView, RawHit};
use spoorloos::filter::spam::SpamList;
use spoorloos::pipeline::Pipeline;
use spoorloos::pseudonymise::visitor_hash;
use spoorloos::receive::payload;
use spoorloos::store::Store;
use spoorloos::store::duckdb::{DuckDbStore, Resources};
use spoorloos::store::packed::Packed;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const BODY: &[u8] = br#"{"n":"pageview","u":"https://www.example.test/blog/post-title?utm_source=newsletter&utm_medium=email&x=1","d":"example.test","r":"https://www.google.com/search?q=x","w":1440}"#;

fn geo() -> Geo {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mmdb/flat-country/flat-country.mmdb");
    Geo::open(path.exists().then_some(path.as_path()), None, false).unwrap_or_default()
}

fn pipeline() -> Pipeline {
    let config = Config {
        sites: vec!["example.test".into()],
        ..Config::default()
    };
    Pipeline::standalone(&config, geo(), SpamList::default(), Utc::now()).expect("salt")
}

fn stages(c: &mut Criterion) {
    let ip: IpAddr = "81.2.69.142".parse().expect("ip");
    c.bench_function("parse/event_json", |b| {
        b.iter(|| payload::from_json(black_box(BODY)))
    });
    let ua = UaParser::new(1024);
    let hints = ClientHints::default();
    c.bench_function("filter+enrich/ua_cached", |b| {
        b.iter(|| ua.parse(black_box(UA), &hints))
    });
    c.bench_function("filter+enrich/ua_uncached", |b| {
        b.iter(|| UaParser::new(1).parse(black_box(UA), &hints))
    });
    c.bench_function("minimise/page_url", |b| {
        b.iter(|| {
            page::minimise(
                black_box("https://www.example.test/blog/post-title?utm_source=nl&x=1"),
                false,
            )
        })
    });
    let p = page::minimise("https://example.test/", false).unwrap_or_default();
    c.bench_function("minimise/referrer", |b| {
        b.iter(|| {
            referrer::acquisition(
                Some(black_box("https://www.google.com/search?q=x")),
                "example.test",
                &p,
            )
        })
    });
    let g = geo();
    c.bench_function("enrich/geoip_country", |b| {
        b.iter(|| g.lookup(black_box(ip)))
    });
    let key = [7u8; 32];
    c.bench_function("pseudonymise/visitor_hash", |b| {
        b.iter(|| visitor_hash(&key, black_box("example.test"), ip, black_box(UA)))
    });
    let pipe = pipeline();
    let payload = payload::from_json(BODY).unwrap_or_default();
    c.bench_function("pipeline/process", |b| {
        b.iter(|| {
            let hit = RawHit {
                received_at: Utc::now(),
                ip,
                user_agent: UA,
                hints,
                ect: None,
                privacy_signal: false,
                prefetch: false,
                payload: payload.clone(),
            };
            pipe.process(black_box(&hit))
        })
    });
    let hit = RawHit {
        received_at: Utc::now(),
        ip,
        user_agent: UA,
        hints,
        ect: None,
        privacy_signal: false,
        prefetch: false,
        payload,
    };
    let event = pipe
        .process(&hit)
        .pop()
        .and_then(Result::ok)
        .expect("event");
    c.bench_function("queue/pack", |b| b.iter(|| Packed::pack(black_box(&event))));
    let packed = Packed::pack(&event).expect("pack");
    c.bench_function("queue/view", |b| b.iter(|| black_box(&packed).view()));
    let dir = tempfile::tempdir().expect("dir");
    let mut store = DuckDbStore::open(&dir.path().join("bench.duckdb")).expect("store");
    let mut group = c.benchmark_group("store");
    group.sample_size(20);
    group.bench_function("append_batch_1000", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| Packed::pack(&event).expect("pack"))
                    .collect::<Vec<_>>()
            },
            |batch| store.append(&mut batch.iter().filter_map(|p| p.view().ok())),
            BatchSize::SmallInput,
        )
    });
    // A day's worth of varied rows into a fresh file, in the writer's batches, with
    // the checkpoint that compresses them: what each stored event costs the core.
    group.sample_size(10);
    group.throughput(Throughput::Elements(VARIED_ROWS as u64));
    let varied = Varied::new();
    group.bench_function("append_varied_100k", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("dir");
                let resources = Resources {
                    threads: Some(1),
                    wal_autocheckpoint_mb: Some(64),
                    ..Resources::default()
                };
                let mut store =
                    DuckDbStore::open_limited(&dir.path().join("varied.duckdb"), resources)
                        .expect("store");
                let start = std::time::Instant::now();
                for first in (0..VARIED_ROWS).step_by(4096) {
                    let rows = first..(first + 4096).min(VARIED_ROWS);
                    store
                        .append(&mut rows.map(|i| varied.event(i)))
                        .expect("append");
                }
                store.checkpoint().expect("checkpoint");
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

const VARIED_ROWS: usize = 100_000;

/// Rows that vary as real ones do: 200 pages, 50 referrers, labels drawn from
/// small sets, a new visitor and session id on every row.
struct Varied {
    pages: Vec<String>,
    referrers: Vec<String>,
    versions: Vec<String>,
}

impl Varied {
    const CHANNELS: [&str; 6] = [
        "Direct",
        "Organic Search",
        "Organic Social",
        "Referral",
        "Email",
        "Paid Search",
    ];
    const BROWSERS: [&str; 6] = [
        "Chrome",
        "Safari",
        "Firefox",
        "Edge",
        "Samsung Internet",
        "Opera",
    ];
    const SYSTEMS: [&str; 5] = ["Windows", "Mac", "iOS", "Android", "Linux"];
    const DEVICES: [&str; 3] = ["Desktop", "Mobile", "Tablet"];
    const COUNTRIES: [&str; 6] = ["NL", "DE", "US", "GB", "FR", "BE"];

    fn new() -> Self {
        Self {
            pages: (0..200)
                .map(|i| format!("/blog/post-{i}-on-privacy"))
                .collect(),
            referrers: (0..50).map(|i| format!("www.site{i}.example")).collect(),
            versions: (100..140).map(|v| v.to_string()).collect(),
        }
    }

    fn event(&self, i: usize) -> EventView<'_> {
        // A cheap, well-spread hash per field.
        let h = |k: usize| i.wrapping_mul(2_654_435_761).wrapping_add(k * 40_503) >> 7;
        let pick = |list: &[&'static str], k| list[h(k) % list.len()];
        EventView {
            ts_micros: 1_764_547_200_000_000 + i as i64 * 1000,
            site: "example.test",
            name: if i % 10 < 7 { "pageview" } else { "engagement" },
            hostname: "example.test",
            pathname: &self.pages[h(1) % self.pages.len()],
            visitor_id: Some(h(2) as u64),
            session_id: Some(h(3) as u64),
            visit_day: 20_423,
            referrer: i
                .is_multiple_of(3)
                .then(|| self.referrers[h(4) % self.referrers.len()].as_str()),
            source: i.is_multiple_of(3).then_some("Google"),
            channel: pick(&Self::CHANNELS, 5),
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_content: None,
            utm_term: None,
            country: Some(pick(&Self::COUNTRIES, 6)),
            region: None,
            city: None,
            browser: pick(&Self::BROWSERS, 7),
            browser_version: &self.versions[h(8) % self.versions.len()],
            os: pick(&Self::SYSTEMS, 9),
            os_version: &self.versions[h(10) % 15],
            device: pick(&Self::DEVICES, 11),
            screen: Some(pick(&Self::DEVICES, 12)),
            connection_type: Some("4g"),
            save_data: false,
            props: None,
            scroll_depth: None,
            engaged_ms: None,
            interactive: true,
        }
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
