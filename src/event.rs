//! The two shapes a hit takes on its way through the pipeline.
//!
//! [`RawHit`] is what the receive stage hands over: it still holds the visitor's IP
//! address and User-Agent, borrows them from the request, and so cannot outlive it.
//! [`Event`] is what the store receives: it has no field that could hold an IP, a
//! User-Agent or a full URL, so the compiler guards the privacy invariant.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

use crate::enrich::page::Page;
use crate::enrich::referrer::CHANNELS;
use crate::enrich::ua::{ClientHints, Device};

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
/// ([`crate::store::packed`]); an event is never serialised anywhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub session_id: Option<u64>,
    /// The UTC day the visit began (days since the Unix epoch); the event's own day
    /// when it has no session. A visit crossing midnight keeps its first day.
    pub visit_day: i32,
    pub referrer: Option<String>,
    pub source: Option<String>,
    #[serde(deserialize_with = "label")]
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
    #[serde(deserialize_with = "label")]
    pub device: Label,
    #[serde(deserialize_with = "optional_label")]
    pub screen: Option<Label>,
    pub connection_type: Option<String>,
    pub save_data: bool,
    /// Custom properties as a JSON object of strings; `None` when there are none.
    pub props: Option<String>,
    pub scroll_depth: Option<u8>,
    pub engaged_ms: Option<u32>,
    pub interactive: bool,
}

/// A fixed text: a channel, a device class or a screen class. An alias, so serde
/// does not take the field for text borrowed from its input (that would tie an
/// unpacked event to the bytes it came from): [`label`] finds the static one.
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

/// The fixed label (a channel, device or screen class) a packed event names.
fn label<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
    let name = <&str>::deserialize(deserializer)?;
    CHANNELS
        .into_iter()
        .chain(Device::ALL.map(Device::as_str))
        .chain(SCREEN_CLASSES)
        .find(|known| *known == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown label {name:?}")))
}

fn optional_label<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Label>, D::Error> {
    #[derive(Deserialize)]
    struct Known(#[serde(deserialize_with = "label")] Label);
    Ok(Option::<Known>::deserialize(deserializer)?.map(|Known(l)| l))
}
