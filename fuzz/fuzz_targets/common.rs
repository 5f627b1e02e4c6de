//! Helpers shared by the targets (`#[path]`-included, not a crate of its own).

/// The fuzz input as text: the collector only ever sees `&str` for headers, query
/// strings and URLs (hyper checks them), so invalid UTF-8 is replaced, not skipped.
#[allow(dead_code)]
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Splits `text` at the first newline: `(first line, rest)`; `rest` is `None`
/// without a newline.
#[allow(dead_code)]
pub fn first_line(text: &str) -> (&str, Option<&str>) {
    match text.split_once('\n') {
        Some((head, rest)) => (head.strip_suffix('\r').unwrap_or(head), Some(rest)),
        None => (text, None),
    }
}

/// Payload limits of `receive::payload` (name 120 chars, referrer 2000 chars, 30
/// props of at most 300 + 2000 chars, 10 domains): what a parsed payload may hold.
#[allow(dead_code)]
pub fn assert_bounded(p: &spoorloos::event::Payload, input_len: usize) {
    assert!(p.name.chars().count() <= 120, "name too long");
    assert!(
        p.referrer
            .as_ref()
            .is_none_or(|r| r.chars().count() <= 2000),
        "referrer too long"
    );
    assert!(p.props.len() <= 30, "too many props");
    for (k, v) in &p.props {
        assert!(k.chars().count() <= 300 && v.chars().count() <= 2000);
    }
    assert!(p.domains.len() <= 10, "too many domains");
    assert!(
        p.connection
            .as_ref()
            .is_none_or(|c| c.chars().count() <= 32)
    );
    assert!(p.scroll_depth.is_none_or(|d| d <= 100));
    // The minimised page never outgrows the URL it came from by more than the
    // redaction placeholders can add.
    let page = &p.page;
    let bound = 4 * input_len.max(16) + 64;
    assert!(
        page.pathname.len() <= bound,
        "pathname grew: {}",
        page.pathname.len()
    );
    assert!(page.hostname.len() <= bound, "hostname grew");
    for utm in [
        &page.utm.source,
        &page.utm.medium,
        &page.utm.campaign,
        &page.utm.content,
        &page.utm.term,
    ] {
        assert!(
            utm.as_ref().is_none_or(|u| u.chars().count() <= 200),
            "utm too long"
        );
    }
}

/// The sites the pipeline targets accept.
#[allow(dead_code)]
pub const SITES: [&str; 3] = ["example.test", "smtware.com", "localhost"];

/// Hits are stamped from this instant on (2026-06-01T12:00:00Z) unless an input
/// says otherwise.
#[allow(dead_code)]
pub const BASE_SECS: i64 = 1_780_315_200;

/// One pipeline per privacy-signal policy (anonymous, drop, ignore), as the server
/// builds it but without GeoIP files, and with a small referrer-spam list.
#[allow(dead_code)]
pub fn pipeline(policy: u8) -> &'static spoorloos::pipeline::Pipeline {
    use spoorloos::config::{Config, PrivacySignalPolicy};
    use spoorloos::enrich::geo::Geo;
    use spoorloos::filter::spam::SpamList;
    use spoorloos::pipeline::Pipeline;
    use std::sync::LazyLock;

    fn build(signals: PrivacySignalPolicy) -> Pipeline {
        let mut config = Config {
            sites: SITES.iter().map(|s| (*s).to_owned()).collect(),
            ..Config::default()
        };
        config.privacy.signals = signals;
        let start = chrono::DateTime::from_timestamp(BASE_SECS, 0).unwrap_or_default();
        let spam = SpamList::parse("# spam\nbest-seo-offer.com\nspam.example\n");
        Pipeline::standalone(&config, Geo::default(), spam, start)
            .expect("the OS random source works")
    }
    static PIPELINES: LazyLock<[Pipeline; 3]> = LazyLock::new(|| {
        [
            build(PrivacySignalPolicy::Anonymous),
            build(PrivacySignalPolicy::Drop),
            build(PrivacySignalPolicy::Ignore),
        ]
    });
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let pipelines = &*PIPELINES;
    // The server forgets idle sessions every minute; here every 1024 hits, so the
    // session table cannot grow with the number of executions.
    if CALLS
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .is_multiple_of(1024)
    {
        for p in pipelines {
            p.pseudonymiser().sessions().sweep(i64::MAX);
        }
    }
    &pipelines[usize::from(policy % 3)]
}

/// What every stored event must look like, whatever the hit. `parsed`: the payload
/// came from the parser, so its length limits apply too.
#[allow(dead_code)]
pub fn check_events(
    hit: &spoorloos::event::RawHit<'_>,
    policy: u8,
    parsed: bool,
    outcomes: &[Result<spoorloos::event::Event, spoorloos::metrics::DropReason>],
) {
    use spoorloos::enrich::referrer::CHANNELS;
    let expected = if hit.payload.domains.is_empty() {
        1
    } else {
        hit.payload.domains.len()
    };
    assert_eq!(outcomes.len(), expected, "one outcome per target site");
    let signalled = hit.privacy_signal || hit.payload.gpc;
    for event in outcomes.iter().flatten() {
        assert!(SITES.contains(&&*event.site), "site {:?}", event.site);
        assert!(CHANNELS.contains(&event.channel));
        assert!(!hit.prefetch, "a prefetch was stored");
        if signalled {
            assert_ne!(policy % 3, 1, "the drop policy stored a signalled hit");
        }
        if signalled && policy.is_multiple_of(3) {
            assert_eq!(event.visitor_id, None, "a signalled hit got a pseudonym");
        }
        // A hit without a pseudonym is a visit of its own, under an id of its own.
        assert!(event.session_id.is_some(), "an event outside any visit");
        assert!(
            event
                .connection_type
                .as_deref()
                .is_none_or(|c| ["slow-2g", "2g", "3g", "4g"].contains(&c))
        );
        assert_eq!(event.country, None, "no GeoIP database is loaded");
        if let Some(props) = &event.props {
            let value = serde_json::from_str::<serde_json::Value>(props);
            assert!(
                value.is_ok_and(|v| v.is_object()),
                "props is a JSON object: {props}"
            );
        }
        assert!(
            event
                .referrer
                .as_ref()
                .is_none_or(|r| r.chars().count() <= 2000)
        );
        if !parsed {
            continue;
        }
        for utm in [
            &event.utm_source,
            &event.utm_medium,
            &event.utm_campaign,
            &event.utm_content,
            &event.utm_term,
        ] {
            assert!(utm.as_ref().is_none_or(|u| u.chars().count() <= 200));
        }
    }
}
