//! The pipeline between receive and store: filter → enrich → pseudonymise.
//!
//! [`Pipeline::process`] is a plain synchronous function from a [`RawHit`] (which
//! still holds IP and User-Agent) to stored [`Event`]s (which cannot), one per site
//! the hit names. It is what the HTTP handlers call and what the benches measure.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Config, PrivacySignalPolicy};
use crate::enrich::geo::Geo;
use crate::enrich::page::{normalise_hostname, redact};
use crate::enrich::referrer;
use crate::enrich::ua::UaParser;
use crate::event::{Event, RawHit, screen_class};
use crate::filter::spam::SpamList;
use crate::metrics::DropReason;
use crate::pseudonymise::Pseudonymiser;
use crate::pseudonymise::salt::SaltError;

/// Effective connection types a browser can report; anything else is ignored.
const EFFECTIVE_TYPES: [&str; 4] = ["slow-2g", "2g", "3g", "4g"];

pub struct Pipeline {
    sites: HashMap<String, Arc<str>>,
    ua: UaParser,
    geo: Geo,
    spam: SpamList,
    signals: PrivacySignalPolicy,
    pseudonymiser: Pseudonymiser,
}

/// Distinct User-Agents whose parse is kept.
const UA_CACHE: usize = 16_384;

impl Pipeline {
    pub fn new(config: &Config, geo: Geo, spam: SpamList, pseudonymiser: Pseudonymiser) -> Self {
        Self {
            sites: config
                .sites
                .iter()
                .map(|s| (s.clone(), Arc::from(s.as_str())))
                .collect(),
            ua: UaParser::new(UA_CACHE),
            geo,
            spam,
            signals: config.privacy.signals,
            pseudonymiser,
        }
    }

    /// Checks User-Agents against `list` (from `filters.bot_list`) instead of the
    /// built-in crawler list.
    pub fn with_bot_list(mut self, list: Arc<crate::filter::bots::BotList>) -> Self {
        self.ua = UaParser::new(UA_CACHE).with_list(list);
        self
    }

    /// A pipeline on its own, as benches, property tests and fuzzers use it: fresh
    /// salts from `now` that are not kept anywhere, sessions as `config` says.
    pub fn standalone(
        config: &Config,
        geo: Geo,
        spam: SpamList,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, SaltError> {
        let pseudonymiser = Pseudonymiser::new(
            Vec::new(),
            now,
            config.session_timeout(),
            (config.privacy.ipv4_prefix, config.privacy.ipv6_prefix),
            Box::new(|_| {}),
        )?
        .with_max_sessions(config.privacy.max_sessions);
        Ok(Self::new(config, geo, spam, pseudonymiser))
    }

    pub fn pseudonymiser(&self) -> &Pseudonymiser {
        &self.pseudonymiser
    }

    /// One result per target site: the event to store, or why it is dropped.
    pub fn process(&self, hit: &RawHit<'_>) -> Vec<Result<Event, DropReason>> {
        let payload = &hit.payload;
        let page = &payload.page;
        let targets = payload.domains.len().max(1);
        let ua = match self.filter(hit) {
            Ok(ua) => ua,
            Err(reason) => return vec![Err(reason); targets],
        };
        let acquisition = referrer::acquisition(payload.referrer.as_deref(), &page.hostname, page);
        let referrer_host = acquisition.referrer.as_deref().and_then(|r| {
            r.strip_prefix("android-app://")
                .unwrap_or(r)
                .split('/')
                .next()
        });
        if referrer_host.is_some_and(|host| self.spam.is_spam(host)) {
            return vec![Err(DropReason::SpamReferrer); targets];
        }
        let signalled = hit.privacy_signal || payload.gpc;
        if signalled && self.signals == PrivacySignalPolicy::Drop {
            return vec![Err(DropReason::PrivacySignal); targets];
        }
        let anonymous = signalled && self.signals == PrivacySignalPolicy::Anonymous;
        let geo = self.geo.lookup(hit.ip);
        let connection_type = geo.connection_type.or_else(|| {
            payload
                .connection
                .as_deref()
                .or(hit.ect)
                .map(str::trim)
                .and_then(|c| EFFECTIVE_TYPES.iter().find(|t| t.eq_ignore_ascii_case(c)))
                .map(|c| (*c).to_owned())
        });
        let props = (!payload.props.is_empty()).then(|| {
            let map: serde_json::Map<String, serde_json::Value> = payload
                .props
                .iter()
                // Each key and value, not the JSON text: redacting that could break
                // an escape sequence and leave invalid JSON.
                .map(|(k, v)| (clean(k, hit.user_agent), clean(v, hit.user_agent).into()))
                .collect();
            serde_json::Value::Object(map).to_string()
        });
        let utm = &page.utm;
        let template = Event {
            ts_micros: hit.received_at.timestamp_micros(),
            site: Arc::from(""),
            name: payload.name.clone(),
            hostname: page.hostname.clone(),
            pathname: page.pathname.clone(),
            visitor_id: None,
            session_id: None,
            visit_day: crate::pseudonymise::session::epoch_day(hit.received_at.timestamp_micros()),
            referrer: acquisition.referrer,
            source: acquisition.source,
            channel: acquisition.channel,
            utm_source: utm.source.clone(),
            utm_medium: acquisition.utm_medium,
            utm_campaign: utm.campaign.clone(),
            utm_content: utm.content.clone(),
            utm_term: utm.term.clone(),
            country: geo.country,
            region: geo.region,
            city: geo.city,
            browser: ua.browser,
            browser_version: ua.browser_version,
            os: ua.os,
            os_version: ua.os_version,
            device: ua.device.as_str(),
            screen: payload.screen_width.map(screen_class),
            connection_type,
            save_data: payload.save_data,
            props,
            scroll_depth: payload.scroll_depth,
            engaged_ms: payload.engaged_ms,
            interactive: payload.interactive,
        };
        let template = scrub(template, hit.user_agent);
        let stamp = |mut event: Event, target: &str| {
            let site = self.site(target).ok_or(DropReason::UnknownSite)?;
            // Should the OS random source fail, the hit still counts, unlinked.
            let pseudonym = (!anonymous)
                .then(|| {
                    self.pseudonymiser
                        .pseudonymise(&site, hit.ip, hit.user_agent, hit.received_at)
                        .ok()
                })
                .flatten();
            match pseudonym {
                Some(p) => {
                    event.visitor_id = Some(p.visitor_id);
                    event.session_id = Some(p.session_id);
                    event.visit_day = p.visit_day;
                }
                // A visit of its own, under an id no other hit has: stored visits
                // then hold it like any other (src/lifecycle), and it links nothing.
                None => event.session_id = Some(self.pseudonymiser.sessions().lone()),
            }
            event.site = site;
            Ok(event)
        };
        let target = |i: usize| payload.domains.get(i).unwrap_or(&page.hostname);
        let last = targets - 1;
        let mut events = Vec::with_capacity(targets);
        for i in 0..last {
            events.push(stamp(template.clone(), target(i)));
        }
        // The last target takes the template itself: no copy for the usual one site.
        events.push(stamp(template, target(last)));
        events
    }

    /// Prefetch and bot checks; on success, the parsed User-Agent.
    fn filter(&self, hit: &RawHit<'_>) -> Result<crate::enrich::ua::UaInfo, DropReason> {
        if hit.prefetch {
            return Err(DropReason::Prefetch);
        }
        let ua = self.ua.parse(hit.user_agent, &hit.hints);
        if ua.bot.is_some() {
            return Err(DropReason::Bot);
        }
        Ok(ua)
    }

    /// What gave away a hit that [`Self::process`] dropped as a bot (a metrics
    /// label); the User-Agent's parse comes from the cache.
    pub fn bot_kind(&self, hit: &RawHit<'_>) -> Option<&'static str> {
        self.ua
            .parse(hit.user_agent, &hit.hints)
            .bot
            .map(|reason| reason.as_str())
    }

    /// The configured site the `i`-th outcome of [`Self::process`] is for, if any.
    pub fn target_site(&self, hit: &RawHit<'_>, i: usize) -> Option<Arc<str>> {
        let payload = &hit.payload;
        self.site(payload.domains.get(i).unwrap_or(&payload.page.hostname))
    }

    /// The configured site a domain names (`www.` and case ignored).
    fn site(&self, domain: &str) -> Option<Arc<str>> {
        self.sites.get(normalise_hostname(domain).as_ref()).cloned()
    }
}

/// The last pass over every text an event keeps from its request, whichever field a
/// client put it in: e-mail addresses, IP addresses and tokens are redacted (as page
/// paths are), and the hit's own User-Agent, sent back in a property or a URL, is cut
/// out. What the earlier stages already minimised passes unchanged.
fn scrub(mut event: Event, user_agent: &str) -> Event {
    for text in [&mut event.name, &mut event.hostname, &mut event.pathname] {
        clean_in_place(text, user_agent);
    }
    // Props were cleaned key by key and value by value when they were built.
    for field in [
        &mut event.referrer,
        &mut event.source,
        &mut event.utm_source,
        &mut event.utm_medium,
        &mut event.utm_campaign,
        &mut event.utm_content,
        &mut event.utm_term,
    ] {
        if let Some(text) = field.as_mut() {
            clean_in_place(text, user_agent);
        }
    }
    event
}

/// One kept text, cleaned: percent-decoded (twice at most: an address encoded twice
/// is still an address, and `%40` must not hide one), the User-Agent cut, redacted.
fn clean(text: &str, user_agent: &str) -> String {
    let mut text = text.to_owned();
    clean_in_place(&mut text, user_agent);
    text
}

/// [`clean`] where the text is already owned: a clean text (the usual case) is
/// kept as it is, without a copy per field per hit.
fn clean_in_place(text: &mut String, user_agent: &str) {
    for _ in 0..2 {
        if !text.contains('%') {
            break;
        }
        match percent_encoding::percent_decode_str(text).decode_utf8_lossy() {
            Cow::Owned(decoded) => *text = decoded,
            Cow::Borrowed(_) => break,
        }
    }
    // Control characters are no label's, and JSON spells them `\u00XX`: hex digits
    // that, next to the text around them, would spell an address the redaction
    // below never saw (`%10.0.0.1` stored as `\u0010.0.0.1`).
    text.retain(|c| !c.is_control());
    cut_user_agent(text, user_agent);
    if let Cow::Owned(redacted) = redact(text) {
        *text = redacted;
    }
}

/// Length of the User-Agent pieces looked for, and their stride: any run of 40 or
/// more characters shared with the User-Agent holds a whole aligned piece.
const UA_PIECE: usize = 24;
const UA_STRIDE: usize = 16;

/// Cuts every run the text shares with the hit's User-Agent that holds one of its
/// aligned 24-byte pieces, extended as far as the two agree, into `:ua`: the UA or
/// most of it, even where earlier redaction changed a version number in it. Shorter
/// "User-Agents" (`curl`, `x`) are words, not fingerprints, and are left alone.
fn cut_user_agent(text: &mut String, user_agent: &str) {
    let ua = user_agent.as_bytes();
    if ua.len() < UA_PIECE || text.len() < UA_PIECE {
        return;
    }
    // Header values the server reads are visible ASCII, so every byte compared below
    // is ASCII and each cut falls on a char boundary of `text`. Any other UA (only a
    // caller of the library could pass one) is cut where it stands whole.
    if !user_agent.is_ascii() {
        if text.contains(user_agent) {
            *text = text.replace(user_agent, ":ua");
        }
        return;
    }
    let mut offset = 0;
    while offset + UA_PIECE <= ua.len() {
        let piece = &user_agent[offset..offset + UA_PIECE];
        // memchr's one-shot search: Rabin-Karp on short texts (most pages and
        // referrers), where `str::find` set up a two-way searcher per piece (1 % of
        // the request thread at peak, measured).
        while let Some(at) = memchr::memmem::find(text.as_bytes(), piece.as_bytes()) {
            let bytes = text.as_bytes();
            let (mut from, mut ua_from) = (at, offset);
            while from > 0 && ua_from > 0 && bytes[from - 1] == ua[ua_from - 1] {
                from -= 1;
                ua_from -= 1;
            }
            let (mut to, mut ua_to) = (at + UA_PIECE, offset + UA_PIECE);
            while to < bytes.len() && ua_to < ua.len() && bytes[to] == ua[ua_to] {
                to += 1;
                ua_to += 1;
            }
            text.replace_range(from..to, ":ua");
        }
        offset += UA_STRIDE;
    }
}
