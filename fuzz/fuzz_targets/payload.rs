//! Event payloads: every input goes to both parsers of `receive::payload`.
//!
//! - `from_json`: the `POST /api/event` body (Plausible's Events API, long and short
//!   keys, engagement events, Spoorloos' extras), as raw bytes;
//! - `from_pixel_query`: the `GET /p.gif` query string; text after the first newline
//!   stands for the `Referer` header (the page URL when `u` is missing).
//!
//! Besides not panicking, an accepted payload must respect the parser's limits, and a
//! rejected one must serialise to Plausible's `{"errors":…}` JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spoorloos::receive::payload::{from_json, from_pixel_query};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match from_json(data) {
        Ok(p) => common::assert_bounded(&p, data.len()),
        Err(e) => {
            let json = e.to_json();
            assert!(json.starts_with(r#"{"errors":{"#), "{json}");
        }
    }
    let text = common::text(data);
    let (query, referer) = common::first_line(&text);
    match from_pixel_query(query, referer) {
        Ok(p) => common::assert_bounded(&p, text.len()),
        Err(e) => assert!(!e.0.is_empty()),
    }
});
