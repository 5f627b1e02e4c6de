//! Referrers: `enrich::referrer::acquisition` (referrer host/path, source, channel,
//! effective utm_medium) and `canonical_source`.
//!
//! Input: the first line is the referrer (the `Referer` header or the `r` field);
//! the rest, when present, is the page URL it is compared with (its host decides
//! internal navigation, its UTM tags and click ids the source and channel).

#![no_main]

use libfuzzer_sys::fuzz_target;
use spoorloos::enrich::page::{Page, minimise};
use spoorloos::enrich::referrer::{CHANNELS, MAX_REFERRER_CHARS, acquisition, canonical_source};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let (referrer, page_url) = common::first_line(&text);
    let page = page_url
        .and_then(|u| minimise(u, false).ok())
        .unwrap_or_else(|| Page {
            hostname: "example.test".to_owned(),
            pathname: "/".to_owned(),
            ..Page::default()
        });
    for host in [page.hostname.as_str(), "", "(none)"] {
        let acq = acquisition(Some(referrer), host, &page);
        assert!(CHANNELS.contains(&acq.channel), "{}", acq.channel);
        if let Some(r) = &acq.referrer {
            assert!(r.chars().count() <= MAX_REFERRER_CHARS);
        }
    }
    let _ = acquisition(None, &page.hostname, &page);
    let _ = canonical_source(referrer);
});
