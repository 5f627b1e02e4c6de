//! A whole request through the server's code path, from headers and body to stored
//! events: `client_ip` (forwarding headers), the payload parser, then
//! `Pipeline::process` (bot filter, page and referrer minimisation, UA and Client
//! Hints enrichment, privacy signals, pseudonymisation and sessions).
//!
//! Input, shaped like an HTTP request so seeds are real requests:
//!
//! ```text
//! GET /p.gif?d=example.test&u=…          (or: POST /api/event)
//! user-agent: Mozilla/5.0 …
//! x-forwarded-for: 198.51.100.7
//! peer: 10.0.0.1                          (pseudo-headers: the socket peer,
//! time: 1780358400                         the receive time in Unix seconds,
//! policy: drop                             the privacy-signal policy)
//!
//! {"n":"pageview","u":"…"}                (the body, for POST)
//! ```
//!
//! `RawHit` is built exactly as `receive::routes::raw_hit` builds it; peers in
//! 10.0.0.0/8 are trusted proxies. Every stored event is checked by
//! `common::check_events`.

#![no_main]

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use spoorloos::receive::hit::raw_hit;
use spoorloos::receive::payload::{from_json, from_pixel_query};

#[path = "common.rs"]
mod common;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let (request_line, header_lines) = common::first_line(head);
    let mut headers = HeaderMap::new();
    let mut peer: IpAddr = [10, 0, 0, 1].into();
    let mut secs = common::BASE_SECS;
    let mut policy = 0;
    for line in header_lines.unwrap_or_default().lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "peer" => peer = value.parse().unwrap_or(peer),
            // 2000-01-01 to 2100-01-01.
            "time" => {
                secs = value
                    .parse::<i64>()
                    .unwrap_or(secs)
                    .clamp(946_684_800, 4_102_444_800)
            }
            "policy" => {
                policy = match value {
                    "drop" => 1,
                    "ignore" => 2,
                    _ => 0,
                }
            }
            name => {
                // What hyper would refuse never reaches the handlers.
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    headers.append(n, v);
                }
            }
        }
    }
    let (method, target) = request_line
        .split_once(' ')
        .unwrap_or(("GET", request_line));
    let parsed = if method.eq_ignore_ascii_case("POST") {
        from_json(body.as_bytes())
    } else {
        let query = target.split_once('?').map_or("", |(_, q)| q);
        from_pixel_query(query, header(&headers, "referer"))
    };
    let Ok(payload) = parsed else {
        return;
    };
    let proxies = ["10.0.0.0/8".parse().expect("constant network")];
    let received_at = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let hit = raw_hit(received_at, peer, &headers, &proxies, payload);
    let outcomes = common::pipeline(policy).process(&hit);
    common::check_events(&hit, policy, true, &outcomes);
});
