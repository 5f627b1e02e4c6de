//! Property tests of the privacy promise: whatever a tracker or a visitor sends, a
//! stored event never contains an e-mail address, the visitor's IP address (in any
//! spelling) or the raw User-Agent.
//!
//! Each case hides secrets (an e-mail address, the client's own IP, its User-Agent,
//! a token) in many spellings in many places of a hit: page host, path, query,
//! fragment (plain and hash routing), referrer host, path, query, fragment and user
//! info, props, event name, connection field, extra domains, Client Hints and ECT
//! headers. The hit takes the server's code path: the payload parser
//! (`POST /api/event` JSON or the `GET /p.gif` query) → `RawHit`, built as
//! `receive::routes` builds it → `Pipeline::process` → `Event`. Every field of every
//! stored event is then searched for the secrets (as stored and percent-decoded).
//!
//! Every (secret, place) pair is checked: the leaks these tests first found (an IP or
//! User-Agent in kept URL text and props, the event name as sent, e-mail addresses
//! with unusual local parts or encoded once more) are closed by the pipeline's last
//! pass (`scrub` in `src/pipeline.rs`).

use std::net::IpAddr;
use std::sync::LazyLock;

use chrono::Utc;
use proptest::prelude::*;
use regex::Regex;
use spoorloos::config::Config;
use spoorloos::enrich::geo::Geo;
use spoorloos::enrich::ua::ClientHints;
use spoorloos::event::{Event, Payload, RawHit};
use spoorloos::filter::spam::SpamList;
use spoorloos::pipeline::Pipeline;
use spoorloos::receive::payload;

const SITE: &str = "example.test";

/// Real browser User-Agents (none is a bot, so the hits are stored).
const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    Email,
    Ip,
    UserAgent,
    Token,
}

/// Where a secret is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    PageHost,
    PathSegment,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    RefParam,
    SourceParam,
    OtherParam,
    Fragment,
    ReferrerHost,
    ReferrerPath,
    ReferrerQuery,
    ReferrerFragment,
    ReferrerUserInfo,
    PropKey,
    PropValue,
    Name,
    Connection,
    Domain,
    Hints,
}

const PLACES: [Place; 22] = [
    Place::PageHost,
    Place::PathSegment,
    Place::UtmSource,
    Place::UtmMedium,
    Place::UtmCampaign,
    Place::UtmContent,
    Place::UtmTerm,
    Place::RefParam,
    Place::SourceParam,
    Place::OtherParam,
    Place::Fragment,
    Place::ReferrerHost,
    Place::ReferrerPath,
    Place::ReferrerQuery,
    Place::ReferrerFragment,
    Place::ReferrerUserInfo,
    Place::PropKey,
    Place::PropValue,
    Place::Name,
    Place::Connection,
    Place::Domain,
    Place::Hints,
];

/// One generated hit: the visitor and where its secrets are hidden.
#[derive(Debug, Clone)]
struct Case {
    ip: IpAddr,
    /// Which spelling of `ip` the hit uses (the detector looks for all of them).
    ip_spelling: usize,
    user_agent: String,
    email: String,
    /// Which of `EMAIL_SPELLINGS` the hit uses.
    email_spelling: usize,
    token: String,
    /// (secret, place, text before, text after)
    hidden: Vec<(Secret, Place, String, String)>,
    json: bool,
    hash_mode: bool,
    www: bool,
    gpc: bool,
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_filter("not loopback", |(a, ..)| *a != 127)
            .prop_map(|(a, b, c, d)| IpAddr::from([a, b, c, d])),
        (0x2001u16..=0x2fff, any::<[u16; 7]>()).prop_map(|(first, rest)| {
            let mut s = [0u16; 8];
            s[0] = first;
            s[1..].copy_from_slice(&rest);
            IpAddr::from(s)
        }),
        // Compressible: runs of zero groups.
        (0x2001u16..=0x2fff, 1u16..=0xffff)
            .prop_map(|(first, last)| IpAddr::from([first, 0xdb8, 0, 0, 0, 0, 0, last])),
    ]
}

fn user_agent() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&USER_AGENTS[..]).prop_map(str::to_owned),
        (60u32..=140).prop_map(|v| format!(
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
        )),
    ]
}

/// Characters RFC 5322 allows in a local part besides letters, digits and `.+'-_%`.
const ODD_ATEXT: &str = "~!#$&*=?^`{|}";

fn email() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9]{0,7}",
        prop::option::of("[._+-][a-z0-9]{1,6}"),
        prop::option::weighted(
            0.1,
            prop::sample::select(ODD_ATEXT.chars().collect::<Vec<_>>()),
        ),
        "[a-z][a-z0-9]{0,8}",
        prop::sample::select(&["com", "org", "nl", "test", "co.uk", "email"][..]),
    )
        .prop_map(|(local, tag, odd, domain, tld)| {
            let odd = odd.map(String::from).unwrap_or_default();
            format!("{local}{}{odd}@{domain}.{tld}", tag.unwrap_or_default())
        })
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| {
            let h = format!("{n:032x}");
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        }),
        "[A-Za-z0-9_-]{32,48}",
        "eyJ[A-Za-z0-9_-]{20}\\.[A-Za-z0-9_-]{30}\\.[A-Za-z0-9_-]{20}",
    ]
}

/// Text around a secret: nothing, separators, or any characters.
fn affix() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        // Not `ODD_ATEXT`: "a=" + "@" + a dotted token would make up an address
        // of the known-leak kind.
        2 => "[ a-z0-9./:;,@%_'()+-]{1,4}",
        1 => "\\PC{1,4}",
    ]
}

fn secret() -> impl Strategy<Value = Secret> {
    prop::sample::select(&[Secret::Email, Secret::Ip, Secret::UserAgent, Secret::Token][..])
}

fn case() -> impl Strategy<Value = Case> {
    (
        (ip(), 0usize..16, user_agent(), email(), 0usize..16, token()),
        prop::collection::vec(
            (
                secret(),
                prop::sample::select(&PLACES[..]),
                affix(),
                affix(),
            ),
            1..6,
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (ip, ip_spelling, user_agent, email, email_spelling, token),
                hidden,
                (json, hash_mode, www, gpc),
            )| Case {
                ip,
                ip_spelling,
                user_agent,
                email,
                email_spelling,
                token,
                hidden,
                json,
                hash_mode,
                www,
                gpc,
            },
        )
}

// ---------------------------------------------------------------------------
// Spellings

/// Every way an IP address is commonly written.
fn ip_spellings(ip: IpAddr) -> Vec<String> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            vec![
                v4.to_string(),
                format!("{a:03}.{b:03}.{c:03}.{d:03}"),
                format!("{a}-{b}-{c}-{d}"),
                format!("{a}_{b}_{c}_{d}"),
                format!("::ffff:{v4}"),
                format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
                format!("[::ffff:{v4}]"),
                u32::from(v4).to_string(),
            ]
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let full = s
                .iter()
                .map(|g| format!("{g:04x}"))
                .collect::<Vec<_>>()
                .join(":");
            let short = v6.to_string();
            vec![
                short.clone(),
                full.clone(),
                short.to_uppercase(),
                full.to_uppercase(),
                format!("[{short}]"),
                s.iter()
                    .map(|g| format!("{g:x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                short.replace(':', "-"),
            ]
        }
    }
}

fn percent_encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmailSpelling {
    Plain,
    Upper,
    /// `jane%40example.com`
    EncodedAt,
    /// Every byte percent-encoded.
    Encoded,
    Mailto,
    Angled,
    /// `jane%2540example.com`: encoded twice.
    DoubleEncoded,
}

const EMAIL_SPELLINGS: [EmailSpelling; 7] = [
    EmailSpelling::Plain,
    EmailSpelling::Upper,
    EmailSpelling::EncodedAt,
    EmailSpelling::Encoded,
    EmailSpelling::Mailto,
    EmailSpelling::Angled,
    EmailSpelling::DoubleEncoded,
];

fn spell_email(email: &str, spelling: EmailSpelling) -> String {
    match spelling {
        EmailSpelling::Plain => email.to_owned(),
        EmailSpelling::Upper => email.to_uppercase(),
        EmailSpelling::EncodedAt => email.replace('@', "%40"),
        EmailSpelling::Encoded => percent_encode_all(email),
        EmailSpelling::Mailto => format!("mailto:{email}"),
        EmailSpelling::Angled => format!("<{email}>"),
        EmailSpelling::DoubleEncoded => email.replace('@', "%2540"),
    }
}

impl Case {
    fn ip_text(&self) -> String {
        let spellings = ip_spellings(self.ip);
        spellings[self.ip_spelling % spellings.len()].clone()
    }

    fn email_text(&self) -> String {
        spell_email(
            &self.email,
            EMAIL_SPELLINGS[self.email_spelling % EMAIL_SPELLINGS.len()],
        )
    }

    fn text(&self, secret: Secret) -> String {
        match secret {
            Secret::Email => self.email_text(),
            Secret::Ip => self.ip_text(),
            Secret::UserAgent => self.user_agent.clone(),
            Secret::Token => self.token.clone(),
        }
    }

    /// The secrets hidden at `place`, each with its affixes.
    fn at(&self, place: Place) -> Vec<String> {
        self.hidden
            .iter()
            .filter(|(_, p, ..)| *p == place)
            .map(|(s, _, before, after)| format!("{before}{}{after}", self.text(*s)))
            .collect()
    }

    fn joined(&self, place: Place) -> Option<String> {
        let parts = self.at(place);
        (!parts.is_empty()).then(|| parts.join("-"))
    }
}

/// Escapes what would end a path segment or start the query or fragment.
fn path_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' | '#' | '?' | '"' | '<' | '>' | '`' | '{' | '}' | '\\' | '^' | '|' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c if c.is_control() => out.push_str(&percent_encode_all(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

/// A secret as the host of a URL: IPv6 addresses in brackets, other text escaped.
fn host_escape(s: &str) -> String {
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{s}]")
    } else {
        path_escape(s).replace(['/', '@', ':'], "-")
    }
}

/// Escapes for a query value, but keeps `%`: a spelling such as `jane%40example.com`
/// is how the text appears in the URL.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~%@:/!$'()*,;".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The hit

struct Hit {
    body: Option<Vec<u8>>,
    query: String,
    hints: Vec<String>,
    ect: Option<String>,
}

fn build(case: &Case) -> Hit {
    use Place::*;
    let host = match case.at(PageHost).first() {
        Some(secret) => host_escape(secret),
        None if case.www => "www.example.test".to_owned(),
        None => SITE.to_owned(),
    };
    let mut path = String::from("/blog/2026/cookieless");
    for part in case.at(PathSegment) {
        path.push('/');
        path.push_str(&path_escape(&part));
    }
    let mut params = vec![("page".to_owned(), "2".to_owned())];
    for (place, key) in [
        (UtmSource, "utm_source"),
        (UtmMedium, "utm_medium"),
        (UtmCampaign, "utm_campaign"),
        (UtmContent, "utm_content"),
        (UtmTerm, "utm_term"),
        (RefParam, "ref"),
        (SourceParam, "source"),
        (OtherParam, "email"),
    ] {
        for value in case.at(place) {
            params.push((key.to_owned(), value));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", query_escape(v)))
        .collect();
    let mut url = format!("https://{host}{path}?{}", query.join("&"));
    if let Some(fragment) = case.joined(Fragment) {
        url.push_str(if case.hash_mode { "#/account/" } else { "#" });
        url.push_str(&path_escape(&fragment));
    }

    let mut referrer = String::from("https://");
    if let Some(user) = case.joined(ReferrerUserInfo) {
        let user: String = user
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        referrer.push_str(&user);
        referrer.push_str(":pw@");
    }
    match case.at(ReferrerHost).first() {
        Some(secret) => referrer.push_str(&host_escape(secret)),
        None => referrer.push_str("news.other.test"),
    }
    referrer.push_str("/r");
    for part in case.at(ReferrerPath) {
        referrer.push('/');
        referrer.push_str(&path_escape(&part));
    }
    if let Some(q) = case.joined(ReferrerQuery) {
        referrer.push_str("?q=");
        referrer.push_str(&query_escape(&q));
    }
    if let Some(f) = case.joined(ReferrerFragment) {
        referrer.push('#');
        referrer.push_str(&path_escape(&f));
    }

    let name = case.joined(Name).unwrap_or_else(|| "Signup".to_owned());
    let mut domains = vec![SITE.to_owned()];
    domains.extend(case.at(Domain).iter().map(|d| d.replace(',', " ")));
    let connection = case.joined(Connection).unwrap_or_else(|| "4g".to_owned());
    let mut props = serde_json::Map::new();
    props.insert("plan".into(), "pro".into());
    for key in case.at(PropKey) {
        props.insert(key, "yes".into());
    }
    for (i, value) in case.at(PropValue).into_iter().enumerate() {
        props.insert(format!("field{i}"), value.into());
    }
    let body = serde_json::json!({
        "n": name,
        "u": url,
        "d": domains.join(","),
        "r": referrer,
        "w": 1280,
        "p": props,
        "h": u8::from(case.hash_mode),
        "c": connection,
        "g": u8::from(case.gpc),
    });
    let query = [
        ("n", name.as_str()),
        ("u", url.as_str()),
        ("d", &domains.join(",")),
        ("r", referrer.as_str()),
        ("w", "1280"),
        ("h", if case.hash_mode { "1" } else { "0" }),
        ("c", connection.as_str()),
        ("g", if case.gpc { "1" } else { "0" }),
    ]
    .iter()
    // As the pixel's page would: encodeURIComponent on every value.
    .map(|(k, v)| {
        format!(
            "{k}={}",
            url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
        )
    })
    .collect::<Vec<_>>()
    .join("&");
    Hit {
        body: case.json.then(|| body.to_string().into_bytes()),
        query,
        hints: case.at(Hints),
        ect: case.joined(Connection),
    }
}

static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| {
    let config = Config {
        sites: vec![SITE.to_owned()],
        ..Config::default()
    };
    Pipeline::standalone(&config, Geo::default(), SpamList::default(), Utc::now())
        .expect("the OS random source works")
});

/// The events the server would store for this hit, or `None` if the payload is refused.
fn process(case: &Case, hit: &Hit) -> Option<Vec<Event>> {
    let parsed: Payload = match &hit.body {
        Some(body) => payload::from_json(body),
        None => payload::from_pixel_query(&hit.query, None),
    }
    .ok()?;
    let hint = |i: usize| hit.hints.get(i).map(String::as_str);
    let raw = RawHit {
        received_at: Utc::now(),
        ip: case.ip,
        user_agent: &case.user_agent,
        hints: ClientHints {
            brands: hint(0),
            mobile: hint(1),
            platform: hint(2),
            platform_version: hint(3),
            full_version_list: hint(4),
        },
        ect: hit.ect.as_deref(),
        privacy_signal: false,
        prefetch: false,
        payload: parsed,
    };
    Some(PIPELINE.process(&raw).into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------
// The detector

/// Every text field of a stored event, props split into their keys and values.
fn fields(event: &Event) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = [
        ("site", Some(&*event.site)),
        ("name", Some(event.name.as_str())),
        ("hostname", Some(event.hostname.as_str())),
        ("pathname", Some(event.pathname.as_str())),
        ("referrer", event.referrer.as_deref()),
        ("source", event.source.as_deref()),
        ("utm_source", event.utm_source.as_deref()),
        ("utm_medium", event.utm_medium.as_deref()),
        ("utm_campaign", event.utm_campaign.as_deref()),
        ("utm_content", event.utm_content.as_deref()),
        ("utm_term", event.utm_term.as_deref()),
        ("country", event.country.as_deref()),
        ("region", event.region.as_deref()),
        ("city", event.city.as_deref()),
        ("browser", Some(&*event.browser)),
        ("browser_version", Some(&*event.browser_version)),
        ("os", Some(&*event.os)),
        ("os_version", Some(&*event.os_version)),
        ("connection_type", event.connection_type.as_deref()),
        ("props", event.props.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| (name, v.to_owned())))
    .collect();
    out.push(("channel", event.channel.to_owned()));
    out.push(("device", event.device.to_owned()));
    if let Some(screen) = event.screen {
        out.push(("screen", screen.to_owned()));
    }
    if let Some(props) = &event.props
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(props)
    {
        for (k, v) in map {
            out.push(("props key", k));
            out.push(("props value", v.as_str().unwrap_or_default().to_owned()));
        }
    }
    out
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9.!#$%&'*+=?^_`{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
        .expect("constant regex")
});

/// What a field reveals, if anything: the text as stored and percent-decoded.
fn leak(case: &Case, text: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned();
    for view in [text, decoded.as_str()] {
        let lower = view.to_lowercase();
        if let Some(m) = EMAIL.find(view) {
            return Some(format!("an e-mail address {:?}", m.as_str()));
        }
        if lower.contains(&case.email.to_lowercase()) {
            return Some(format!("the e-mail address {:?}", case.email));
        }
        if let Some(s) = ip_spellings(case.ip)
            .iter()
            .find(|s| lower.contains(&s.to_lowercase()))
        {
            return Some(format!("the client IP as {s:?}"));
        }
        // The UA itself, or any 40 characters of it.
        let ua: Vec<char> = case.user_agent.chars().collect();
        if ua.windows(40.min(ua.len())).any(|w| {
            let w: String = w.iter().collect();
            view.contains(&w)
        }) {
            return Some("the raw User-Agent".to_owned());
        }
    }
    None
}

fn check(case: &Case) -> Result<usize, TestCaseError> {
    let hit = build(case);
    let Some(events) = process(case, &hit) else {
        return Ok(0);
    };
    for event in &events {
        for (field, text) in fields(event) {
            if let Some(what) = leak(case, &text) {
                return Err(TestCaseError::fail(format!(
                    "{field} = {text:?} holds {what}\nbody: {}\nquery: {}",
                    hit.body
                        .as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default(),
                    hit.query
                )));
            }
        }
    }
    Ok(events.len())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=200000 for a long run.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2048),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn stored_events_hold_no_email_ip_or_user_agent(case in case()) {
        check(&case)?;
    }
}

/// The generator is not vacuous: hits with hidden secrets are stored, as JSON and as
/// pixel, in both hash modes.
#[test]
fn hostile_hits_are_stored() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut stored = [0usize; 4];
    for _ in 0..400 {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        let n = check(&case).unwrap_or_else(|e| panic!("{e}"));
        stored[usize::from(case.json) * 2 + usize::from(case.hash_mode)] += n;
    }
    assert!(stored.iter().all(|n| *n > 20), "{stored:?}");
}

/// Found by the property test: `%10` decodes to a control character, which JSON
/// writes as `\u0010`, and with the text after it that spelled `10.0.0.1`. Every
/// spelling of the address, behind each escape-producing byte, in every place.
#[test]
fn control_characters_cannot_spell_an_address() {
    for ip_spelling in 0..8 {
        for before in ["%", "%0", "%1", "%01", "%2501", "\\u00", "x%0A"] {
            for place in [
                Place::PropKey,
                Place::PropValue,
                Place::PathSegment,
                Place::Name,
                Place::UtmCampaign,
            ] {
                let case = Case {
                    ip: "10.0.0.1".parse().expect("ip"),
                    ip_spelling,
                    user_agent: USER_AGENTS[0].to_owned(),
                    email: "a@a.com".to_owned(),
                    email_spelling: 0,
                    token: String::new(),
                    hidden: vec![(Secret::Ip, place, before.to_owned(), String::new())],
                    json: true,
                    hash_mode: false,
                    www: false,
                    gpc: false,
                };
                check(&case).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}

/// The spellings the detector knows, for the examples in docs/fuzzing.md.
#[test]
fn spellings_are_recognised() {
    let case = Case {
        ip: "203.0.113.9".parse().expect("ip"),
        ip_spelling: 0,
        user_agent: USER_AGENTS[0].to_owned(),
        email: "jane.doe+news@example.com".to_owned(),
        email_spelling: 0,
        token: String::new(),
        hidden: Vec::new(),
        json: true,
        hash_mode: false,
        www: false,
        gpc: false,
    };
    for text in [
        "/ip/203.000.113.009",
        "ec2-203-0-113-9",
        "::FFFF:203.0.113.9",
        "/u/jane.doe+news%40example.com",
        "JANE.DOE+NEWS@EXAMPLE.COM",
        "x Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    ] {
        assert!(leak(&case, text).is_some(), "{text}");
    }
    for text in [
        "/blog/:email/:num",
        "Chrome",
        "10.15",
        "Windows",
        "/ip/:num",
    ] {
        assert_eq!(leak(&case, text), None, "{text}");
    }
}
