//! User-Agent and Client Hints: `enrich::ua::UaParser` (woothee, our tablet/TV rules,
//! hint refinement, the per-UA cache) and the bot filter `filter::bots`.
//!
//! Input: the first line is the `User-Agent`; later lines are `name: value` request
//! headers, of which `sec-ch-ua`, `sec-ch-ua-mobile`, `sec-ch-ua-platform`,
//! `sec-ch-ua-platform-version` and `sec-ch-ua-full-version-list` are used.
//!
//! Checks: no panic; a parse and its cached copy agree; the derived values are
//! short (a forged header cannot mint long or new browser values); the pipeline's
//! bot verdict and the filter's agree.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use spoorloos::enrich::ua::{ClientHints, UaParser};
use spoorloos::filter::bots::bot_reason;

#[path = "common.rs"]
mod common;

/// A small cache, so the fuzzer also runs evictions.
static CACHED: LazyLock<UaParser> = LazyLock::new(|| UaParser::new(64));

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let (ua, rest) = common::first_line(&text);
    let mut hints = ClientHints::default();
    for line in rest.unwrap_or_default().lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(value.trim());
        match name.trim().to_ascii_lowercase().as_str() {
            "sec-ch-ua" => hints.brands = value,
            "sec-ch-ua-mobile" => hints.mobile = value,
            "sec-ch-ua-platform" => hints.platform = value,
            "sec-ch-ua-platform-version" => hints.platform_version = value,
            "sec-ch-ua-full-version-list" => hints.full_version_list = value,
            _ => {}
        }
    }
    // A new UA is parsed and cached, a known one comes from the cache: both agree.
    let info = CACHED.parse(ua, &hints);
    let again = CACHED.parse(ua, &hints);
    assert_eq!(info, again);
    assert!(info.browser_version.len() <= 6 && info.os_version.len() <= 12);
    assert!(info.browser.len() <= 64 && info.os.len() <= 64);
    assert!(info.browser_version.bytes().all(|b| b.is_ascii_digit()));
    // The filter on its own (`is_bot`) says what the enrichment's verdict says.
    assert_eq!(info.bot.is_some(), bot_reason(ua, &hints).is_some());
    if !ua.is_empty() {
        // Neither the raw UA nor a long part of it comes out as a value.
        for value in [&info.browser, &info.os, &info.os_version] {
            assert!(value.len() < 32 || !ua.contains(&**value));
        }
    }
});
