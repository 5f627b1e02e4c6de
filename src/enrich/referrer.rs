//! Referrer, traffic source and acquisition channel.
//!
//! [`acquisition`] turns the raw `Referer` (or the event's `referrer` field)
//! and the minimised page into the session's acquisition attributes:
//!
//! - the cleaned referrer `host/path` (no scheme, `www.`, query, fragment or
//!   trailing slash; redacted like page paths);
//! - the source: a UTM-style tag wins, then the known-sources table by
//!   referrer host, then the referrer host itself;
//! - the channel, following the GA4 default channel grouping as Plausible
//!   implements it, plus the newer "AI Assistants" channel;
//! - the effective `utm_medium`: Plausible records an ad click without a
//!   medium as `(gclid)` / `(msclkid)`. That is folded in here rather than
//!   mutating the [`Page`], so the page stays a pure function of its URL and
//!   one call yields every session attribute. Callers store
//!   [`Acquisition::utm_medium`] instead of `page.utm.medium`.
//!
//! The known-sources table is our own compact list of major sites; each
//! entry carries the category the channel rules need.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, OnceLock};

use regex::Regex;
use url::{Host, Url};

use crate::enrich::page::{Page, Utm, normalise_hostname, redact};

/// Session attributes derived from the referrer and the page's tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acquisition {
    /// `host/path` without `www.`, query, fragment or trailing slash
    /// (`android-app://pkg` for app referrers). `None` when absent, internal,
    /// local, of another scheme or malformed.
    pub referrer: Option<String>,
    /// Canonical source name (`Facebook`), an unknown tag verbatim, or the
    /// referrer host.
    pub source: Option<String>,
    /// One of [`CHANNELS`].
    pub channel: &'static str,
    /// The page's `utm_medium`, or `(gclid)` / `(msclkid)` for an untagged ad
    /// click from Google / Bing. Store this, not `page.utm.medium`.
    pub utm_medium: Option<String>,
}

/// Every channel [`acquisition`] can return.
pub const CHANNELS: [&str; 19] = [
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "AI Assistants",
    "Organic Search",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Referral",
    "Direct",
];

/// Referrers are cut to this many characters before parsing, never rejected.
pub const MAX_REFERRER_CHARS: usize = 2000;

/// Derives referrer, source, channel and effective medium for a pageview.
///
/// `page_host` is the hostname of the page being viewed (normally
/// `page.hostname`); a referrer on the same host, ignoring `www.`, is internal
/// navigation and yields no referrer. Subdomains count as external. Never
/// fails: a malformed referrer is simply ignored.
#[must_use]
pub fn acquisition(referrer: Option<&str>, page_host: &str, page: &Page) -> Acquisition {
    let referrer = referrer.and_then(|r| parse_referrer(r, page_host));
    let (source, known) = resolve_source(page.utm.source.as_deref(), referrer.as_ref());
    let utm_medium = match (&page.utm.medium, known.map(|k| k.name), page.click_id) {
        (Some(medium), _, _) => Some(medium.clone()),
        (None, Some("Google"), Some("gclid")) => Some("(gclid)".to_owned()),
        (None, Some("Bing"), Some("msclkid")) => Some("(msclkid)".to_owned()),
        (None, _, _) => None,
    };
    let channel = channel(source.as_deref(), known, &page.utm, page.click_id);
    Acquisition {
        referrer: referrer.map(|r| r.display),
        source,
        channel,
        utm_medium,
    }
}

/// Canonical name of a source given as a tag, host or URL, case-insensitively:
/// `"fb"`, `"Facebook"`, `"facebook.com"`, `"m.facebook.com"` → `"Facebook"`.
#[must_use]
pub fn canonical_source(raw: &str) -> Option<&'static str> {
    find_tag(raw).map(|s| s.name)
}

// ---------------------------------------------------------------------------
// Referrer parsing

struct Referrer {
    /// Normalised host (or Android package name).
    host: String,
    android: bool,
    display: String,
}

fn parse_referrer(raw: &str, page_host: &str) -> Option<Referrer> {
    let raw = truncate_chars(raw.trim(), MAX_REFERRER_CHARS);
    let url = Url::parse(raw).ok()?;
    let android = match url.scheme() {
        "http" | "https" => false,
        "android-app" => true,
        _ => return None,
    };
    // Local development traffic says nothing about acquisition.
    if is_local(&url) {
        return None;
    }
    let host = normalise_hostname(url.host_str()?);
    if host.is_empty() || host == normalise_hostname(page_host) {
        return None;
    }
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    let path = redact(&path);
    let path = path.trim_end().trim_end_matches('/');
    let prefix = if android { "android-app://" } else { "" };
    let mut display = format!("{prefix}{host}{path}");
    display.truncate(truncate_chars(&display, MAX_REFERRER_CHARS).len());
    Some(Referrer {
        host: host.into_owned(),
        android,
        display,
    })
}

fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip == Ipv4Addr::UNSPECIFIED,
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip == Ipv6Addr::UNSPECIFIED,
        None => false,
    }
}

fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

// ---------------------------------------------------------------------------
// Sources

/// Source category, as used by the channel rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Search,
    Social,
    Email,
    Shopping,
    Video,
    Ai,
    Other,
}

struct Source<'a> {
    name: &'a str,
    category: Category,
    /// Host suffixes (`facebook.com` also matches `m.facebook.com`), brand
    /// patterns (`google.*` matches `google.<tld>` and `google.<sld>.<cc>`
    /// with any subdomain) and Android packages (`android-app://pkg`).
    hosts: Vec<&'a str>,
    /// Lowercase tag values besides the lowercased name (`utm_source=fb`).
    aliases: Vec<&'a str>,
}

impl Category {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "search" => Category::Search,
            "social" => Category::Social,
            "email" => Category::Email,
            "shopping" => Category::Shopping,
            "video" => Category::Video,
            "ai" => Category::Ai,
            "other" => Category::Other,
            _ => return None,
        })
    }
}

use Category::{Ai, Email, Search, Shopping, Social, Video};

/// The known sources, kept as data so that they can be brought up to date without
/// reading Rust (the file's header says how a line reads).
const SOURCES_FILE: &str = include_str!("../../assets/referrers/sources.tsv");

/// A known-sources file read in place of the built-in one ([`use_sources_file`]).
static CONFIGURED: OnceLock<&'static str> = OnceLock::new();

/// Whether the known sources were read (after which they stay as they are).
static READ: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("cannot read the known-sources file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "known-sources file {path}, line {line}: expected name, category, hosts and \
         aliases separated by tabs, with a category of search, social, email, \
         shopping, video, ai or other"
    )]
    Line { path: PathBuf, line: usize },
    #[error("the known sources were read before {0} was given")]
    TooLate(PathBuf),
}

/// Reads the known sources from `path` (the format of `assets/referrers/sources.tsv`)
/// in place of the built-in ones, for the life of the process; every line must read.
/// Call once at start-up, before the first hit. Returns how many sources it has.
pub fn use_sources_file(path: &Path) -> Result<usize, SourcesError> {
    let text = std::fs::read_to_string(path).map_err(|source| SourcesError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        if is_comment(line) {
            continue;
        }
        if parse_line(line).is_none() {
            return Err(SourcesError::Line {
                path: path.to_owned(),
                line: i + 1,
            });
        }
        count += 1;
    }
    // Read for as long as the process runs, as the built-in text is.
    let text: &'static str = Box::leak(text.into_boxed_str());
    if READ.load(Ordering::Acquire) || CONFIGURED.set(text).is_err() {
        return Err(SourcesError::TooLate(path.to_owned()));
    }
    Ok(count)
}

fn is_comment(line: &str) -> bool {
    line.trim().is_empty() || line.starts_with('#')
}

/// One source: name, category, hosts, aliases, separated by tabs.
fn parse_line(line: &str) -> Option<Source<'_>> {
    let mut fields = line.split('\t');
    let name = fields.next()?.trim();
    let category = Category::parse(fields.next()?.trim())?;
    let hosts: Vec<&str> = fields.next()?.split_whitespace().collect();
    let aliases = fields
        .next()
        .unwrap_or("")
        .split('|')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    (!name.is_empty() && !hosts.is_empty() && fields.next().is_none()).then_some(Source {
        name,
        category,
        hosts,
        aliases,
    })
}

/// The sources of `text`, one a line; `#` starts a comment line. A line that does
/// not read is left out (a test holds the built-in file to every line read, and a
/// configured file is checked whole before it is used).
fn parse_sources(text: &'static str) -> Vec<Source<'static>> {
    text.lines()
        .filter(|line| !is_comment(line))
        .filter_map(parse_line)
        .collect()
}

static SOURCES: LazyLock<Vec<Source<'static>>> = LazyLock::new(|| {
    READ.store(true, Ordering::Release);
    parse_sources(CONFIGURED.get().copied().unwrap_or(SOURCES_FILE))
});

struct Index {
    /// Exact hosts and `android-app://` keys.
    hosts: HashMap<&'static str, &'static Source<'static>>,
    /// Brand labels from `brand.*` patterns.
    brands: HashMap<&'static str, &'static Source<'static>>,
    /// Lowercased names and aliases.
    tags: HashMap<String, &'static Source<'static>>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut index = Index {
        hosts: HashMap::new(),
        brands: HashMap::new(),
        tags: HashMap::new(),
    };
    for source in SOURCES.iter() {
        for host in &source.hosts {
            match host.strip_suffix(".*") {
                Some(brand) => index.brands.insert(brand, source),
                None => index.hosts.insert(host, source),
            };
        }
        index.tags.insert(source.name.to_lowercase(), source);
        for alias in &source.aliases {
            index.tags.insert((*alias).to_owned(), source);
        }
    }
    index
});

/// Looks a host up by itself and its parent domains, most specific first, so
/// `mail.google.com` is Gmail before `google.*` is Google.
fn find_host(host: &str) -> Option<&'static Source<'static>> {
    let index = &*INDEX;
    let mut suffix = host;
    loop {
        if let Some(source) = index.hosts.get(suffix) {
            return Some(source);
        }
        match suffix.split_once('.') {
            Some((_, parent)) => suffix = parent,
            None => break,
        }
    }
    let labels: Vec<&str> = host.split('.').collect();
    labels.iter().enumerate().find_map(|(i, label)| {
        let source = index.brands.get(label)?;
        is_public_suffix_like(&labels[i + 1..]).then_some(*source)
    })
}

/// `com`, `de`, `co.uk`, `com.tr`: what may follow a brand label. A cheap
/// stand-in for the public suffix list that still rejects `google.evil.io`.
fn is_public_suffix_like(labels: &[&str]) -> bool {
    let alpha = |l: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase())
    };
    match labels {
        [tld] => alpha(tld, 2..=6),
        [sld, cc] => {
            matches!(
                *sld,
                "co" | "com" | "net" | "org" | "ac" | "gov" | "edu" | "ne" | "or" | "go"
            ) && alpha(cc, 2..=2)
        }
        _ => false,
    }
}

fn find_android(package: &str) -> Option<&'static Source<'static>> {
    INDEX
        .hosts
        .get(format!("android-app://{package}").as_str())
        .copied()
}

/// A tag value may be a name, an alias, a host or a URL.
fn find_tag(raw: &str) -> Option<&'static Source<'static>> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return None;
    }
    if let Some(source) = INDEX.tags.get(&tag) {
        return Some(source);
    }
    if tag.contains("://") {
        let url = Url::parse(&tag).ok()?;
        let host = normalise_hostname(url.host_str()?);
        return if url.scheme() == "android-app" {
            find_android(&host)
        } else {
            find_host(&host)
        };
    }
    let host = tag.split('/').next().unwrap_or_default();
    host.contains('.')
        .then(|| find_host(&normalise_hostname(host)))
        .flatten()
}

/// Source name and, when known, its table entry.
fn resolve_source(
    tag: Option<&str>,
    referrer: Option<&Referrer>,
) -> (Option<String>, Option<&'static Source<'static>>) {
    if let Some(tag) = tag.filter(|t| !t.trim().is_empty()) {
        return match find_tag(tag) {
            Some(known) => (Some(known.name.to_owned()), Some(known)),
            // An unknown tag is kept as written (item 57: `betalist`).
            None => (Some(tag.to_owned()), None),
        };
    }
    let Some(referrer) = referrer else {
        return (None, None);
    };
    let known = if referrer.android {
        find_android(&referrer.host)
    } else {
        find_host(&referrer.host)
    };
    match known {
        Some(known) => (Some(known.name.to_owned()), Some(known)),
        None if referrer.android => (Some(format!("android-app://{}", referrer.host)), None),
        None => (Some(referrer.host.clone()), None),
    }
}

// ---------------------------------------------------------------------------
// Channel

static PAID_MEDIUM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:.*cp.*|ppc|retargeting|paid.*)$").expect("constant regex compiles")
});
static SHOPPING_CAMPAIGN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^a-df-z])shop|shopping").expect("constant regex compiles"));
static EMAIL_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"e[-_ ]?mail|newsletter").expect("constant regex compiles"));

/// GA4's default channel grouping, first match wins. Tags are compared
/// case-insensitively. "AI Assistants" takes the place where those sources
/// used to count as "Organic Search".
fn channel(
    source: Option<&str>,
    known: Option<&Source<'_>>,
    utm: &Utm,
    click_id: Option<&str>,
) -> &'static str {
    let lower = |v: &Option<String>| v.as_deref().map(str::to_lowercase).unwrap_or_default();
    let medium = lower(&utm.medium);
    let campaign = lower(&utm.campaign);
    let tag_source = lower(&utm.source);
    let source = source.map(str::to_lowercase).unwrap_or_default();
    let category = known.map(|k| k.category);
    let is = |c: Category| category == Some(c);

    let paid = !medium.is_empty() && PAID_MEDIUM.is_match(&medium);
    let shopping = is(Shopping) || (!campaign.is_empty() && SHOPPING_CAMPAIGN.is_match(&campaign));
    let name = known.map(|k| k.name);
    let ad_click = matches!(
        (name, click_id),
        (Some("Google"), Some("gclid")) | (Some("Bing"), Some("msclkid"))
    );

    if campaign.contains("cross-network") {
        "Cross-network"
    } else if shopping && paid {
        "Paid Shopping"
    } else if (is(Search) && paid) || ad_click {
        "Paid Search"
    } else if is(Social) && paid {
        "Paid Social"
    } else if is(Video) && paid {
        "Paid Video"
    } else if matches!(
        medium.as_str(),
        "display" | "banner" | "expandable" | "interstitial" | "cpm"
    ) {
        "Display"
    } else if paid {
        "Paid Other"
    } else if shopping {
        "Organic Shopping"
    } else if is(Social)
        || matches!(
            medium.as_str(),
            "social" | "social-network" | "social-media" | "sm" | "social network" | "social media"
        )
    {
        "Organic Social"
    } else if is(Video) || medium.contains("video") {
        "Organic Video"
    } else if is(Ai) {
        "AI Assistants"
    } else if is(Search) || medium == "organic" {
        "Organic Search"
    } else if is(Email) || EMAIL_TAG.is_match(&tag_source) || EMAIL_TAG.is_match(&medium) {
        "Email"
    } else if medium == "affiliate" {
        "Affiliates"
    } else if medium == "audio" {
        "Audio"
    } else if source == "sms" || medium == "sms" {
        "SMS"
    } else if medium.ends_with("push")
        || medium.contains("mobile")
        || medium.contains("notification")
        || source == "firebase"
    {
        "Mobile Push Notifications"
    } else if matches!(medium.as_str(), "referral" | "app" | "link") || !source.is_empty() {
        "Referral"
    } else {
        "Direct"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::page::minimise;

    fn run(url: &str, referrer: Option<&str>) -> (Page, Acquisition) {
        let page = minimise(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        let acq = acquisition(referrer, &page.hostname, &page);
        (page, acq)
    }

    /// Checks referrer, source and channel for a page URL (relative ones are
    /// resolved against `http://example.test`) and an optional referrer.
    fn check(
        url: &str,
        referrer: Option<&str>,
        want_referrer: Option<&str>,
        want_source: Option<&str>,
        want_channel: &str,
    ) -> (Page, Acquisition) {
        let url = if url.starts_with('?') || url.is_empty() {
            format!("http://example.test/{url}")
        } else {
            url.to_owned()
        };
        let (page, acq) = run(&url, referrer);
        let ctx = format!("url={url} referrer={referrer:?}");
        assert_eq!(acq.referrer.as_deref(), want_referrer, "referrer, {ctx}");
        assert_eq!(acq.source.as_deref(), want_source, "source, {ctx}");
        assert_eq!(acq.channel, want_channel, "channel, {ctx}");
        assert!(CHANNELS.contains(&acq.channel));
        (page, acq)
    }

    fn channel_of(url: &str, referrer: Option<&str>) -> &'static str {
        let url = format!("http://example.test/{url}");
        run(&url, referrer).1.channel
    }

    // --- section E ------------------------------------------------------

    #[test]
    fn item_45_facebook() {
        let (page, _) = check(
            "",
            Some("https://facebook.com"),
            Some("facebook.com"),
            Some("Facebook"),
            "Organic Social",
        );
        assert_eq!(page.click_id, None);
    }

    #[test]
    fn item_46_trailing_slash_removed() {
        check(
            "",
            Some("https://facebook.com/page/"),
            Some("facebook.com/page"),
            Some("Facebook"),
            "Organic Social",
        );
    }

    #[test]
    fn item_47_internal_referrer() {
        check("", Some("https://example.test"), None, None, "Direct");
        check(
            "",
            Some("https://www.example.test/other"),
            None,
            None,
            "Direct",
        );
        check(
            "http://www.example.test/",
            Some("https://EXAMPLE.test/x"),
            None,
            None,
            "Direct",
        );
    }

    #[test]
    fn item_48_localhost() {
        for r in [
            "http://localhost:4000/",
            "http://app.localhost/",
            "http://127.0.0.1:8080/x",
            "http://[::1]/",
            "http://0.0.0.0/",
        ] {
            check("", Some(r), None, None, "Direct");
        }
    }

    #[test]
    fn item_49_subdomain_is_external() {
        check(
            "",
            Some("https://blog.example.test"),
            Some("blog.example.test"),
            Some("blog.example.test"),
            "Referral",
        );
    }

    #[test]
    fn item_50_query_fragment_www_stripped() {
        check(
            "",
            Some("https://www.indiehackers.com/page?query=param#hash"),
            Some("indiehackers.com/page"),
            Some("indiehackers.com"),
            "Referral",
        );
    }

    #[test]
    fn item_51_unknown_referrer() {
        check(
            "",
            Some("https://www.indiehackers.com/landing-page-feedback"),
            Some("indiehackers.com/landing-page-feedback"),
            Some("indiehackers.com"),
            "Referral",
        );
    }

    #[test]
    fn item_52_other_schemes() {
        for r in [
            "ftp://wat",
            "file:///etc/passwd",
            "mailto:a@b.test",
            "javascript:alert(1)",
            "chrome://newtab",
        ] {
            check("", Some(r), None, None, "Direct");
        }
    }

    #[test]
    fn item_53_android_app() {
        check(
            "",
            Some("android-app://some.android.app"),
            Some("android-app://some.android.app"),
            Some("android-app://some.android.app"),
            "Referral",
        );
    }

    #[test]
    fn item_54_android_reddit() {
        check(
            "",
            Some("android-app://com.reddit.frontpage"),
            Some("android-app://com.reddit.frontpage"),
            Some("Reddit"),
            "Organic Social",
        );
        check(
            "",
            Some("android-app://com.google.android.gm/"),
            Some("android-app://com.google.android.gm"),
            Some("Gmail"),
            "Email",
        );
    }

    #[test]
    fn item_55_malformed_referrer() {
        for r in [
            "https:://twitter.com",
            "not a url",
            "",
            "   ",
            "https://",
            "/relative/path",
        ] {
            check("", Some(r), None, None, "Direct");
        }
    }

    #[test]
    fn item_56_long_referrer_truncated() {
        let long = format!("https://example.org/{}", "a".repeat(3000));
        let (_, acq) = run("http://example.test/", Some(&long));
        assert_eq!(acq.source.as_deref(), Some("example.org"));
        let referrer = acq.referrer.unwrap_or_default();
        assert!(referrer.starts_with("example.org/aaa"));
        assert!(referrer.chars().count() <= MAX_REFERRER_CHARS);
        // Multi-byte characters are cut on a character boundary.
        let long = format!("https://example.org/{}", "日".repeat(3000));
        let (_, acq) = run("http://example.test/", Some(&long));
        assert!(
            acq.referrer
                .is_some_and(|r| r.chars().count() <= MAX_REFERRER_CHARS)
        );
    }

    #[test]
    fn item_57_utm_source_beats_referrer() {
        let (page, acq) = check(
            "?utm_source=betalist",
            Some("https://betalist.com/startups/x"),
            Some("betalist.com/startups/x"),
            Some("betalist"),
            "Referral",
        );
        assert_eq!(page.utm.source.as_deref(), Some("betalist"));
        assert_eq!(acq.utm_medium, None);
    }

    #[test]
    fn item_58_ref_param() {
        let (page, _) = check("?ref=betalist", None, None, Some("betalist"), "Referral");
        assert_eq!(page.utm.source.as_deref(), Some("betalist"));
    }

    #[test]
    fn item_59_source_param() {
        let (page, _) = check("?source=betalist", None, None, Some("betalist"), "Referral");
        assert_eq!(page.utm.source.as_deref(), Some("betalist"));
    }

    #[test]
    fn item_60_canonical_capitalisation() {
        let (page, _) = check(
            "?utm_source=facebook",
            None,
            None,
            Some("Facebook"),
            "Organic Social",
        );
        assert_eq!(page.utm.source.as_deref(), Some("facebook"));
    }

    #[test]
    fn item_61_shorthands() {
        for (tag, want) in [
            ("utm_source=ig", "Instagram"),
            ("utm_source=fb", "Facebook"),
            ("utm_source=fbad", "Facebook"),
            ("utm_source=fb-ads", "Facebook"),
            ("utm_source=facebook-ads", "Facebook"),
            ("utm_source=yt", "Youtube"),
            ("utm_source=google_ads", "Google"),
            ("utm_source=Adwords", "Google"),
            ("source=Google-ads", "Google"),
        ] {
            let (page, acq) = run(&format!("http://example.test/?{tag}"), None);
            assert_eq!(acq.source.as_deref(), Some(want), "{tag}");
            let raw = tag.split_once('=').map(|(_, v)| v);
            assert_eq!(page.utm.source.as_deref(), raw, "raw value kept for {tag}");
        }
    }

    #[test]
    fn item_62_known_hosts() {
        for (host, want) in [
            ("en.wikipedia.org", "Wikipedia"),
            ("ntp.msn.com", "Bing"),
            ("search.brave.com", "Brave"),
            ("yandex.com.tr", "Yandex"),
            ("ya.ru", "Yandex"),
            ("discord.com", "Discord"),
            ("discordapp.com", "Discord"),
            ("canary.discord.com", "Discord"),
            ("t.me", "Telegram"),
            ("baidu.com", "Baidu"),
            ("news.ycombinator.com", "Hacker News"),
            ("mail.google.com", "Gmail"),
            ("github.com", "GitHub"),
        ] {
            let (_, acq) = run("http://example.test/", Some(&format!("https://{host}/")));
            assert_eq!(acq.source.as_deref(), Some(want), "{host}");
        }
    }

    #[test]
    fn item_63_all_utm_fields() {
        let (page, acq) = check(
            "?utm_medium=ads&utm_source=instagram&utm_campaign=video_story",
            None,
            None,
            Some("Instagram"),
            "Organic Social",
        );
        assert_eq!(page.utm.medium.as_deref(), Some("ads"));
        assert_eq!(page.utm.campaign.as_deref(), Some("video_story"));
        assert_eq!(acq.utm_medium.as_deref(), Some("ads"));
    }

    // --- section F ------------------------------------------------------

    #[test]
    fn item_64_direct_and_referral() {
        check("", None, None, None, "Direct");
        check(
            "",
            Some("https://othersite.test"),
            Some("othersite.test"),
            Some("othersite.test"),
            "Referral",
        );
    }

    #[test]
    fn item_65_gclid() {
        let (page, acq) = check(
            "?gclid=abc",
            Some("https://google.com"),
            Some("google.com"),
            Some("Google"),
            "Paid Search",
        );
        assert_eq!(acq.utm_medium.as_deref(), Some("(gclid)"));
        assert_eq!(page.click_id, Some("gclid"));
        assert_eq!(page.utm.medium, None, "the page itself is not rewritten");

        let (page, acq) = check(
            "?gclid=abc",
            Some("https://duckduckgo.com"),
            Some("duckduckgo.com"),
            Some("DuckDuckGo"),
            "Organic Search",
        );
        assert_eq!(acq.utm_medium, None);
        assert_eq!(page.click_id, Some("gclid"));
    }

    #[test]
    fn item_66_gclid_with_medium_and_msclkid() {
        let (_, acq) = check(
            "?gclid=abc&utm_medium=paidads",
            Some("https://www.google.com/"),
            Some("google.com"),
            Some("Google"),
            "Paid Search",
        );
        assert_eq!(acq.utm_medium.as_deref(), Some("paidads"));
        let (page, acq) = check(
            "?msclkid=abc",
            Some("https://www.bing.com/search"),
            Some("bing.com/search"),
            Some("Bing"),
            "Paid Search",
        );
        assert_eq!(acq.utm_medium.as_deref(), Some("(msclkid)"));
        assert_eq!(page.click_id, Some("msclkid"));
        // A click id from the other network does not make it paid.
        let (_, acq) = check(
            "?msclkid=abc",
            Some("https://google.de"),
            Some("google.de"),
            Some("Google"),
            "Organic Search",
        );
        assert_eq!(acq.utm_medium, None);
    }

    #[test]
    fn item_67_channel_table() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("?utm_medium=banner", None, "Display"),
            ("?utm_medium=display&gclid=abc", None, "Display"),
            ("?utm_medium=cpc", None, "Paid Other"),
            ("?utm_source=tiktok&utm_medium=paid", None, "Paid Social"),
            ("?utm_source=youtube&utm_medium=paid", None, "Paid Video"),
            (
                "?utm_campaign=shopping&utm_medium=paid",
                None,
                "Paid Shopping",
            ),
            ("?utm_campaign=shop", None, "Organic Shopping"),
            (
                "",
                Some("https://www.walmart.com/ip/123"),
                "Organic Shopping",
            ),
            ("?utm_medium=social", None, "Organic Social"),
            ("?utm_medium=video", None, "Organic Video"),
            ("", Some("https://duckduckgo.com/"), "Organic Search"),
            ("?utm_source=email", None, "Email"),
            ("?utm_medium=email", None, "Email"),
            ("?utm_source=Newsletter-UK", None, "Email"),
            ("?utm_medium=affiliate", None, "Affiliates"),
            ("?utm_medium=audio", None, "Audio"),
            ("?utm_source=sms", None, "SMS"),
            ("?utm_medium=sms", None, "SMS"),
            ("?utm_medium=app-push", None, "Mobile Push Notifications"),
            (
                "?utm_medium=example-mobile",
                None,
                "Mobile Push Notifications",
            ),
            ("?utm_medium=referral", None, "Referral"),
            ("?utm_campaign=cross-network", None, "Cross-network"),
            ("", Some("https://chatgpt.com/"), "AI Assistants"),
            ("", Some("https://chat.openai.com/c/x"), "AI Assistants"),
            ("", Some("https://claude.ai/chat/x"), "AI Assistants"),
            (
                "",
                Some("https://www.perplexity.ai/search"),
                "AI Assistants",
            ),
            ("", Some("https://gemini.google.com/app"), "AI Assistants"),
            ("", Some("https://copilot.microsoft.com/"), "AI Assistants"),
        ];
        for (url, referrer, want) in cases {
            assert_eq!(
                channel_of(url, *referrer),
                *want,
                "url={url} referrer={referrer:?}"
            );
        }
    }

    #[test]
    fn channel_tags_are_case_insensitive() {
        assert_eq!(channel_of("?utm_medium=CPC", None), "Paid Other");
        assert_eq!(
            channel_of("?utm_source=Google&utm_medium=PPC", None),
            "Paid Search"
        );
        assert_eq!(channel_of("?utm_medium=Organic", None), "Organic Search");
    }

    // --- table and helpers ----------------------------------------------

    #[test]
    fn canonical_source_forms() {
        for raw in [
            "facebook",
            "fb",
            "Facebook",
            " FB ",
            "facebook.com",
            "m.facebook.com",
            "www.facebook.com",
            "https://l.facebook.com/l.php?u=x",
        ] {
            assert_eq!(canonical_source(raw), Some("Facebook"), "{raw}");
        }
        assert_eq!(canonical_source("google.co.uk"), Some("Google"));
        assert_eq!(canonical_source("www.google.com.au"), Some("Google"));
        assert_eq!(canonical_source("uk.search.yahoo.com"), Some("Yahoo!"));
        assert_eq!(canonical_source("mail.yahoo.com"), Some("Yahoo! Mail"));
        assert_eq!(canonical_source("amazon.de"), Some("Amazon"));
        assert_eq!(canonical_source("x.com"), Some("Twitter"));
        assert_eq!(canonical_source("lnkd.in"), Some("LinkedIn"));
        assert_eq!(canonical_source("bsky.app"), Some("Bluesky"));
        assert_eq!(
            canonical_source("android-app://com.reddit.frontpage"),
            Some("Reddit")
        );
        for raw in [
            "",
            "betalist",
            "google.evil.io",
            "evilgoogle.com",
            "notfacebook.com",
            "com",
            "...",
            "https://",
        ] {
            assert_eq!(canonical_source(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn every_line_of_the_sources_file_is_read() {
        let lines = SOURCES_FILE
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(SOURCES.len(), lines);
        assert!(lines > 50);
        // A line with a field too many, an unknown category or no host is left out.
        let bad = "A\tsearch\ta.example\t\textra\nB\tnews\tb.example\t\nC\tsearch\t\t\n";
        assert!(parse_sources(bad).is_empty());
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = HashMap::new();
        for source in SOURCES.iter() {
            for key in source.hosts.iter().chain(&source.aliases) {
                assert_eq!(*key, key.to_lowercase(), "keys are lowercase");
                assert!(
                    seen.insert(*key, source.name).is_none(),
                    "{key} listed twice"
                );
            }
            let name = source.name.to_lowercase();
            assert!(
                seen.insert(Box::leak(name.into_boxed_str()), source.name)
                    .is_none(),
                "{} clashes",
                source.name
            );
        }
    }

    #[test]
    fn referrer_path_is_decoded_and_redacted() {
        check(
            "",
            Some("https://crm.test/users/jane%40example.com/12345678/"),
            Some("crm.test/users/:email/:num"),
            Some("crm.test"),
            "Referral",
        );
        check(
            "",
            Some("https://user:secret@other.test:8443/a"),
            Some("other.test/a"),
            Some("other.test"),
            "Referral",
        );
    }

    #[test]
    fn never_panics_on_odd_referrers() {
        let page = Page {
            hostname: "(none)".into(),
            ..Default::default()
        };
        for r in [
            "http://",
            "https://%",
            "android-app://",
            "http://[",
            "https://日本.jp/ü?x#y",
            "http://a..b/",
            "https://www./",
            "\u{0}",
            "https://🦀.rs/",
        ] {
            let _ = acquisition(Some(r), "(none)", &page);
            let _ = acquisition(Some(r), "", &page);
        }
    }
}
