//! The shapes a hit takes on its way through the pipeline.
//!
//! [`RawHit`] is what the receive stage hands over: it still holds the visitor's IP
//! address and User-Agent, borrows them from the request, and so cannot outlive it.
//! [`Event`] is what the pipeline makes of it: it has no field that could hold an IP,
//! a User-Agent or a full URL, so the compiler guards the privacy invariant.
//! [`EventView`] is the same event as the store reads it back from the writer's
//! queue, its texts borrowed from the packed bytes ([`crate::store::packed`]).

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::enrich::page::Page;
use crate::filter::agent::ClientHints;

/// What a tracker sent, already parsed and length-checked by the receive stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    pub name: String,
    /// The page URL, already minimised: the raw URL with its query is not kept.
    pub page: Page,
    /// The `domain` field: one or more site domains, comma separated; empty when absent.
    pub domains: Vec<String>,
    pub referrer: Option<String>,
    pub screen_width: Option<u32>,
    pub props: Vec<(String, String)>,
    pub hash_mode: bool,
    pub interactive: bool,
    /// Engagement events: maximum scroll depth in percent.
    pub scroll_depth: Option<u8>,
    /// Engagement events: engaged time in milliseconds.
    pub engaged_ms: Option<u32>,
    /// `navigator.connection.effectiveType`, as the script reports it.
    pub connection: Option<String>,
    pub save_data: bool,
    /// Global Privacy Control as reported by the script.
    pub gpc: bool,
}

/// A hit as it arrives: identifying data lives here, and only here.
#[derive(Debug, Clone)]
pub struct RawHit<'a> {
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub ip: IpAddr,
    pub user_agent: &'a str,
    pub hints: ClientHints<'a>,
    /// The `ECT` client hint (effective connection type).
    pub ect: Option<&'a str>,
    /// `Sec-GPC: 1` or `DNT: 1`.
    pub privacy_signal: bool,
    /// `Sec-Purpose`/`Purpose`/`X-Moz: prefetch` or prerender.
    pub prefetch: bool,
    pub payload: Payload,
}

/// One stored event: coarse, minimised attributes and a daily pseudonym at most.
///
/// Serde is for the writer's queue, which holds events packed
/// ([`crate::store::packed`]) and reads them back as [`EventView`]s; an event is
/// never serialised anywhere else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Microseconds since the Unix epoch, UTC.
    pub ts_micros: i64,
    /// Shared, like the attributes that come from caches: a queued event is one
    /// allocation fewer for each.
    pub site: Arc<str>,
    pub name: String,
    pub hostname: String,
    pub pathname: String,
    /// 64-bit keyed hash under the daily salt; `None` under a privacy signal.
    pub visitor_id: Option<u64>,
    /// The visit; under a privacy signal an id drawn for this hit alone.
    pub session_id: Option<u64>,
    /// The UTC day the visit began (days since the Unix epoch); the event's own day
    /// when it has no pseudonym. A visit crossing midnight keeps its first day.
    pub visit_day: i32,
    pub referrer: Option<String>,
    pub source: Option<String>,
    pub channel: Label,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub browser: Arc<str>,
    pub browser_version: Arc<str>,
    pub os: Arc<str>,
    pub os_version: Arc<str>,
    pub device: Label,
    pub screen: Option<Label>,
    pub connection_type: Option<String>,
    pub save_data: bool,
    /// Custom properties as a JSON object of strings; `None` when there are none.
    pub props: Option<String>,
    pub scroll_depth: Option<u8>,
    pub engaged_ms: Option<u32>,
    pub interactive: bool,
}

/// A fixed text: a channel, a device class or a screen class.
pub type Label = &'static str;

/// Every screen class [`screen_class`] returns.
pub const SCREEN_CLASSES: [&str; 4] = ["Mobile", "Tablet", "Laptop", "Desktop"];

/// Screen-width classes, as analytics peers report them; the width itself is not kept.
pub fn screen_class(width: u32) -> &'static str {
    SCREEN_CLASSES[match width {
        0..576 => 0,
        576..992 => 1,
        992..1440 => 2,
        _ => 3,
    }]
}

/// An [`Event`] read back from its packed bytes: the same fields in the same order
/// (the packed form is positional), every text borrowed, so appending a queued
/// event copies nothing and allocates nothing.
#[derive(Debug, Deserialize)]
pub struct EventView<'a> {
    pub ts_micros: i64,
    pub site: &'a str,
    pub name: &'a str,
    pub hostname: &'a str,
    pub pathname: &'a str,
    pub visitor_id: Option<u64>,
    pub session_id: Option<u64>,
    pub visit_day: i32,
    pub referrer: Option<&'a str>,
    pub source: Option<&'a str>,
    pub channel: &'a str,
    pub utm_source: Option<&'a str>,
    pub utm_medium: Option<&'a str>,
    pub utm_campaign: Option<&'a str>,
    pub utm_content: Option<&'a str>,
    pub utm_term: Option<&'a str>,
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
    pub browser: &'a str,
    pub browser_version: &'a str,
    pub os: &'a str,
    pub os_version: &'a str,
    pub device: &'a str,
    pub screen: Option<&'a str>,
    pub connection_type: Option<&'a str>,
    pub save_data: bool,
    pub props: Option<&'a str>,
    pub scroll_depth: Option<u8>,
    pub engaged_ms: Option<u32>,
    pub interactive: bool,
}
