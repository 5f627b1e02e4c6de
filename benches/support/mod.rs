//! What the query benches share: the generated data's site, its clock and the
//! collector configuration they query it with.

use chrono::{TimeZone, Utc};
use spoorloos::config::{ApiKeyConfig, Config, RetentionConfig};

/// Generates `$1` events of [`SITE`] over the 30 days from 2026-01-01.
pub const GENERATE: &str = include_str!("../../sql/duckdb/bench/generate_events.sql");
pub const SITE: &str = "example.test";
pub const KEY: &str = "bench-key";
pub const AUTH: &str = "Bearer bench-key";

/// The benchmarks' clock: 2026-01-31 12:00 UTC, the day after the data.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0)
        .single()
        .expect("time")
}

/// The collector's default configuration for [`SITE`], with [`KEY`] as its Stats API
/// key and events kept `event_days`.
pub fn config(event_days: u32) -> Config {
    Config {
        sites: vec![SITE.into()],
        api_keys: vec![ApiKeyConfig {
            name: "bench".into(),
            hash: spoorloos::query::keys::hash_key(KEY),
            sites: Vec::new(),
        }],
        retention: RetentionConfig {
            event_days,
            ..RetentionConfig::default()
        },
        ..Config::default()
    }
}
