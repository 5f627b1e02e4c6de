//! From a request's head to a [`RawHit`]: the client address (proxy headers only from
//! trusted proxies), User-Agent, Client Hints, privacy signals and prefetch flags.
//! Pure, so the fuzz targets build hits exactly as the server's handlers do.

use chrono::{DateTime, Utc};
use hyper::header::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

use super::client_ip::client_ip;
use crate::enrich::ua::ClientHints;
use crate::event::{Payload, RawHit};

/// The hit a request with `headers` from `peer` carries, borrowing from the headers.
pub fn raw_hit<'a>(
    received_at: DateTime<Utc>,
    peer: IpAddr,
    headers: &'a HeaderMap,
    trusted_proxies: &[IpNet],
    payload: Payload,
) -> RawHit<'a> {
    let h = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let purpose = |name| {
        h(name).is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("prefetch") || v.contains("prerender") || v.contains("preview")
        })
    };
    RawHit {
        received_at,
        ip: client_ip(peer, headers, trusted_proxies),
        user_agent: h("user-agent").unwrap_or_default(),
        hints: ClientHints {
            brands: h("sec-ch-ua"),
            mobile: h("sec-ch-ua-mobile"),
            platform: h("sec-ch-ua-platform"),
            platform_version: h("sec-ch-ua-platform-version"),
            full_version_list: h("sec-ch-ua-full-version-list"),
        },
        ect: h("ect"),
        privacy_signal: h("sec-gpc").is_some_and(|v| v.trim() == "1")
            || h("dnt").is_some_and(|v| v.trim() == "1"),
        prefetch: purpose("sec-purpose")
            || purpose("purpose")
            || purpose("x-moz")
            || purpose("x-purpose"),
        payload,
    }
}
