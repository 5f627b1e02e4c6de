//! From a request's head to a [`RawHit`]: the client address (proxy headers only from
//! trusted proxies), User-Agent, Client Hints, privacy signals and prefetch flags.
//! Pure, so the fuzz targets build hits exactly as the server's handlers do.

use chrono::{DateTime, Utc};
use hyper::header::{DNT, HeaderMap, HeaderName, USER_AGENT};
use ipnet::IpNet;
use std::net::IpAddr;

use super::client_ip::client_ip;
use crate::event::{Payload, RawHit};
use crate::filter::agent::ClientHints;

// Names built once: looking a header up by `&str` parses the name on every call,
// and a hit reads a dozen of them.
const SEC_CH_UA: HeaderName = HeaderName::from_static("sec-ch-ua");
const SEC_CH_UA_MOBILE: HeaderName = HeaderName::from_static("sec-ch-ua-mobile");
const SEC_CH_UA_PLATFORM: HeaderName = HeaderName::from_static("sec-ch-ua-platform");
const SEC_CH_UA_PLATFORM_VERSION: HeaderName =
    HeaderName::from_static("sec-ch-ua-platform-version");
const SEC_CH_UA_FULL_VERSION_LIST: HeaderName =
    HeaderName::from_static("sec-ch-ua-full-version-list");
const ECT: HeaderName = HeaderName::from_static("ect");
const SEC_GPC: HeaderName = HeaderName::from_static("sec-gpc");
const SEC_PURPOSE: HeaderName = HeaderName::from_static("sec-purpose");
const PURPOSE: HeaderName = HeaderName::from_static("purpose");
const X_MOZ: HeaderName = HeaderName::from_static("x-moz");
const X_PURPOSE: HeaderName = HeaderName::from_static("x-purpose");

/// The hit a request with `headers` from `peer` carries, borrowing from the headers.
pub fn raw_hit<'a>(
    received_at: DateTime<Utc>,
    peer: IpAddr,
    headers: &'a HeaderMap,
    trusted_proxies: &[IpNet],
    payload: Payload,
) -> RawHit<'a> {
    let h = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let purpose = |name| {
        h(name).is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("prefetch") || v.contains("prerender") || v.contains("preview")
        })
    };
    RawHit {
        received_at,
        ip: client_ip(peer, headers, trusted_proxies),
        user_agent: h(USER_AGENT).unwrap_or_default(),
        hints: ClientHints {
            brands: h(SEC_CH_UA),
            mobile: h(SEC_CH_UA_MOBILE),
            platform: h(SEC_CH_UA_PLATFORM),
            platform_version: h(SEC_CH_UA_PLATFORM_VERSION),
            full_version_list: h(SEC_CH_UA_FULL_VERSION_LIST),
        },
        ect: h(ECT),
        privacy_signal: h(SEC_GPC).is_some_and(|v| v.trim() == "1")
            || h(DNT).is_some_and(|v| v.trim() == "1"),
        prefetch: purpose(SEC_PURPOSE) || purpose(PURPOSE) || purpose(X_MOZ) || purpose(X_PURPOSE),
        payload,
    }
}
