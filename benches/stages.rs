//! One criterion bench per pipeline stage (parse, filter + UA enrichment, URL and
//! referrer minimisation, GeoIP, pseudonymise, the whole pipeline, packing for the
//! writer's queue, DuckDB append), so
//! a regression shows where it happened. Run: `cargo bench --bench stages`.

use std::hint::black_box;
use std::net::IpAddr;

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spoorloos::config::Config;
use spoorloos::enrich::geo::Geo;
use spoorloos::enrich::ua::{ClientHints, UaParser};
use spoorloos::enrich::{page, referrer};
use spoorloos::event::RawHit;
use spoorloos::filter::spam::SpamList;
use spoorloos::pipeline::Pipeline;
use spoorloos::pseudonymise::visitor_hash;
use spoorloos::receive::payload;
use spoorloos::store::Store;
use spoorloos::store::duckdb::DuckDbStore;
use spoorloos::store::packed::Packed;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const BODY: &[u8] = br#"{"n":"pageview","u":"https://www.example.test/blog/post-title?utm_source=newsletter&utm_medium=email&x=1","d":"example.test","r":"https://www.google.com/search?q=x","w":1440}"#;

fn geo() -> Geo {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/mmdb/country-geo-whois/geo-whois-asn-country.mmdb");
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
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
