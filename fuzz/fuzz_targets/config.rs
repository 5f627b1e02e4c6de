//! Configuration files: `Config::from_toml` over the defaults, then `validate` (sites,
//! trusted proxies, prefixes, limits, retention, API keys, time zones) and the
//! accessors start-up calls. The same text also goes through `SpamList::parse`, the
//! other file the collector reads at start-up (a referrer-spam host list).
//!
//! Checks: no panic; a validated config is normalised (sites lower-case without
//! `www.`) and its values are inside the documented ranges.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spoorloos::config::{Config, normalise_site};
use spoorloos::filter::spam::SpamList;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    if let Ok(config) = Config::from_toml(&text)
        && let Ok(config) = config.validate()
    {
        assert!(!config.sites.is_empty());
        for site in &config.sites {
            assert_eq!(normalise_site(site).as_deref(), Some(site.as_str()));
        }
        assert_eq!(
            config.trusted_networks().len(),
            config.trusted_proxies.len()
        );
        assert!((1..=32).contains(&config.privacy.ipv4_prefix));
        assert!((1..=128).contains(&config.privacy.ipv6_prefix));
        assert!(config.flush_interval().as_millis() >= 10);
        let _ = config.retention.lifecycle();
        for site in &config.sites {
            let _ = config.site_timezone(site);
        }
    }
    let spam = SpamList::parse(&text);
    for host in text.lines().take(8) {
        let _ = spam.is_spam(&host.trim().to_ascii_lowercase());
    }
    let _ = spam.is_spam("sub.example.com");
});
