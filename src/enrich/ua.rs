//! User-Agent enrichment: turns the raw `User-Agent` header (plus User-Agent
//! Client Hints, when the browser sends them) into the coarse, low-cardinality
//! dimensions Spoorloos reports: browser family and major version, OS family
//! and coarse version, device class and a bot flag.
//!
//! The raw User-Agent is never stored or logged; only these derived values
//! leave this module.
//!
//! Pipeline:
//! 1. truncate the UA to [`MAX_UA_BYTES`] (at a char boundary), which also
//!    bounds every cache key;
//! 2. per distinct UA, cached: woothee parse, name normalisation, tablet and
//!    TV rules (woothee has no tablet class), bot verdict from
//!    [`crate::filter::bots`];
//! 3. per request, uncached (cheap): refine with client hints, which are more
//!    truthful than Chrome's frozen/reduced UA string.
//!
//! Naming decisions:
//! - iPads report OS `"iPadOS"` from version 13 on (and when the version is
//!   unknown), `"iOS"` before that, matching Apple's naming at the time. iPads
//!   in Safari's default desktop mode send a Mac UA and are counted as macOS
//!   desktops: the UA carries nothing that tells them apart.
//! - macOS 10.x keeps major.minor (`"10.15"`), because the major alone says
//!   nothing there; later versions report the major (`"14"`). Browsers freeze
//!   the UA at 10.15, so without hints many newer Macs show up as `"10.15"`.
//! - Windows from the UA is `"10"` for NT 10.0 (the UA cannot tell 10 from
//!   11); the `Sec-CH-UA-Platform-Version` hint resolves it.
//! - Brands in client hints are mapped through a fixed table; unknown brands
//!   are ignored rather than copied, so a client cannot invent new values.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use quick_cache::sync::Cache;
use regex::Regex;

pub(crate) use crate::filter::agent::truncate_ua;
pub use crate::filter::agent::{ClientHints, MAX_UA_BYTES};
use crate::filter::bots;

const UNKNOWN: &str = "(unknown)";

/// Coarse device class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
    /// TVs, consoles, crawlers and anything unrecognised.
    Other,
}

impl Device {
    pub const ALL: [Device; 4] = [
        Device::Desktop,
        Device::Mobile,
        Device::Tablet,
        Device::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "Desktop",
            Device::Mobile => "Mobile",
            Device::Tablet => "Tablet",
            Device::Other => "Other",
        }
    }
}

/// Derived, storable view of a User-Agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UaInfo {
    /// Browser family: "Chrome", "Firefox", "Safari", "Edge", "Opera",
    /// "Samsung Internet", ... or `"(unknown)"`.
    pub browser: Arc<str>,
    /// Major version only ("124"); empty if unknown.
    pub browser_version: Arc<str>,
    /// OS family: "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux",
    /// "ChromeOS", ... or `"(unknown)"`.
    pub os: Arc<str>,
    /// Coarse OS version ("11", "14", "10.15"); empty if unknown.
    pub os_version: Arc<str>,
    pub device: Device,
    /// Non-human traffic and why (see [`crate::filter::bots::bot_reason`]).
    pub bot: Option<bots::BotReason>,
}

/// Parses User-Agents with a bounded cache of per-UA results.
pub struct UaParser {
    /// `None` when constructed with capacity 0 (caching disabled).
    cache: Option<Cache<String, UaInfo>>,
    /// The crawler list from `filters.bot_list`; the built-in one if `None`.
    list: Option<std::sync::Arc<bots::BotList>>,
}

impl UaParser {
    /// `cache_capacity` is a number of distinct UAs; each entry costs at most
    /// about `MAX_UA_BYTES` plus ~150 bytes. 0 disables caching.
    pub fn new(cache_capacity: usize) -> Self {
        Self {
            cache: (cache_capacity > 0).then(|| Cache::new(cache_capacity)),
            list: None,
        }
    }

    /// Checks User-Agents against `list` instead of the built-in crawler list.
    pub fn with_list(mut self, list: std::sync::Arc<bots::BotList>) -> Self {
        self.list = Some(list);
        self
    }

    /// Never panics; any string is accepted.
    pub fn parse(&self, ua: &str, hints: &ClientHints<'_>) -> UaInfo {
        let ua = truncate_ua(ua);
        let mut info = match &self.cache {
            Some(cache) => match cache.get(ua) {
                Some(hit) => hit,
                None => {
                    let fresh = parse_ua(ua, self.list());
                    cache.insert(ua.to_owned(), fresh.clone());
                    fresh
                }
            },
            None => parse_ua(ua, self.list()),
        };
        refine_with_hints(&mut info, hints);
        // The cached verdict is UA-only; hints differ per request.
        info.bot = info.bot.or_else(|| bots::hints_bot_reason(hints));
        info
    }

    fn list(&self) -> &bots::BotList {
        self.list
            .as_deref()
            .unwrap_or_else(|| bots::BotList::built_in())
    }
}

/// Everything that depends on the UA string alone (the cached part).
fn parse_ua(raw: &str, list: &bots::BotList) -> UaInfo {
    let ua = raw.trim();
    let parsed = woothee::parser::Parser::new().parse(ua);
    let (category, name, w_os, w_os_version, w_version) = match &parsed {
        Some(r) => (r.category, r.name, r.os, r.os_version.as_ref(), r.version),
        None => ("UNKNOWN", "UNKNOWN", "UNKNOWN", "", ""),
    };

    let (browser, browser_version) = browser_family(ua, name, w_version);
    let (os, os_version) = os_family(ua, w_os, w_os_version);
    let device = device_class(ua, category, &os);
    let bot = bots::ua_bot_reason(ua, Some((category, name)), list);

    UaInfo {
        browser: browser.into(),
        browser_version: browser_version.into(),
        os: os.into(),
        os_version: os_version.into(),
        device,
        bot,
    }
}

/// Browsers woothee reports as plain Chrome/Safari (or not at all), keyed by
/// the UA token that carries their version. First match in the UA wins.
static BROWSER_TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(UCBrowser|OPiOS|OPT|OPR|Opera Mini|MiuiBrowser|HuaweiBrowser|DuckDuckGo|",
        r"Silk|Brave|Whale|HeadlessChrome|Chromium|FBAV|Instagram|SamsungBrowser)[/ ](\d+)"
    ))
    .expect("browser token regex is constant and valid")
});

fn browser_family<'a>(
    ua: &str,
    woothee_name: &'a str,
    woothee_version: &str,
) -> (Cow<'a, str>, String) {
    if let Some(caps) = BROWSER_TOKENS.captures(ua) {
        let family = match caps.get(1).map_or("", |m| m.as_str()) {
            "UCBrowser" => "UC Browser",
            "OPiOS" | "OPT" | "OPR" => "Opera",
            "Opera Mini" => "Opera Mini",
            "MiuiBrowser" => "MIUI Browser",
            "HuaweiBrowser" => "Huawei Browser",
            "DuckDuckGo" => "DuckDuckGo",
            "Silk" => "Silk",
            "Brave" => "Brave",
            "Whale" => "Whale",
            "HeadlessChrome" => "HeadlessChrome",
            "Chromium" => "Chromium",
            "FBAV" => "Facebook",
            "Instagram" => "Instagram",
            _ => "Samsung Internet",
        };
        let version = caps.get(2).map_or("", |m| major(m.as_str()));
        return (Cow::Borrowed(family), version.to_owned());
    }

    let family = match woothee_name {
        "UNKNOWN" => UNKNOWN,
        "SamsungBrowser" => "Samsung Internet",
        // Android's pre-Chrome stock browser calls itself Safari.
        "Safari" if ua.contains("Android") => "Android Browser",
        "Webview" => {
            // Android WebViews carry the real engine version in Chrome/.
            static CHROME: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r"Chrome/(\d+)").expect("chrome regex is constant and valid")
            });
            let version = CHROME
                .captures(ua)
                .and_then(|c| c.get(1))
                .map_or_else(|| major(woothee_version), |m| major(m.as_str()));
            return (Cow::Borrowed("WebView"), version.to_owned());
        }
        "Google Search App" => "Google App",
        other => return (Cow::Borrowed(other), major(woothee_version).to_owned()),
    };
    (Cow::Borrowed(family), major(woothee_version).to_owned())
}

fn os_family<'a>(ua: &str, woothee_os: &'a str, woothee_version: &str) -> (Cow<'a, str>, String) {
    let version = woothee_version.trim();
    let (os, version) = match woothee_os {
        "UNKNOWN" => {
            let (os, version) = fallback_os(ua);
            return (Cow::Borrowed(os), version);
        }
        "Mac OSX" => ("macOS", mac_version(version)),
        "Mac OS Classic" => ("Mac OS", String::new()),
        "iPhone" | "iPod" | "iOS" => ("iOS", major(version).to_owned()),
        "iPad" => {
            let v = major(version);
            let os = match v.parse::<u32>() {
                Ok(n) if n < 13 => "iOS",
                _ => "iPadOS",
            };
            (os, v.to_owned())
        }
        "Android" if ua.contains("HarmonyOS") => ("HarmonyOS", String::new()),
        "Android" => ("Android", major(version).to_owned()),
        "Linux" if ua.contains("Tizen") => ("Tizen", String::new()),
        // Kindle Fire's Silk omits "Android".
        "Linux" if ua.contains("Silk/") => ("Fire OS", String::new()),
        "ChromeOS" => ("ChromeOS", String::new()),
        "Windows Phone OS" => ("Windows Phone", major(version).to_owned()),
        "BlackBerry 10" => ("BlackBerry", major(version).to_owned()),
        "SymbianOS" => ("Symbian", String::new()),
        "Windows UNKNOWN Ver" => ("Windows", String::new()),
        "Windows CE" => ("Windows CE", String::new()),
        w if w.starts_with("Windows ") => {
            // "Windows 10", "Windows 8.1", "Windows XP", "Windows NT 4.0", ...
            ("Windows", w.trim_start_matches("Windows ").to_owned())
        }
        other => return (Cow::Borrowed(other), major(version).to_owned()),
    };
    (Cow::Borrowed(os), version)
}

/// Platforms woothee leaves unknown: unusual Windows NT versions, BSDs,
/// Solaris, pre-smartphone Nokia/UC platforms, KaiOS, Tizen.
fn fallback_os(ua: &str) -> (&'static str, String) {
    static OS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(Windows NT (\d+)\.(\d+))|(Windows Phone)|(Windows|Win(?:9[58]|NT|32|64)\b)|",
            r"(KAIOS|KaiOS)|(Tizen)|(Adr (\d+))|(Series ?40)|(Symbian|Series ?60|\bS60\b)|",
            r"(OpenBSD|FreeBSD|NetBSD)|(SunOS)"
        ))
        .expect("fallback OS regex is constant and valid")
    });
    let Some(c) = OS.captures(ua) else {
        return (UNKNOWN, String::new());
    };
    let group = |i: usize| c.get(i).map(|m| m.as_str());
    if group(1).is_some() {
        let version = match (group(2), group(3)) {
            (Some("5"), Some("1" | "2")) => "XP",
            (Some("6"), Some("0")) => "Vista",
            (Some("6"), Some("1")) => "7",
            (Some("6"), Some("2")) => "8",
            (Some("6"), Some("3")) => "8.1",
            (Some("6"), Some("4")) | (Some("10"), _) => "10",
            _ => "",
        };
        return ("Windows", version.to_owned());
    }
    let os = if group(4).is_some() {
        "Windows Phone"
    } else if group(5).is_some() {
        "Windows"
    } else if group(6).is_some() {
        "KaiOS"
    } else if group(7).is_some() {
        "Tizen"
    } else if let Some(v) = group(9) {
        return ("Android", v.to_owned());
    } else if group(10).is_some() {
        "Series 40"
    } else if group(11).is_some() {
        "Symbian"
    } else if group(12).is_some() {
        "BSD"
    } else {
        "Solaris"
    };
    (os, String::new())
}

/// Tablet model tokens and words; only consulted for Android-like UAs.
static ANDROID_TABLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:tab|tablet|ideatab|mediapad|xoom|transformer|playbook)\b|",
        r"\btab[ _-]?\d|\b(?:sm-[tpx]\d|gt-p\d|gt-n(?:5|8)\d{3}|sch-i800|sgh-t849|shw-m180|",
        r"lenovo tb|tb\d?-[a-z]?\d|nexus (?:7|9|10)\b|pixel c\b|kf[a-z]{2,5}\b|",
        r"yoga tablet|shield tablet|sgp\d{3}|a1-\d{3}|b[1-3]-[a-z0-9]{3,4}\b|",
        r"me\d{3}[a-z]{1,2}\b|k00[a-z0-9]\b|p00[0-9a-z]\b|lifetab|zenpad|",
        r"iconia|at\d{3}|mz6\d{2}|tf\d{3}|nook|bntv\d{3}|hp slate|galaxy tab)"
    ))
    .expect("tablet regex is constant and valid")
});

/// Non-Android tablet markers ("Tablet PC" is a pen-enabled Windows desktop).
static OTHER_TABLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"iPad|Kindle|PlayBook|RIM Tablet|\bTablet\b(?: PC)?")
        .expect("tablet regex is constant and valid")
});

/// TVs, set-top boxes, consoles and headsets: counted as "other".
static TV_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)smart-?tv|hbbtv|\btv\b|googletv|android tv|appletv|crkey|\baft[a-z]{1,4}\b|",
        r"bravia|web0s|netcast|roku|tizen.*tv|playstation|xbox|nintendo|oculus|quest \d|",
        r"pico \d|viera|philipstv|inettvbrowser"
    ))
    .expect("tv regex is constant and valid")
});

/// Markers of phones that woothee leaves uncategorised.
static MOBILE_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Opera Mini|MIDP|J2ME|MAUI|UCWEB|SpreadTrum|\bMobile\b|\bAdr \d")
        .expect("mobile regex is constant and valid")
});

fn device_class(ua: &str, category: &str, os: &str) -> Device {
    if matches!(category, "crawler" | "misc") {
        return Device::Other;
    }
    if TV_LIKE.is_match(ua) {
        return Device::Other;
    }
    let is_android = matches!(os, "Android" | "Fire OS") || ua.contains("Android");
    if is_android && ANDROID_TABLET.is_match(ua) {
        return Device::Tablet;
    }
    if let Some(m) = OTHER_TABLET.find(ua)
        && m.as_str() != "Tablet PC"
    {
        return Device::Tablet;
    }
    if is_android
        && ua.starts_with("Mozilla/")
        && ua.contains("AppleWebKit")
        && !ua.contains("Mobile")
        && !ua.contains("phone")
        && matches!(category, "smartphone" | "pc")
    {
        // Google's convention: Android browsers omit "Mobile" on tablets.
        return Device::Tablet;
    }
    match category {
        "pc" => Device::Desktop,
        "smartphone" | "mobilephone" => Device::Mobile,
        // woothee found a browser but no platform (Opera Mini, UC on
        // feature phones, odd Windows versions, BSDs).
        _ if MOBILE_HINT.is_match(ua)
            || matches!(os, "KaiOS" | "Series 40" | "Symbian" | "Windows Phone") =>
        {
            Device::Mobile
        }
        _ if matches!(
            os,
            "Windows" | "macOS" | "Linux" | "ChromeOS" | "BSD" | "Solaris"
        ) =>
        {
            Device::Desktop
        }
        _ => Device::Other,
    }
}

/// Per-request refinement from client hints. Hints are sent only by Chromium
/// browsers and are not frozen like their UA string.
fn refine_with_hints(info: &mut UaInfo, hints: &ClientHints<'_>) {
    if let Some((family, version)) = hints
        .brands
        .and_then(brand_from_list)
        .or_else(|| hints.full_version_list.and_then(brand_from_list))
    {
        // A bare "Chromium" brand (Chromium builds, forks that do not name
        // themselves, Playwright) only fills a gap: overriding "Chrome" would
        // split one browser's counts between hinted (HTTPS) and unhinted
        // requests.
        if family != "Chromium" || &*info.browser == UNKNOWN {
            info.browser = family.into();
            info.browser_version = version.into();
        }
    }

    let platform = hints.platform.map(unquote).and_then(platform_family);
    // A mobile UA with desktop-platform hints is a UA override (device emulation,
    // `--user-agent`): the UA is what was chosen, so the platform hints are ignored.
    // (The reverse, a desktop UA with Android hints, is a real tablet in desktop mode.)
    let overridden = matches!(&*info.os, "Android" | "iOS" | "iPadOS")
        && platform.is_some_and(|os| matches!(os, "Windows" | "macOS" | "Linux" | "ChromeOS"));
    if overridden {
        return;
    }
    if let Some(os) = platform
        && os != &*info.os
    {
        info.os = os.into();
        info.os_version = "".into();
    }

    if let Some(version) = hints
        .platform_version
        .map(unquote)
        .filter(|v| !v.is_empty())
    {
        let major_str = major(version);
        let parsed = major_str.parse::<u32>().ok();
        match (&*info.os, parsed) {
            // Microsoft's mapping: platform version 13+ is Windows 11,
            // 1..=10 is Windows 10 (11 and 12 never shipped), 0 is 7/8/8.1
            // (keep the UA's answer).
            ("Windows", Some(13..)) => info.os_version = "11".into(),
            ("Windows", Some(1..=12)) => info.os_version = "10".into(),
            ("Windows", _) => {}
            ("macOS", Some(_)) => info.os_version = mac_version(version).into(),
            ("Android" | "iOS" | "iPadOS", Some(_)) => info.os_version = major_str.into(),
            _ => {}
        }
    }

    let platform_is_desktop = matches!(&*info.os, "Windows" | "macOS" | "Linux" | "ChromeOS");
    match hints.mobile.map(str::trim) {
        Some("?1") if matches!(info.device, Device::Desktop | Device::Other) => {
            info.device = Device::Mobile;
        }
        // Chrome on Android tablets sends ?0 (often with a desktop UA).
        Some("?0") if &*info.os == "Android" && info.device != Device::Other => {
            info.device = Device::Tablet;
        }
        Some("?0") if platform_is_desktop && info.device == Device::Mobile => {
            info.device = Device::Desktop;
        }
        _ => {}
    }
}

/// Picks the most specific known brand from a `Sec-CH-UA`-style list.
/// Returns (family, major version).
fn brand_from_list(list: &str) -> Option<(&'static str, &str)> {
    let list = truncate_ua(list);
    let mut best: Option<(u8, &'static str, &str)> = None;
    for entry in list.split(',').take(16) {
        let mut parts = entry.split(';');
        let name = unquote(parts.next().unwrap_or_default());
        let version = parts
            .find_map(|p| p.trim().strip_prefix("v="))
            .map(unquote)
            .unwrap_or_default();
        let Some((rank, family)) = brand_family(name) else {
            continue;
        };
        if best.is_none_or(|(r, _, _)| rank > r) {
            best = Some((rank, family, major(version)));
        }
    }
    best.map(|(_, family, version)| (family, version))
}

/// Known brands; rank 0 for the generic engine brand so any specific brand
/// wins. GREASE entries ("Not-A.Brand", "Not)A;Brand", ...) and unknown brands
/// yield `None`.
fn brand_family(name: &str) -> Option<(u8, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let family = match lower.as_str() {
        "chromium" => return Some((0, "Chromium")),
        "google chrome" => "Chrome",
        "microsoft edge" | "microsoft edge webview2" => "Edge",
        "opera" | "opera gx" | "opera mobile" => "Opera",
        "brave" | "brave browser" => "Brave",
        "samsung internet" => "Samsung Internet",
        "vivaldi" => "Vivaldi",
        "yabrowser" | "yandex" => "Yandex Browser",
        "headlesschrome" => "HeadlessChrome",
        "android webview" => "WebView",
        "duckduckgo" => "DuckDuckGo",
        "whale" | "naver whale" => "Whale",
        "huawei browser" => "Huawei Browser",
        "miui browser" => "MIUI Browser",
        _ => return None,
    };
    Some((1, family))
}

fn platform_family(platform: &str) -> Option<&'static str> {
    if platform.len() > 16 {
        return None;
    }
    Some(match platform.to_ascii_lowercase().as_str() {
        "windows" => "Windows",
        "macos" => "macOS",
        "linux" => "Linux",
        "android" => "Android",
        "chrome os" | "chromeos" | "chromium os" => "ChromeOS",
        "ios" => "iOS",
        "fuchsia" => "Fuchsia",
        _ => return None,
    })
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim()
}

/// Leading run of ASCII digits ("124.0.6367" -> "124"); empty if none or
/// implausibly long, so a forged header cannot mint huge values.
fn major(version: &str) -> &str {
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    if end > 6 {
        return "";
    }
    version.get(..end).unwrap_or_default()
}

/// "10.15.7" -> "10.15", "14.4.1" -> "14" (see module docs).
fn mac_version(version: &str) -> String {
    let version = version.trim();
    let m = major(version);
    if m == "10" {
        let minor = version.get(3..).map(major).filter(|s| !s.is_empty());
        match minor {
            Some(minor) => format!("10.{minor}"),
            None => m.to_owned(),
        }
    } else {
        m.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected (browser, browser_version, os, os_version, device, bot).
    type Expected<'a> = (&'a str, &'a str, &'a str, &'a str, Device, bool);

    fn check(parser: &UaParser, ua: &str, hints: ClientHints<'_>, expected: Expected<'_>) {
        let got = parser.parse(ua, &hints);
        let (browser, browser_version, os, os_version, device, bot) = expected;
        let want = UaInfo {
            browser: browser.into(),
            browser_version: browser_version.into(),
            os: os.into(),
            os_version: os_version.into(),
            device,
            bot: got.bot,
        };
        assert_eq!(got, want, "UA: {ua:?}, hints: {hints:?}");
        assert_eq!(got.bot.is_some(), bot, "UA: {ua:?}, hints: {hints:?}");
    }

    fn none() -> ClientHints<'static> {
        ClientHints::default()
    }

    /// Found by fuzzing: a browser token's version kept every digit it had.
    #[test]
    fn overlong_versions_are_unknown() {
        let parser = UaParser::new(0);
        let digits = "9".repeat(70);
        for ua in [
            format!("Silk/12{digits}3!"),
            format!(
                "Mozilla/5.0 (Linux; Android 9; wv) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Version/4.0 Chrome/1{digits} Mobile Safari/537.36"
            ),
        ] {
            let info = parser.parse(&ua, &ClientHints::default());
            assert!(
                info.browser_version.is_empty(),
                "{ua}: {:?}",
                info.browser_version
            );
        }
    }

    #[test]
    fn user_agent_only() {
        use Device::*;
        let p = UaParser::new(64);
        let cases: &[(&str, Expected<'_>)] = &[
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "124", "Windows", "10", Desktop, false),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
                ("Edge", "124", "Windows", "10", Desktop, false),
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
                ("Internet Explorer", "11", "Windows", "7", Desktop, false),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
                ("Firefox", "125", "macOS", "10.15", Desktop, false),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
                ("Safari", "17", "macOS", "10.15", Desktop, false),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
                ("Opera", "109", "Linux", "", Desktop, false),
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "124", "ChromeOS", "", Desktop, false),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
                ("Safari", "17", "iOS", "17", Mobile, false),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                ("Chrome", "124", "iOS", "17", Mobile, false),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
                ("Safari", "16", "iPadOS", "16", Tablet, false),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 9_3_5 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) Version/9.0 Mobile/13G36 Safari/601.1",
                ("Safari", "9", "iOS", "9", Tablet, false),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                ("Samsung Internet", "24", "Android", "14", Mobile, false),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "124", "Android", "13", Tablet, false),
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-T500) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/14.0 Chrome/87.0.4280.141 Safari/537.36",
                ("Samsung Internet", "14", "Android", "11", Tablet, false),
            ),
            (
                "Mozilla/5.0 (Linux; U; Android 4.2.2; it-it; Surfing TAB B 9.7 3G Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
                ("Android Browser", "4", "Android", "4", Tablet, false),
            ),
            (
                "Mozilla/5.0 (Linux; Android 6.0; U007 Pro Build/MRA58K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.81 Mobile Safari/537.36",
                ("WebView", "51", "Android", "6", Mobile, false),
            ),
            (
                "Mozilla/5.0 (Android 13; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
                ("Firefox", "125", "Android", "13", Mobile, false),
            ),
            (
                "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/123.3.1 like Chrome/123.0.6312.118 Safari/537.36",
                ("Silk", "123", "Android", "9", Tablet, false),
            ),
            (
                "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
                ("Samsung Internet", "4", "Tizen", "", Other, false),
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                ("Googlebot", "", "(unknown)", "", Other, true),
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                ("bingbot", "", "(unknown)", "", Other, true),
            ),
            (
                "curl/8.5.0",
                ("HTTP Library", "", "(unknown)", "", Other, true),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.91 Safari/537.36",
                ("HeadlessChrome", "124", "Linux", "", Desktop, true),
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
                ("Chrome", "119", "Android", "11", Mobile, true),
            ),
            (
                "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.13337/37.9178; U; en) Presto/2.12.423 Version/12.16",
                ("Opera Mini", "4", "(unknown)", "", Mobile, false),
            ),
            (
                "Mozilla/5.0 (Windows NT 5.2; rv:47.0) Gecko/20100101 Firefox/47.0",
                ("Firefox", "47", "Windows", "XP", Desktop, false),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1234567890.0 Safari/537.36",
                ("Chrome", "", "Windows", "10", Desktop, false),
            ),
            ("", ("(unknown)", "", "(unknown)", "", Other, true)),
        ];
        for &(ua, expected) in cases {
            check(&p, ua, none(), expected);
            // Second call is served from the cache and must agree.
            check(&p, ua, none(), expected);
        }
    }

    #[test]
    fn client_hints_refine() {
        use Device::*;
        let p = UaParser::new(64);
        let frozen_win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let chrome_brands = r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#;

        // Windows 11 is only visible through the platform version hint.
        let win11 = ClientHints {
            brands: Some(chrome_brands),
            mobile: Some("?0"),
            platform: Some(r#""Windows""#),
            platform_version: Some(r#""15.0.0""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            win11,
            ("Chrome", "124", "Windows", "11", Desktop, false),
        );
        let win10 = ClientHints {
            platform_version: Some(r#""10.0.0""#),
            ..win11
        };
        check(
            &p,
            frozen_win,
            win10,
            ("Chrome", "124", "Windows", "10", Desktop, false),
        );
        let win7 = ClientHints {
            platform_version: Some(r#""0.3.0""#),
            ..win11
        };
        let ua_win7 = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36";
        check(
            &p,
            ua_win7,
            win7,
            ("Chrome", "124", "Windows", "7", Desktop, false),
        );

        // Edge, Brave and Opera brands beat Chromium; GREASE is ignored.
        let edge = ClientHints {
            brands: Some(r#""Microsoft Edge";v="124", "Not)A;Brand";v="8", "Chromium";v="124""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            edge,
            ("Edge", "124", "Windows", "10", Desktop, false),
        );
        let brave = ClientHints {
            brands: Some(r#""Brave";v="124", "Chromium";v="124", "Not-A.Brand";v="99""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            brave,
            ("Brave", "124", "Windows", "10", Desktop, false),
        );
        let chromium = ClientHints {
            brands: Some(r#""Not/A)Brand";v="8", "Chromium";v="126""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            chromium,
            ("Chrome", "124", "Windows", "10", Desktop, false),
        );
        // Hints name the browser even where the User-Agent has no browser's shape
        // (and is dropped as a bot for that).
        check(
            &p,
            "Mozilla/5.0 (Unknown)",
            chromium,
            ("Chromium", "126", "(unknown)", "", Other, true),
        );
        let full_only = ClientHints {
            full_version_list: Some(r#""Opera";v="109.0.5097.45", "Chromium";v="123.0.6312.124""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            full_only,
            ("Opera", "109", "Windows", "10", Desktop, false),
        );

        // Reduced Android UA: hints restore the true OS version and model class.
        let reduced = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
        let phone = ClientHints {
            brands: Some(chrome_brands),
            mobile: Some("?1"),
            platform: Some(r#""Android""#),
            platform_version: Some(r#""14.0.0""#),
            ..none()
        };
        check(
            &p,
            reduced,
            phone,
            ("Chrome", "124", "Android", "14", Mobile, false),
        );

        // Android tablet in Chrome's default desktop mode: Linux UA, ?0 + Android hints.
        let desktop_ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let tablet = ClientHints {
            brands: Some(chrome_brands),
            mobile: Some("?0"),
            platform: Some(r#""Android""#),
            platform_version: Some(r#""13""#),
            ..none()
        };
        check(
            &p,
            desktop_ua,
            tablet,
            ("Chrome", "124", "Android", "13", Tablet, false),
        );

        // macOS hints beat the frozen 10_15_7.
        let mac_ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let mac = ClientHints {
            brands: Some(chrome_brands),
            platform: Some(r#""macOS""#),
            platform_version: Some(r#""14.4.1""#),
            ..none()
        };
        check(
            &p,
            mac_ua,
            mac,
            ("Chrome", "124", "macOS", "14", Desktop, false),
        );

        // Headless brand marks a bot even behind a clean UA; cache is not polluted.
        let headless = ClientHints {
            brands: Some(r#""HeadlessChrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99""#),
            ..none()
        };
        check(
            &p,
            frozen_win,
            headless,
            ("HeadlessChrome", "124", "Windows", "10", Desktop, true),
        );
        check(
            &p,
            frozen_win,
            none(),
            ("Chrome", "124", "Windows", "10", Desktop, false),
        );

        // Garbage hints change nothing.
        let garbage = ClientHints {
            brands: Some(r#";;,,"""v=;"#),
            mobile: Some("maybe"),
            platform: Some(r#""Plan 9""#),
            platform_version: Some("x.y"),
            full_version_list: Some(","),
        };
        check(
            &p,
            frozen_win,
            garbage,
            ("Chrome", "124", "Windows", "10", Desktop, false),
        );
    }

    #[test]
    fn never_panics_and_bounds_keys() {
        let p = UaParser::new(8);
        let huge = format!("Mozilla/5.0 {}", "x".repeat(1 << 20));
        let straddle = format!("{}é", "a".repeat(MAX_UA_BYTES - 1));
        let inputs = [
            "",
            " ",
            "\u{0}",
            "Mozilla/5.0 (ünïcödé; 😀) Gecko/2010 Firefox/☃",
            "Windows NT 10.0; Chrome/",
            "Mozilla/5.0 (iPad; CPU OS 99999999999999999999_1 like Mac OS X)",
            huge.as_str(),
            straddle.as_str(),
        ];
        let hints = ClientHints {
            brands: Some(huge.as_str()),
            mobile: Some("?1"),
            platform: Some("\"Windows\""),
            platform_version: Some("99999999999999999999999"),
            full_version_list: Some("😀"),
        };
        for ua in inputs {
            let _ = p.parse(ua, &none());
            let _ = p.parse(ua, &hints);
        }
        assert!(truncate_ua(&straddle).len() < MAX_UA_BYTES);
        assert_eq!(truncate_ua(&huge).len(), MAX_UA_BYTES);
        // Capacity 0 disables the cache but still parses.
        let uncached = UaParser::new(0);
        assert!(uncached.parse("curl/8.0", &none()).bot.is_some());
    }

    #[test]
    fn random_input_never_panics() {
        // Deterministic xorshift so failures are reproducible.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const PIECES: [&str; 16] = [
            "Mozilla/5.0 (",
            "Windows NT ",
            "Android ",
            "iPad; CPU OS ",
            "_",
            ".",
            ";",
            ")",
            "Chrome/",
            "Version/",
            "Mobile",
            "Safari/",
            "é",
            "😀",
            "\"",
            "\u{0}",
        ];
        let p = UaParser::new(256);
        for _ in 0..20_000 {
            let mut ua = String::new();
            for _ in 0..(next() % 24) {
                let r = next();
                if r % 3 == 0 {
                    ua.push(char::from_u32((r >> 8) as u32 % 0x2_0000).unwrap_or('?'));
                } else {
                    ua.push_str(PIECES[(r >> 8) as usize % PIECES.len()]);
                }
            }
            let mobile = if next() % 2 == 0 { "?1" } else { "?0" };
            let hints = ClientHints {
                brands: Some(ua.as_str()),
                mobile: Some(mobile),
                platform: Some(ua.as_str()),
                platform_version: Some(ua.as_str()),
                full_version_list: Some(ua.as_str()),
            };
            let info = p.parse(&ua, &hints);
            assert!(info.browser_version.len() <= 6 && info.os_version.len() <= 16);
        }
    }

    #[test]
    fn parser_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<UaParser>();
    }

    #[test]
    fn helpers() {
        assert_eq!(major("124.0.6367.91"), "124");
        assert_eq!(major("UNKNOWN"), "");
        assert_eq!(mac_version("10.15.7"), "10.15");
        assert_eq!(mac_version("10_9"), "10.9");
        assert_eq!(mac_version("14.4.1"), "14");
        assert_eq!(Device::Tablet.as_str(), "Tablet");
        assert_eq!(brand_family("Not-A.Brand"), None);
        assert_eq!(brand_family("Not)A;Brand"), None);
        assert_eq!(brand_family("Google Chrome"), Some((1, "Chrome")));
    }
}
