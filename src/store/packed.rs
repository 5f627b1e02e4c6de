//! Events as they wait for the writer: packed into one small allocation each.
//!
//! An [`Event`] is ≈ 0.6 KiB of fields plus a heap allocation per text, ≈ 0.8 KiB in
//! all; packed (postcard: varints, length-prefixed texts) it is 0.1–0.25 KiB. The
//! queue (49,152 events by default) fills while DuckDB checkpoints under load, and
//! then it and the writer's batch were most of the collector's memory (docs/load.md).
//! The writer reads each back as an [`EventView`] borrowing from its bytes.
//! Packed bytes live in memory only, like the events they hold.

use crate::event::{Event, EventView};

/// Bytes nearly every packed event fits in.
const TYPICAL_MAX: usize = 256;

/// One event in its packed form.
#[derive(Debug)]
pub struct Packed(Box<[u8]>);

/// Packing or reading back failed: a bug, never the input's fault (every value an
/// event can hold packs, and only packed events are read).
#[derive(Debug, thiserror::Error)]
#[error("packed event: {0}")]
pub struct PackError(#[from] postcard::Error);

impl Packed {
    pub fn pack(event: &Event) -> Result<Self, PackError> {
        // Room for nearly every event up front (growing from empty took five
        // reallocations); the shrink that fits it is in place.
        let buffer = Vec::with_capacity(TYPICAL_MAX);
        Ok(Self(postcard::to_extend(event, buffer)?.into_boxed_slice()))
    }

    /// The event, its texts borrowed from the packed bytes.
    pub fn view(&self) -> Result<EventView<'_>, PackError> {
        Ok(postcard::from_bytes(&self.0)?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;

    /// Every text distinct, so a field read into another shows.
    pub(crate) fn event() -> Event {
        Event {
            ts_micros: 1_764_547_200_123_456,
            site: Arc::from("smtware.com"),
            name: "pageview".into(),
            hostname: "blog.smtware.com".into(),
            pathname: "/blog/privacy-by-design".into(),
            visitor_id: Some(u64::MAX - 7),
            session_id: Some(0x1234_5678_9abc_def0),
            visit_day: 20_423,
            referrer: Some("news.ycombinator.com".into()),
            source: Some("Hacker News".into()),
            channel: "Organic Social",
            utm_source: Some("newsletter".into()),
            utm_medium: Some("email".into()),
            utm_campaign: Some("december".into()),
            utm_content: Some("banner".into()),
            utm_term: Some("privacy".into()),
            country: Some("NL".into()),
            region: Some("NL-NH".into()),
            city: Some("Amsterdam".into()),
            browser: Arc::from("Firefox"),
            browser_version: Arc::from("133"),
            os: Arc::from("Linux"),
            os_version: Arc::from("6.12"),
            device: "Desktop",
            screen: Some("Laptop"),
            connection_type: Some("4g".into()),
            save_data: false,
            props: Some(r#"{"plan":"pro"}"#.into()),
            scroll_depth: Some(80),
            engaged_ms: Some(12_345),
            interactive: true,
        }
    }

    /// The view's fields, name by name, hold what the event's held: a field out of
    /// order in either struct would show as a name with another field's value.
    fn comes_back(e: &Event) {
        let packed = Packed::pack(e).unwrap();
        let view = packed.view().unwrap();
        let (went, came) = (format!("{e:?}"), format!("{view:?}"));
        assert_eq!(came.replacen("EventView", "Event", 1), went);
    }

    #[test]
    fn an_event_comes_back_as_it_went_in_and_small() {
        let e = event();
        comes_back(&e);
        // A typical page view: no campaign, region, city or properties.
        let typical = Event {
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_content: None,
            utm_term: None,
            region: None,
            city: None,
            props: None,
            ..e
        };
        comes_back(&typical);
        let size = Packed::pack(&typical).unwrap().0.len();
        assert!(size < TYPICAL_MAX, "{size} bytes");
        comes_back(&Event {
            visitor_id: None,
            session_id: None,
            referrer: None,
            screen: None,
            scroll_depth: None,
            engaged_ms: None,
            ..typical
        });
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let packed = Packed::pack(&event()).unwrap();
        for cut in 0..packed.0.len() {
            let damaged = Packed(packed.0[..cut].into());
            assert!(damaged.view().is_err(), "cut at {cut}");
        }
    }
}
