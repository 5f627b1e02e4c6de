//! Page URL minimisation.
//!
//! A tracked page URL is reduced to what analytics needs and nothing more:
//! a normalised hostname, a percent-decoded pathname (plus the fragment in
//! hash-routing mode), the five UTM tags and a flag saying which ad click id
//! was present. Every other query parameter is dropped at the door, and the
//! pieces that are kept go through [`redact`] so e-mail addresses, long
//! numbers and secret-looking tokens never reach storage.
//!
//! Behaviour follows Plausible's ingestion (reference items 12–16, 19–27,
//! 58–59, 63).

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use regex::{Captures, NoExpand, Regex, Replacer};
use url::Url;

/// The minimised form of a page URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// Lowercased, without a leading `www.`; `(none)` when the URL has no host
    /// (`file:`, `about:`, relative `/no/hostname`). For
    /// `chrome-extension://<id>/x` this is the extension id.
    pub hostname: String,
    /// Percent-decoded (lossy UTF-8), trailing whitespace trimmed, `/` when
    /// empty, redacted. In hash mode the fragment is appended (`/#page-a`).
    pub pathname: String,
    /// UTM tags; `source` falls back to the `source` and `ref` parameters.
    pub utm: Utm,
    /// `"gclid"` or `"msclkid"` when such a parameter was present. The value
    /// itself is a cross-site identifier and is never kept.
    pub click_id: Option<&'static str>,
}

/// UTM tags, percent-decoded, trimmed, redacted and capped at
/// [`MAX_UTM_CHARS`] characters. Empty values are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub content: Option<String>,
    pub term: Option<String>,
}

/// Why a page URL was refused. `Display` gives Plausible's error text for the
/// `url` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// Longer than [`MAX_URL_BYTES`].
    TooLong,
    /// `data:`, `javascript:`, `vbscript:` or `blob:`.
    SchemeNotAllowed,
    /// Empty or not parseable as a URL.
    Invalid,
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            // Plausible reports an over-long URL as invalid (item 12).
            PageError::TooLong | PageError::Invalid => "must be a valid url",
            PageError::SchemeNotAllowed => "scheme is not allowed",
        })
    }
}

impl std::error::Error for PageError {}

/// Longest accepted page URL, in bytes.
pub const MAX_URL_BYTES: usize = 2000;
/// Longest kept UTM value, in characters.
pub const MAX_UTM_CHARS: usize = 200;
/// Hostname stored for URLs without a host.
pub const NO_HOST: &str = "(none)";

/// Schemes that carry content or code rather than locate a page. Everything
/// else is accepted, because apps and extensions use their own schemes.
const BLOCKED_SCHEMES: [&str; 4] = ["data", "javascript", "vbscript", "blob"];

/// Reduces a page URL to a [`Page`]. `hash_mode` keeps the fragment as part
/// of the pathname, for single-page apps that route on `#`.
///
/// Relative URLs (`/no/hostname`) are accepted with hostname `(none)`; the
/// caller decides whether a host-less URL is acceptable without a domain.
///
/// # Errors
///
/// [`PageError::TooLong`] over [`MAX_URL_BYTES`], [`PageError::SchemeNotAllowed`]
/// for content schemes (`data:`, `javascript:`, …), [`PageError::Invalid`] for
/// empty or unparseable input.
pub fn minimise(raw: &str, hash_mode: bool) -> Result<Page, PageError> {
    if raw.len() > MAX_URL_BYTES {
        return Err(PageError::TooLong);
    }
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(PageError::Invalid);
    }
    let url = match Url::parse(raw) {
        Ok(url) => url,
        // A `file:` base gives a host-less URL while keeping `//host/x` hosts.
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            RELATIVE_BASE.join(raw).map_err(|_| PageError::Invalid)?
        }
        Err(_) => return Err(PageError::Invalid),
    };
    if BLOCKED_SCHEMES.contains(&url.scheme()) {
        return Err(PageError::SchemeNotAllowed);
    }

    let hostname = url
        .host_str()
        .map(normalise_hostname)
        .filter(|h| !h.is_empty())
        .map_or_else(|| NO_HOST.to_owned(), Cow::into_owned);

    Ok(Page {
        hostname,
        pathname: pathname(&url, hash_mode),
        utm: Utm::default(),
        click_id: None,
    }
    .with_query(&url))
}

static RELATIVE_BASE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("file:///").expect("constant base URL parses"));

impl Page {
    /// Keeps the UTM tags and the click-id flag; every other parameter is
    /// dropped without being decoded further.
    fn with_query(mut self, url: &Url) -> Self {
        let (mut source_param, mut ref_param) = (None, None);
        let (mut gclid, mut msclkid) = (false, false);
        for (key, value) in url.query_pairs() {
            let slot = match key.as_ref() {
                "utm_source" => &mut self.utm.source,
                "utm_medium" => &mut self.utm.medium,
                "utm_campaign" => &mut self.utm.campaign,
                "utm_content" => &mut self.utm.content,
                "utm_term" => &mut self.utm.term,
                "source" => &mut source_param,
                "ref" => &mut ref_param,
                "gclid" => {
                    gclid = true;
                    continue;
                }
                "msclkid" => {
                    msclkid = true;
                    continue;
                }
                _ => continue,
            };
            // First non-empty occurrence wins.
            if slot.is_none() {
                *slot = clean_utm(&value);
            }
        }
        // Plausible's precedence: utm_source, then source, then ref (items 58–59).
        if self.utm.source.is_none() {
            self.utm.source = source_param.or(ref_param);
        }
        self.click_id = if gclid {
            Some("gclid")
        } else if msclkid {
            Some("msclkid")
        } else {
            None
        };
        self
    }
}

fn clean_utm(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    // Redact before capping so a cut cannot hide an address from the pattern.
    let redacted = redact(value);
    let capped = match redacted.char_indices().nth(MAX_UTM_CHARS) {
        Some((at, _)) => &redacted[..at],
        None => &redacted,
    };
    Some(capped.trim_end().to_owned())
}

fn pathname(url: &Url, hash_mode: bool) -> String {
    let mut path = decode(url.path()).trim_end().to_owned();
    if path.is_empty() {
        path.push('/');
    }
    if hash_mode && let Some(fragment) = url.fragment() {
        // A query inside a hash route (`#/reset?token=…`) is dropped like the
        // real query string.
        let route = fragment.split('?').next().unwrap_or_default();
        let route = decode(route);
        let route = route.trim_end();
        if !route.is_empty() {
            path.push('#');
            path.push_str(route);
        }
    }
    redact(&path).into_owned()
}

fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

/// Lowercases a hostname (or a `domain` field) and strips a leading `www.`
/// and a trailing dot, so `WWW.Example.test.` and `example.test` compare equal.
#[must_use]
pub fn normalise_hostname(host: &str) -> Cow<'_, str> {
    let host = host.trim().trim_end_matches('.');
    // Hosts arrive lower-case nearly always (URL parsing folds them): no copy then.
    if host.bytes().any(|b| b.is_ascii_uppercase()) || !host.is_ascii() {
        let host = host.to_lowercase();
        return match host.strip_prefix("www.") {
            Some(rest) => Cow::Owned(rest.to_owned()),
            None => Cow::Owned(host),
        };
    }
    Cow::Borrowed(host.strip_prefix("www.").unwrap_or(host))
}

// ---------------------------------------------------------------------------
// Redaction

// The local part takes every character RFC 5322 allows there, not only the usual ones.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\w.%+'!#$&*=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+").expect("constant regex compiles")
});
// The whole `@`-bearing chunk around an address is replaced, so that
// `a@b.c@d.e` cannot leave a second address behind for a later pass.
static AT_CHUNK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\w.%+'!#$&*=?^`{|}~@-]*@[\w.%+'@-]*").expect("constant regex compiles")
});
// Dots, dashes or underscores between decimal or hex octets: `203-0-113-9` and
// `0xcb.0x0.0x71.0x9` are addresses too.
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?:0[xX][[:xdigit:]]{1,2}|\d{1,3})[._-]){3}(?:0[xX][[:xdigit:]]{1,2}|\d{1,3})")
        .expect("constant regex compiles")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
        .expect("constant regex compiles")
});
// Unicode digits too: a phone number is personal in any script.
static DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{6,}").expect("constant regex compiles"));

const PLACEHOLDERS: [&str; 4] = ["email", "token", "num", "ip"];

/// Replaces personal or secret-looking substrings:
///
/// - e-mail addresses → `:email`;
/// - UUIDs, runs of ≥ 16 hex characters (with letters and digits), and runs of
///   ≥ 20 `[A-Za-z0-9_-]` characters whose letter+digit words add up to ≥ 16
///   characters → `:token`;
/// - IP addresses (IPv4 quads joined by `.`, `-` or `_`; IPv6 in any spelling) → `:ip`;
/// - runs of 6 or more digits → `:num` (years and short ids stay).
///
/// `%40` counts as `@`: an address encoded once more than the URL decoding undid is
/// still an address.
/// Patterns never cross `/`, so a path is redacted segment by segment.
/// Word-separated slugs (`top-10-rust-crates-in-2024`) are left alone because
/// their letter+digit words are short. Linear time; never panics.
#[must_use]
pub fn redact(s: &str) -> Cow<'_, str> {
    // Fast path, for the many short plain words (`pageview`, `Google`, `/pricing`):
    // every pattern below needs a digit, `@`, `:` or `%`, except a UUID of letters
    // only, which is 36 characters long.
    if s.len() < 36
        && !s
            .chars()
            .any(|c| c.is_numeric() || matches!(c, '@' | ':' | '%'))
    {
        return Cow::Borrowed(s);
    }
    let email = |caps: &Captures<'_>| {
        let chunk = caps.get(0).map_or("", |m| m.as_str());
        if EMAIL.is_match(chunk) {
            ":email"
        } else {
            chunk
        }
        .to_owned()
    };
    let s = if s.contains("%40") {
        Cow::Owned(s.replace("%40", "@"))
    } else {
        Cow::Borrowed(s)
    };
    let s = replace_regex(s, &AT_CHUNK, email);
    let s = replace_ipv6(s);
    let s = replace_regex(s, &IPV4, NoExpand(":ip"));
    let s = replace_regex(s, &UUID, NoExpand(":token"));
    let s = replace_token_runs(s);
    replace_regex(s, &DIGITS, NoExpand(":num"))
}

fn replace_regex<'a>(s: Cow<'a, str>, re: &Regex, with: impl Replacer) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => re.replace_all(b, with),
        Cow::Owned(o) => {
            let replaced = match re.replace_all(&o, with) {
                Cow::Owned(n) => Some(n),
                Cow::Borrowed(_) => None,
            };
            Cow::Owned(replaced.unwrap_or(o))
        }
    }
}

/// Replaces IPv6 addresses: maximal runs of hex digits, `:` and `.` (an IPv4 tail)
/// that the standard library parses as an address, with or without separators at
/// their ends (`…/2001:db8::1.` ends a sentence; `2001:218::` keeps its `::`).
fn replace_ipv6(s: Cow<'_, str>) -> Cow<'_, str> {
    // `-` too: `2001-db8--1` is how some DNS names and URLs spell an IPv6 address.
    let is_ip_byte = |b: u8| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'-');
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_ip_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ip_byte(bytes[i]) {
            i += 1;
        }
        let run = &s[start..i];
        // Too few digits for a visitor's address: `::`, or `:::e` before a
        // placeholder's `mail` (redacting it again would not be idempotent).
        if run.matches([':', '-']).count() < 2
            || run.bytes().filter(u8::is_ascii_hexdigit).count() < 3
        {
            continue;
        }
        // A `-` is either the dashed spelling's `:` or a separator between words.
        let found = holds_ipv6(run)
            || (run.contains('-')
                && (holds_ipv6(&run.replace('-', ":")) || run.split('-').any(holds_ipv6)));
        if found {
            out.push_str(&s[copied..start]);
            out.push_str(":ip");
            copied = i;
        }
    }
    if out.is_empty() {
        return s;
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// Whether a run of hex digits, `:` and `.` holds an IPv6 address: the whole run, or a
/// part of it that starts and ends at a `:` or within four characters of the run's
/// ends (`a2001:db8::1`, `2001:db8::1:deadbeef…` where a `-` joined it to a token).
fn holds_ipv6(run: &str) -> bool {
    // The longest spelling: eight groups of four and seven colons, or an IPv4 tail.
    const LONGEST: usize = 45;
    let parses = |t: &str| t.parse::<std::net::Ipv6Addr>().is_ok();
    let n = run.len();
    let colons = run.match_indices(':').map(|(i, _)| i);
    let mut starts: Vec<usize> = (0..=n.min(4)).collect();
    starts.extend(colons.clone().map(|i| i + 1));
    let mut ends: Vec<usize> = colons.collect();
    ends.extend(n.saturating_sub(4)..=n);
    ends.sort_unstable();
    // Only ends within `LONGEST` of each start: linear in the run, however long.
    // Every byte of the run is ASCII, so every cut is a char boundary.
    starts.iter().any(|&a| {
        let first = ends.partition_point(|&b| b <= a);
        ends[first..]
            .iter()
            .take_while(|&&b| b - a <= LONGEST)
            .any(|&b| parses(&run[a..b]))
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Finds maximal `[A-Za-z0-9_-]` runs and replaces token-like ones (or, failing
/// that, their hex sub-runs). Works on bytes: the run bytes are ASCII, which
/// never occur inside a multi-byte UTF-8 sequence, so every cut is a char
/// boundary.
fn replace_token_runs(s: Cow<'_, str>) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0; // bytes of `s` already accounted for in `out`
    let mut i = 0;
    while i < bytes.len() {
        if !is_token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let mut start = i;
        let mut end = i;
        while end < bytes.len() && is_token_byte(bytes[end]) {
            end += 1;
        }
        i = end;
        // Skip a placeholder written by an earlier pass (`:token`), so it is
        // not swallowed into a new run and redacted twice.
        if start > 0 && bytes[start - 1] == b':' {
            let run = &s[start..end];
            if let Some(p) = PLACEHOLDERS.iter().find(|p| run.starts_with(**p)) {
                start += p.len();
            }
        }
        // Hex ids first, keeping the words around them (`commit-:token`).
        let copied_before = copied;
        let mut j = start;
        while j < end {
            if !bytes[j].is_ascii_alphanumeric() {
                j += 1;
                continue;
            }
            let word_start = j;
            while j < end && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
            if is_hex_token(&s[word_start..j]) {
                out.push_str(&s[copied..word_start]);
                out.push_str(":token");
                copied = j;
            }
        }
        if copied == copied_before && is_mixed_token(&s[start..end]) {
            out.push_str(&s[copied..start]);
            out.push_str(":token");
            copied = end;
        }
    }
    if out.is_empty() {
        return s;
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

fn has_letter_and_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_alphabetic()) && s.bytes().any(|b| b.is_ascii_digit())
}

fn is_mixed_token(run: &str) -> bool {
    if run.len() < 20 || !has_letter_and_digit(run) {
        return false;
    }
    let mixed: usize = run
        .split(['-', '_'])
        .filter(|w| has_letter_and_digit(w))
        .map(str::len)
        .sum();
    mixed >= 16
}

fn is_hex_token(word: &str) -> bool {
    word.len() >= 16 && word.bytes().all(|b| b.is_ascii_hexdigit()) && has_letter_and_digit(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimises `url` and checks hostname and pathname.
    fn check(url: &str, hash_mode: bool, hostname: &str, pathname: &str) -> Page {
        let page = minimise(url, hash_mode).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(page.hostname, hostname, "hostname of {url}");
        assert_eq!(page.pathname, pathname, "pathname of {url}");
        page
    }

    fn utm(url: &str) -> Utm {
        check_ok(url).utm
    }

    fn check_ok(url: &str) -> Page {
        minimise(url, false).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    // --- section A items that belong to URL handling -------------------

    #[test]
    fn item_01_plain_url() {
        check("http://example.test/", false, "example.test", "/");
    }

    #[test]
    fn item_12_too_long() {
        let url = format!("http://example.test/{}", "a".repeat(5000));
        assert_eq!(minimise(&url, false), Err(PageError::TooLong));
        assert_eq!(PageError::TooLong.to_string(), "must be a valid url");
        let exact = format!("http://example.test/{}", "a".repeat(MAX_URL_BYTES - 20));
        assert_eq!(exact.len(), MAX_URL_BYTES);
        assert!(minimise(&exact, false).is_ok());
    }

    #[test]
    fn item_13_data_scheme() {
        for url in [
            "data:text/html,<h1>hi</h1>",
            "javascript:alert(1)",
            " JavaScript:x",
            "blob:https://example.test/x",
        ] {
            assert_eq!(
                minimise(url, false),
                Err(PageError::SchemeNotAllowed),
                "{url}"
            );
        }
        assert_eq!(
            PageError::SchemeNotAllowed.to_string(),
            "scheme is not allowed"
        );
    }

    #[test]
    fn item_14_file_url() {
        check(
            "file:///android_asset/www/index.html",
            false,
            "(none)",
            "/android_asset/www/index.html",
        );
    }

    #[test]
    fn item_15_chrome_extension() {
        check(
            "chrome-extension://abcdefghijklmnop/popup.html",
            false,
            "abcdefghijklmnop",
            "/popup.html",
        );
        check(
            "moz-extension://ext-id/page.html",
            false,
            "ext-id",
            "/page.html",
        );
    }

    #[test]
    fn item_16_relative_url() {
        check("/no/hostname", false, "(none)", "/no/hostname");
        // A protocol-relative URL still names its host.
        check("//example.test/x", false, "example.test", "/x");
    }

    #[test]
    fn item_07_hostless_url_is_accepted() {
        // Rejecting it without a domain is the caller's decision.
        check("about:config", false, "(none)", "config");
    }

    #[test]
    fn invalid_urls() {
        for url in [
            "",
            "   ",
            "http://",
            "https:://twitter.com",
            "http://exa mple.test/",
            "http://[::1/",
        ] {
            assert_eq!(minimise(url, false), Err(PageError::Invalid), "{url:?}");
        }
        assert_eq!(PageError::Invalid.to_string(), "must be a valid url");
    }

    // --- section B ------------------------------------------------------

    #[test]
    fn item_19_www_stripped() {
        check("http://www.example.test/", false, "example.test", "/");
        check("HTTP://WWW.Example.TEST./", false, "example.test", "/");
        check("http://www2.example.test/", false, "www2.example.test", "/");
    }

    #[test]
    fn item_20_domain_normalised() {
        assert_eq!(normalise_hostname("www.example.test"), "example.test");
        assert_eq!(normalise_hostname(" WWW.Example.Test. "), "example.test");
        assert_eq!(normalise_hostname("example.test"), "example.test");
        assert_eq!(normalise_hostname("WWW.ÉTÉ.test"), "été.test");
        // The usual, already normal host is not copied.
        assert!(matches!(
            normalise_hostname("www.a.test."),
            Cow::Borrowed("a.test")
        ));
    }

    #[test]
    fn item_21_no_path() {
        check("http://www.example.test", false, "example.test", "/");
    }

    #[test]
    fn item_22_trailing_space() {
        check(
            "http://www.example.test/path ",
            false,
            "example.test",
            "/path",
        );
        check(
            "http://www.example.test/path%20%20",
            false,
            "example.test",
            "/path",
        );
    }

    #[test]
    fn item_23_percent_encoded_utf8_path() {
        check(
            "http://www.example.test/opportunity/category/%D8%AC%D9%88%D8%A7%D8%A6%D8%B2-%D9%88%D9%85%D8%B3%D8%A7%D8%A8%D9%82%D8%A7%D8%AA",
            false,
            "example.test",
            "/opportunity/category/جوائز-ومسابقات",
        );
        // Invalid UTF-8 is replaced, not rejected.
        check(
            "http://example.test/a%FFb",
            false,
            "example.test",
            "/a\u{FFFD}b",
        );
    }

    #[test]
    fn item_24_hash_mode() {
        check(
            "http://www.example.test/#page-a",
            true,
            "example.test",
            "/#page-a",
        );
        check(
            "http://www.example.test/#page-a",
            false,
            "example.test",
            "/",
        );
        check(
            "http://example.test/app#/users/settings",
            true,
            "example.test",
            "/app#/users/settings",
        );
        // Hash-route queries are dropped like real ones; fragments are redacted.
        check(
            "http://example.test/#/reset?token=abc",
            true,
            "example.test",
            "/#/reset",
        );
        check(
            "http://example.test/#/order/12345678",
            true,
            "example.test",
            "/#/order/:num",
        );
        check("http://example.test/#", true, "example.test", "/");
    }

    #[test]
    fn item_25_fragment_dropped_without_hash_mode() {
        check(
            "http://example.test/pictures/index.html#foo",
            false,
            "example.test",
            "/pictures/index.html",
        );
    }

    #[test]
    fn item_26_utm_percent_decoded() {
        assert_eq!(
            utm("http://example.test/?utm_source=%25balle%25")
                .source
                .as_deref(),
            Some("%balle%")
        );
        assert_eq!(
            utm("http://example.test/?utm_campaign=spring+sale")
                .campaign
                .as_deref(),
            Some("spring sale")
        );
    }

    #[test]
    fn item_27_utm_quotes_verbatim() {
        let u = utm("http://example.test/?utm_source=Something%20%22quoted%22");
        assert_eq!(u.source.as_deref(), Some("Something \"quoted\""));
    }

    // --- section E/F items that depend on the page URL ------------------

    #[test]
    fn item_58_ref_param() {
        assert_eq!(
            utm("http://example.test/?ref=betalist").source.as_deref(),
            Some("betalist")
        );
    }

    #[test]
    fn item_59_source_param() {
        assert_eq!(
            utm("http://example.test/?source=betalist")
                .source
                .as_deref(),
            Some("betalist")
        );
        // utm_source beats source, which beats ref.
        let u = utm("http://example.test/?ref=c&source=b&utm_source=a");
        assert_eq!(u.source.as_deref(), Some("a"));
        assert_eq!(
            utm("http://example.test/?ref=c&source=b").source.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn item_63_all_utm_fields() {
        let u = utm(
            "http://example.test/?utm_medium=ads&utm_source=instagram&utm_campaign=video_story&utm_content=a&utm_term=b",
        );
        assert_eq!(
            u,
            Utm {
                source: Some("instagram".into()),
                medium: Some("ads".into()),
                campaign: Some("video_story".into()),
                content: Some("a".into()),
                term: Some("b".into()),
            }
        );
    }

    #[test]
    fn item_65_click_id_flag_only() {
        let page = check_ok("http://example.test/?gclid=Cj0KCQjw&msclkid=x&fbclid=y&email=a@b.c");
        assert_eq!(page.click_id, Some("gclid"));
        assert_eq!(
            check_ok("http://example.test/?msclkid=abc").click_id,
            Some("msclkid")
        );
        assert_eq!(check_ok("http://example.test/?x=1").click_id, None);
        assert_eq!(page.utm, Utm::default());
    }

    #[test]
    fn utm_values_cleaned() {
        let u = utm(
            "http://example.test/?utm_source=&utm_medium=%20%20&utm_term=john%40example.com&utm_content=+x+",
        );
        assert_eq!(u.source, None);
        assert_eq!(u.medium, None);
        assert_eq!(u.term.as_deref(), Some(":email"));
        assert_eq!(u.content.as_deref(), Some("x"));
        let long = format!("http://example.test/?utm_campaign={}", "é".repeat(300));
        assert_eq!(
            utm(&long).campaign.map(|c| c.chars().count()),
            Some(MAX_UTM_CHARS)
        );
        // First occurrence wins; unknown parameters vanish.
        let u = utm("http://example.test/?utm_source=a&utm_source=b&session=secret");
        assert_eq!(u.source.as_deref(), Some("a"));
    }

    #[test]
    fn pathname_is_redacted() {
        check(
            "https://example.test/users/jane.doe%40example.com/orders/123456789",
            false,
            "example.test",
            "/users/:email/orders/:num",
        );
    }

    // --- redaction ------------------------------------------------------

    fn r(s: &str) -> String {
        redact(s).into_owned()
    }

    #[test]
    fn redact_emails() {
        assert_eq!(r("/u/john.doe+tag@example.co.uk/edit"), "/u/:email/edit");
        assert_eq!(r("mail jöhn@exämple.de now"), "mail :email now");
        assert_eq!(r("not-an-email@localhost"), "not-an-email@localhost");
        assert_eq!(r("/a@b.test@c.test/x"), "/:email/x");
    }

    #[test]
    fn redact_digit_runs() {
        assert_eq!(r("/order/123456"), "/order/:num");
        assert_eq!(r("/invoice-98765432.pdf"), "/invoice-:num.pdf");
        assert_eq!(r("/archive/2024/05/12345"), "/archive/2024/05/12345");
        assert_eq!(r("/phone/+31612345678"), "/phone/+:num");
        assert_eq!(r("/ar/١٢٣٤٥٦٧"), "/ar/:num");
    }

    #[test]
    fn redact_tokens() {
        assert_eq!(r("/reset/abc123def456ghi789jkl0"), "/reset/:token");
        assert_eq!(r("/s/Xy7_kP2mQ-9rTz4LwB8nVc/x"), "/s/:token/x");
        assert_eq!(r("/k/0123456789abcdef"), "/k/:token");
        assert_eq!(
            r("/commit-3f2a9c1b7e4d5a6f8b9c0d1e2f3a4b5c6d7e8f90"),
            "/commit-:token"
        );
        assert_eq!(r("/release-0123456789ABCDEF.zip"), "/release-:token.zip");
        assert_eq!(
            r("/jwt/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc"),
            "/jwt/:token.:token.abc"
        );
    }

    #[test]
    fn redact_uuids() {
        assert_eq!(
            r("/u/550e8400-e29b-41d4-a716-446655440000/edit"),
            "/u/:token/edit"
        );
        assert_eq!(r("/u/550E8400-E29B-41D4-A716-446655440000"), "/u/:token");
        // The placeholder is not re-read as part of the next run.
        assert_eq!(r("550e8400-e29b-41d4-a716-446655440000-x"), ":token-x");
    }

    #[test]
    fn redact_leaves_ordinary_text() {
        for s in [
            "/blog/why-rust-is-great-for-analytics",
            "/top-10-rust-crates-in-2024",
            "/iphone15promax-review-2023",
            "/covid19-vaccine-update-2021-h1n1",
            "/black-friday-2024-eu-promo-v2",
            "/docs/api/v2/events",
            "/deadbeef",
            "/opportunity/category/جوائز-ومسابقات",
            "/straße/über/日本語のページ",
            "Something \"quoted\"",
            ":token :num :email",
            "",
        ] {
            assert!(
                matches!(redact(s), Cow::Borrowed(_)),
                "{s} was changed to {}",
                r(s)
            );
        }
    }

    #[test]
    fn redact_is_idempotent_on_examples() {
        for s in [
            "/u/a@b.com/123456/abc123def456ghi789jkl0",
            "550e8400-e29b-41d4-a716-446655440000-a1b2c3d4e5f6g7h8i9j0k",
        ] {
            let once = r(s);
            assert_eq!(r(&once), once);
        }
    }

    /// Deterministic pseudo-random strings over a hostile alphabet.
    fn noise(seed: u64, len: usize) -> String {
        const ALPHABET: [&str; 16] = [
            "a", "Z", "7", "-", "_", "@", ".", ":", "/", "%", "é", "ß", "日", "🦀", "\u{0}", "١",
        ];
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ALPHABET[(x >> 60) as usize]
            })
            .collect()
    }

    #[test]
    fn never_panics_on_noise() {
        for seed in 0..2000 {
            let s = noise(seed, (seed % 97) as usize);
            let once = r(&s);
            assert_eq!(r(&once), once, "not idempotent on {s:?}");
            let _ = minimise(&s, seed % 2 == 0);
            let _ = minimise(
                &format!("https://example.test/{s}?utm_source={s}#{s}"),
                true,
            );
        }
        // Linear time on a 3 MB run; `a1-a1-…` is also the dashed spelling of IPv6
        // addresses (`a1:a1:…`), which wins.
        let huge = "a1-".repeat(1_000_000);
        assert_eq!(r(&huge), ":ip");
        // A long run of hex groups that never parses stays linear too.
        let groups = "1a2b3:".repeat(500_000);
        assert!(
            r(&groups) == groups.as_str(),
            "five-digit groups are no address"
        );
        let _ = r(&"日".repeat(1_000_000));
        assert_eq!(minimise(&huge, false), Err(PageError::TooLong));
    }
}
