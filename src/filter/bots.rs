//! Bot and non-human traffic filter.
//!
//! Spoorloos counts people, so every hit from a crawler, monitor, script or
//! automated browser has to be dropped before it reaches the counters. The
//! decision uses only the request's own headers (User-Agent plus User-Agent
//! Client Hints): nothing is stored and nothing is looked up elsewhere.
//!
//! Layers, in the order they are tried (the first hit names the
//! [`BotReason`]):
//! 1. empty / placeholder User-Agent;
//! 2. client hints that name a headless browser (`HeadlessChrome` brand);
//! 3. our rules for automation/headless browsers, uptime monitors and HTTP
//!    libraries/CLIs (the `isbot` list misses most modern ones);
//! 4. woothee's crawler and HTTP-library/feed-reader classes;
//! 5. the `isbot` crate's curated pattern list;
//! 6. generic crawler vocabulary ("bot", "spider", "crawl", "+http", ...);
//! 7. a tool-shaped User-Agent (`Name/1.0`, shell or markup payloads) that
//!    carries no token of any browser, platform or known app. Free text is
//!    let through: some privacy-minded people set odd custom UAs.
//!
//! Headless browsers driven by Selenium/Puppeteer/Playwright with a normal
//! Chrome UA and no hints cannot be told apart here; that needs a client-side
//! signal such as `navigator.webdriver`.
//!
//! Rules were tuned against the real-world corpora bundled with the `isbot`
//! crate (see `tests/it/bot_corpus.rs`): false positives on real browsers are
//! treated as worse than a missed bot, because an over-eager filter silently
//! erases real visitors.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use crate::enrich::ua::{ClientHints, truncate_ua};

/// Why a request was classified as non-human; useful as a metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BotReason {
    /// Empty, whitespace-only or `-` User-Agent.
    Empty,
    /// Client hints announce a headless browser.
    ClientHints,
    /// Headless / automated / synthetic-testing browser.
    Automation,
    /// Uptime or health-check monitor.
    Monitor,
    /// HTTP library, CLI tool or load generator.
    HttpClient,
    /// Search-engine or other crawler, feed reader (woothee or `isbot` list).
    Crawler,
    /// Generic crawler vocabulary ("bot", "spider", "crawl", ...).
    Generic,
    /// Does not look like any browser or known app.
    NonBrowser,
}

impl BotReason {
    /// Stable lowercase label, e.g. for a Prometheus counter.
    pub fn as_str(self) -> &'static str {
        match self {
            BotReason::Empty => "empty",
            BotReason::ClientHints => "client_hints",
            BotReason::Automation => "automation",
            BotReason::Monitor => "monitor",
            BotReason::HttpClient => "http_client",
            BotReason::Crawler => "crawler",
            BotReason::Generic => "generic",
            BotReason::NonBrowser => "non_browser",
        }
    }
}

/// True when the request should not be counted as a human visit.
pub fn is_bot(ua: &str, hints: &ClientHints<'_>) -> bool {
    bot_reason(ua, hints).is_some()
}

/// Like [`is_bot`], but says which layer fired.
pub fn bot_reason(ua: &str, hints: &ClientHints<'_>) -> Option<BotReason> {
    hints_bot_reason(hints).or_else(|| ua_bot_reason(truncate_ua(ua), None))
}

/// The hint-only part: cheap, so callers that cache the User-Agent verdict
/// re-run just this per request.
pub(crate) fn hints_bot_reason(hints: &ClientHints<'_>) -> Option<BotReason> {
    // Real headless Chrome announces itself in the brand list even when the
    // User-Agent has been patched to look like regular Chrome.
    let headless =
        |h: Option<&str>| h.is_some_and(|v| contains_ignore_ascii_case(truncate_ua(v), "headless"));
    (headless(hints.brands) || headless(hints.full_version_list)).then_some(BotReason::ClientHints)
}

/// The User-Agent-only part. `ua` must already be truncated. `woothee` is the
/// `(category, name)` of an existing woothee parse of the same string, so the
/// enrichment path does not parse twice.
pub(crate) fn ua_bot_reason(ua: &str, woothee: Option<(&str, &str)>) -> Option<BotReason> {
    let ua = ua.trim();
    if ua.is_empty() || ua == "-" {
        return Some(BotReason::Empty);
    }

    let (lower, had_benign) = without_benign_words(ua.to_ascii_lowercase());
    let rules = RULES.matches(&lower);
    // Specific rules first so the reason label is as precise as possible.
    for (i, reason) in RULE_REASONS.iter().enumerate().take(GENERIC_RULE) {
        if rules.matched(i) {
            return Some(*reason);
        }
    }

    let from_woothee = |category: &str, name: &str| match (category, name) {
        // woothee's catch-all crawler rule also fires on "CUBOT_...".
        ("crawler", "misc crawler") if had_benign => None,
        ("crawler", _) => Some(BotReason::Crawler),
        ("misc", "HTTP Library") => Some(BotReason::HttpClient),
        ("misc", n) if n.contains("RSSReader") => Some(BotReason::Crawler),
        _ => None,
    };
    let woothee_reason = match woothee {
        Some((category, name)) => from_woothee(category, name),
        None => woothee::parser::Parser::new()
            .parse(ua)
            .and_then(|r| from_woothee(r.category, r.name)),
    };
    if woothee_reason.is_some() {
        return woothee_reason;
    }
    if ISBOT.is_bot(&lower) {
        return Some(BotReason::Crawler);
    }
    if rules.matched(GENERIC_RULE) {
        return Some(BotReason::Generic);
    }
    if looks_like_no_browser(&lower) {
        return Some(BotReason::NonBrowser);
    }
    None
}

/// The `isbot` pattern list compiled into one regex; built once.
static ISBOT: LazyLock<isbot::Bots> = LazyLock::new(isbot::Bots::default);

/// Our own rules, matched against the ASCII-lowercased User-Agent. Index
/// order equals [`RULE_REASONS`] order.
static RULES: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        // Automation, headless browsers and synthetic performance testing.
        concat!(
            r"headless|phantomjs|slimerjs|selenium|webdriver|chromedriver|geckodriver|",
            r"puppeteer|playwright|lighthouse|(?:^|[^a-z])ptst[/ ]|webpagetest|cypress/|",
            r"nightmare|htmlunit|jsdom|zombie\.js|happy-?dom|gtmetrix|speedcurve|",
            r"pagespeed|page speed|dareboost|yellowlab|sitespeed\.io|catchpoint|",
            r"rigor|ghost ?inspector|browserless|scrapingbee|zenrows|apify"
        ),
        // Uptime, health-check and synthetic monitors.
        concat!(
            r"uptime|pingdom|statuscake|site24x7|datadog|newrelicpinger|synthetics|nodeping|",
            r"freshping|hetrixtools|checkly|monitis|updown\.io|montastic|alertsite|",
            r"dotcom-monitor|gomezagent|elb-healthchecker|kube-probe|googlehc/|route53-health|",
            r"health-?check|blackbox[ -]exporter|prometheus|zabbix|nagios|check_http|icinga|",
            r"site ?monitor|pulsetic|cronitor|ohdear"
        ),
        // HTTP libraries, CLIs and load generators.
        concat!(
            r"^curl|libcurl|pycurl|(?:^|[^a-z])curl/|^wget|(?:^|[^a-z])wget/|python-requests|",
            r"python-urllib|python-httpx|^python|(?:^|[^a-z])python/\d|aiohttp|httpx|urllib3|",
            r"httplib2|go-http-client|^go[ /]\d|^go-resty|okhttp|axios/|node-fetch|undici|",
            r"^node(?:\.js)?/|^deno/|^bun/|^got[ /(]|needle/|superagent|^java/|",
            r"apache-httpclient|jakarta commons|libwww-perl|lwp::|^lwp|mechanize|^ruby|",
            r"faraday|httparty|rest-client|typhoeus|^php|(?:^|[^a-z])php/\d|guzzle|symfony|",
            r"^dart[ /:]|dart:io|reqwest|(?:^|[^a-z])hyper/\d|httpie|postmanruntime|insomnia|",
            r"scrapy|colly|winhttp|powershell|^httpclient|restsharp|^k6/|artillery|locust|",
            r"jmeter|gatling|^wrk|^vegeta|^ab/|apachebench|^lua-resty|^http\.rb|",
            r"^ktor|^unirest|^feign|^jersey|^cpp-httplib|^aria2|^fasthttp"
        ),
        // Generic crawler vocabulary. "bot" must end a word so that model
        // names such as "IDbot553" survive; "cubot" phones are blanked first.
        concat!(
            r"bots?(?:$|[^a-z0-9])|crawl|spider|scraper|scanner|(?:^|[^a-z])scan(?:$|[^a-z])|",
            r"fetcher|(?:^|[^a-z])fetch(?:$|[^a-z])|preview|archiver|harvest|indexer|",
            r"(?:^|[^a-z])probe(?:$|[^a-z])|https?://|\+http|checker|link ?check|analy[sz]er|",
            r"extractor|validator|nutch|larbin"
        ),
    ])
    .expect("bot rule regexes are constant and valid")
});

const RULE_REASONS: [BotReason; 4] = [
    BotReason::Automation,
    BotReason::Monitor,
    BotReason::HttpClient,
    BotReason::Generic,
];

/// Index of the generic-vocabulary rule, checked after woothee and `isbot`.
const GENERIC_RULE: usize = 3;

/// Blanks words that contain a bot keyword but belong to real devices
/// ("CUBOT" phones) or browsers ("Safari Technology Preview").
/// Returns the cleaned text and whether anything was blanked.
fn without_benign_words(lower: String) -> (String, bool) {
    const BENIGN: [&str; 2] = ["cubot", "technology%20preview"];
    if BENIGN.iter().any(|b| lower.contains(b)) {
        (BENIGN.iter().fold(lower, |s, b| s.replace(b, " ")), true)
    } else {
        (lower, false)
    }
}

/// A tool-shaped UA ("MyScraper/1.0", shell or markup payloads) without any
/// token of a browser engine, platform, app network stack or phone vendor.
/// Real browsers and in-app web views always carry such a token.
fn looks_like_no_browser(lower: &str) -> bool {
    static BROWSERISH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            // Browser engines, platforms and app network stacks.
            r"^(?:mozilla/|opera)|applewebkit|gecko|trident/|presto/|khtml|safari|chrome|firefox|",
            r"android|iphone|ipad|ipod|cfnetwork|darwin/|dalvik/|windows|linux|macintosh|",
            r"mac os|watchos|tvos|midp|cldc|profile/|configuration/|ucweb|ucbrowser|mqqbrowser|",
            r"blackberry|symbian|series ?[46]0|netfront|obigo|up\.browser|openwave|opwv|",
            r"docomo|kddi|softbank|vodafone|playstation|nintendo|xbox|hbbtv|smart-?tv|",
            r"tizen|webos|roku|appletv|applecoremedia|quicktime|nsplayer|itunes|kindle|silk/|",
            r"j2me|brew|puffin|wap|browser|lynx|links|w3m|dillo|netsurf|amiga|morphos|haiku|",
            r"sleipnir|maxthon|iceweasel|lunascape|blazer|polaris|teleca|jasmine|dolfin|bada|",
            r"meego|maemo|fban/|fbav/|microsoft office|api \d+|nokia|samsung|sonyericsson|",
            // Feature-phone UAs are often just "VENDOR-MODEL".
            r"^\(?(?:lge?|mot|motorola|sie|htc|alcatel|pantech|huawei|lenovo|zte|sharp|kyocera|",
            r"kwc|sanyo|panasonic|philips|sagem|sendo|benq|haier|tcl|sony|ericsson|samsung|",
            r"sec|sgh|gt|nec|toshiba|casio|audiovox|nokia|amoi|bird|dopod|orange|qtek|",
            r"t-mobile|mitsu|asus|acer|palm|archos|lumia|micromax|karbonn|lava|intex|spice|",
            r"tecno|itel|infinix|gionee|coolpad|xiaomi|oppo|vivo|meizu|sprint|ppc)[-_. /;a-z]*\d"
        ))
        .expect("browser-token regex is constant and valid")
    });
    static TOOLISH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-z0-9][a-z0-9._+-]*/v?\d|[<>{}$`]|\(\)")
            .expect("tool-token regex is constant and valid")
    });
    !BROWSERISH.is_match(lower) && TOOLISH.is_match(lower)
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, hints: ClientHints<'_>, expected: Option<BotReason>) {
        assert_eq!(bot_reason(ua, &hints), expected, "UA: {ua:?}");
        assert_eq!(is_bot(ua, &hints), expected.is_some(), "UA: {ua:?}");
    }

    fn no_hints() -> ClientHints<'static> {
        ClientHints::default()
    }

    #[test]
    fn bots_by_user_agent() {
        use BotReason::*;
        let cases: &[(&str, BotReason)] = &[
            ("", Empty),
            ("   ", Empty),
            ("-", Empty),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Crawler,
            ),
            (
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Crawler,
            ),
            ("Googlebot-Image/1.0", Crawler),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                Crawler,
            ),
            ("curl/8.5.0", HttpClient),
            ("Wget/1.21.4", HttpClient),
            ("python-requests/2.31.0", HttpClient),
            ("Python/3.11 aiohttp/3.9.1", HttpClient),
            ("Go-http-client/2.0", HttpClient),
            ("okhttp/4.12.0", HttpClient),
            ("axios/1.6.8", HttpClient),
            (
                "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
                HttpClient,
            ),
            ("undici", HttpClient),
            ("Java/17.0.2", HttpClient),
            ("Apache-HttpClient/4.5.14 (Java/17.0.2)", HttpClient),
            ("libwww-perl/6.72", HttpClient),
            ("Ruby", HttpClient),
            ("GuzzleHttp/7", HttpClient),
            ("Dart/3.3 (dart:io)", HttpClient),
            ("reqwest/0.12.4", HttpClient),
            ("hyper/1.3.1", HttpClient),
            ("HTTPie/3.2.2", HttpClient),
            ("PostmanRuntime/7.37.3", HttpClient),
            ("insomnia/2023.5.8", HttpClient),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.91 Safari/537.36",
                Automation,
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
                Automation,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 PTST/240401.120222",
                Automation,
            ),
            (
                "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
                Automation,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.6.0 Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
                Automation,
            ),
            (
                "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
                Monitor,
            ),
            (
                "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                Monitor,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 DatadogSynthetics",
                Monitor,
            ),
            ("NewRelicPinger/1.0 (1234567)", Monitor),
            ("Site24x7", Monitor),
            ("kube-probe/1.29", Monitor),
            ("SomeScraper/1.0", Crawler),
            ("MyInternalTool/1.0", NonBrowser),
            ("() { :; }; /bin/bash -c \"id\"", NonBrowser),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 ZorkCrawl",
                Generic,
            ),
            ("Mozilla/5.0 (compatible; LinkPreviewer 1.0)", Generic),
            (
                "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html)",
                Crawler,
            ),
            ("facebookexternalhit/1.1", Crawler),
            ("Apple-PubSub/65.28", Crawler),
        ];
        for &(ua, reason) in cases {
            check(ua, no_hints(), Some(reason));
        }
    }

    #[test]
    fn real_browsers_pass() {
        let cases = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 6.0; CUBOT DINOSAUR Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.83 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 6.0; IDbot553 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.85 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; U; Android 4.2.2; it-it; Surfing TAB B 9.7 3G Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            "Mozilla/5.0 (Linux; Android 6.0; U007 Pro Build/MRA58K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.81 Mobile Safari/537.36",
            "Safari%20Technology%20Preview/12603.1.6.0.2 CFNetwork/807.0.4 Darwin/16.0.0",
            "Dalvik/2.1.0 (Linux; U; Android 7.0; SM-G955F Build/NRD90M)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/0.0.306 Chrome/78.0.3904.130 Electron/7.1.11 Safari/537.36",
            "Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.27510/34.2220; U; en) Presto/2.8.119 Version/11.10",
            "UCWEB/2.0 (MIDP-2.0; U; Adr 7.0; en-US; SM-J701F) U2/1.0.0 UCBrowser/11.0.0.1016 U2/1.0.0 Mobile",
        ];
        for ua in cases {
            check(ua, no_hints(), None);
        }
    }

    #[test]
    fn headless_brand_in_hints() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let hints = ClientHints {
            brands: Some(r#""Chromium";v="124", "HeadlessChrome";v="124", "Not-A.Brand";v="99""#),
            ..ClientHints::default()
        };
        check(ua, hints, Some(BotReason::ClientHints));
        let hints = ClientHints {
            brands: Some(r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#),
            ..ClientHints::default()
        };
        check(ua, hints, None);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let huge = "a".repeat(1 << 20);
        let cases = [
            huge.as_str(),
            "\u{0}\u{1}\u{7f}",
            "Mozilla/5.0 😀 (ünïcödé) ☃",
            "\"Mozilla/5.0\"",
            "bot",
        ];
        for ua in cases {
            let _ = is_bot(ua, &no_hints());
        }
        // A multi-byte character straddling the truncation point.
        let straddle = format!("Mozilla/5.0 {}", "é".repeat(600));
        assert!(!is_bot(&straddle, &no_hints()));
    }

    #[test]
    fn reason_labels_are_distinct() {
        use BotReason::*;
        let all = [
            Empty,
            ClientHints,
            Automation,
            Monitor,
            HttpClient,
            Crawler,
            Generic,
            NonBrowser,
        ];
        let mut labels: Vec<_> = all.iter().map(|r| r.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all.len());
    }
}
