//! Events as they wait for the writer: packed into one small allocation each.
//!
//! An [`Event`] is ≈ 0.6 KiB of fields plus a heap allocation per text, ≈ 0.8 KiB in
//! all; packed (postcard: varints, length-prefixed texts) it is 0.1–0.25 KiB. The
//! queue (49,152 events by default) fills while DuckDB checkpoints under load, and
//! then it and the writer's batch were most of the collector's memory (docs/load.md).
//! Packed bytes live in memory only, like the events they hold.

use crate::event::Event;

/// Bytes nearly every packed event fits in.
const TYPICAL_MAX: usize = 256;

/// One event in its packed form.
#[derive(Debug)]
pub struct Packed(Box<[u8]>);

/// Packing or unpacking failed: a bug, never the input's fault (every value an
/// event can hold packs, and only packed events are unpacked).
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

    pub fn unpack(&self) -> Result<Event, PackError> {
        Ok(postcard::from_bytes(&self.0)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::enrich::referrer::CHANNELS;
    use crate::enrich::ua::Device;
    use crate::event::SCREEN_CLASSES;

    fn event() -> Event {
        Event {
            ts_micros: 1_764_547_200_123_456,
            site: Arc::from("smtware.com"),
            name: "pageview".into(),
            hostname: "smtware.com".into(),
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
            utm_content: None,
            utm_term: None,
            country: Some("NL".into()),
            region: None,
            city: None,
            browser: Arc::from("Firefox"),
            browser_version: Arc::from("133"),
            os: Arc::from("Linux"),
            os_version: Arc::from(""),
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

    #[test]
    fn an_event_comes_back_as_it_went_in_and_small() {
        let e = event();
        let packed = Packed::pack(&e).unwrap();
        assert_eq!(packed.unpack().unwrap(), e);
        assert!(packed.0.len() < TYPICAL_MAX, "{} bytes", packed.0.len());
    }

    #[test]
    fn every_fixed_label_comes_back() {
        let labels = CHANNELS
            .into_iter()
            .chain(Device::ALL.map(Device::as_str))
            .chain(SCREEN_CLASSES);
        for label in labels {
            let e = Event {
                channel: label,
                device: label,
                screen: Some(label),
                ..event()
            };
            assert_eq!(Packed::pack(&e).unwrap().unpack().unwrap(), e);
        }
        let e = Event {
            screen: None,
            ..event()
        };
        assert_eq!(Packed::pack(&e).unwrap().unpack().unwrap(), e);
    }

    #[test]
    fn an_unknown_label_or_damaged_bytes_are_an_error_not_a_panic() {
        let e = Event {
            channel: "Carrier Pigeon",
            ..event()
        };
        assert!(Packed::pack(&e).unwrap().unpack().is_err());
        let packed = Packed::pack(&event()).unwrap();
        for cut in 0..packed.0.len() {
            let damaged = Packed(packed.0[..cut].into());
            assert!(damaged.unpack().is_err(), "cut at {cut}");
        }
    }
}
