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
//! 5. the `isbot` crate's curated pattern list and a maintained crawler list
//!    ([`BotList`]: crawler-user-agents, built in or from `filters.bot_list`);
//! 6. generic crawler vocabulary ("bot", "spider", "crawl", "+http", ...) and
//!    shapes no list enumerates ([`SHAPES`]: contact addresses, AI assistants'
//!    `-User` names, the words of scanners, auditors and archives);
//! 7. a User-Agent without a browser's shape: neither Mozilla's nor Opera's
//!    and no phone's or television's own browser, or Mozilla's with nothing a
//!    browser sends, or a name without any version.
//!
//! Headless browsers driven by Selenium/Puppeteer/Playwright with a normal
//! Chrome UA and no hints cannot be told apart here; that needs a client-side
//! signal such as `navigator.webdriver`.
//!
//! Rules were tuned against the real-world corpora bundled with the `isbot`
//! crate (`tests/it/bot_corpus.rs`) and Matomo's DeviceDetector fixtures
//! (`scripts/bot-corpora.sh`): false positives on real browsers are treated as
//! worse than a missed bot, because an over-eager filter silently erases real
//! visitors. Device models that contain "bot" or "spider" (tablets sold as
//! "M bot 60") are blanked before any word is looked for.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::agent::{ClientHints, truncate_ua};

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

/// Like [`is_bot`], but says which layer fired (with the built-in crawler list).
pub fn bot_reason(ua: &str, hints: &ClientHints<'_>) -> Option<BotReason> {
    hints_bot_reason(hints).or_else(|| ua_bot_reason(truncate_ua(ua), None, BotList::built_in()))
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
pub(crate) fn ua_bot_reason(
    ua: &str,
    woothee: Option<(&str, &str)>,
    list: &BotList,
) -> Option<BotReason> {
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
    if ISBOT.is_bot(&lower) || list.is_match(&lower) {
        return Some(BotReason::Crawler);
    }
    if rules.matched(GENERIC_RULE) || SHAPES.is_match(&lower) || webkit_tool(&lower) {
        return Some(BotReason::Generic);
    }
    if looks_like_no_browser(&lower) {
        return Some(BotReason::NonBrowser);
    }
    None
}

/// A maintained crawler pattern list: the copy of crawler-user-agents built in
/// (`assets/bots/`), or a newer one from `filters.bot_list`. Its patterns are
/// names, not shapes, and a few are common words ("Fever", "Butterfly", a build
/// number) that also occur in browsers: they are matched after the Android model
/// is blanked ([`without_benign_words`]), and never against a browser-shaped
/// User-Agent that names an in-app browser or a desktop web app ([`IN_APP`]).
#[derive(Debug)]
pub struct BotList {
    set: RegexSet,
    /// Patterns the regex engine does not take (look-arounds), left out.
    skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BotListError {
    #[error("cannot read the bot list {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the bot list {path} is not crawler-user-agents JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

const BUILT_IN_LIST: &str = include_str!("../../assets/bots/crawler-user-agents.txt");

/// The pattern field of crawler-user-agents.json's entries.
#[derive(serde::Deserialize)]
struct ListEntry {
    pattern: String,
}

impl BotList {
    /// The list built into the binary.
    pub fn built_in() -> &'static BotList {
        static LIST: LazyLock<BotList> = LazyLock::new(|| BotList::parse(BUILT_IN_LIST));
        &LIST
    }

    /// Reads a list: crawler-user-agents.json, or one pattern a line (`#` comments).
    pub fn load(path: &Path) -> Result<Self, BotListError> {
        let text = std::fs::read_to_string(path).map_err(|source| BotListError::Read {
            path: path.to_owned(),
            source,
        })?;
        if text.trim_start().starts_with('[') {
            let entries: Vec<ListEntry> =
                serde_json::from_str(&text).map_err(|source| BotListError::Json {
                    path: path.to_owned(),
                    source,
                })?;
            return Ok(Self::from_patterns(entries.into_iter().map(|e| e.pattern)));
        }
        Ok(Self::parse(&text))
    }

    /// One pattern a line; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Self {
        Self::from_patterns(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        )
    }

    fn from_patterns(patterns: impl Iterator<Item = String>) -> Self {
        // A name matches where a word starts: "Sonic" is a crawler, Panasonic
        // and ViewSonic make televisions.
        let patterns = patterns.map(|p| format!("(?:^|[^a-z0-9])(?:{p})"));
        let build = |p: &[String]| {
            RegexSetBuilder::new(p)
                .case_insensitive(true)
                .size_limit(256 << 20)
                .dfa_size_limit(64 << 20)
                .build()
        };
        let all: Vec<String> = patterns.collect();
        if let Ok(set) = build(&all) {
            return Self { set, skipped: 0 };
        }
        // Some pattern is not for this engine: keep the others.
        let good: Vec<String> = all
            .iter()
            .filter(|p| build(std::slice::from_ref(p)).is_ok())
            .cloned()
            .collect();
        let skipped = all.len() - good.len();
        let set = build(&good).unwrap_or_else(|_| RegexSet::empty());
        Self { set, skipped }
    }

    /// Patterns in use.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Patterns left out because the regex engine does not take them.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether the lowercased, cleaned User-Agent matches, unless it is a browser
    /// naming an in-app browser or desktop web app.
    fn is_match(&self, lower: &str) -> bool {
        let browser = lower.starts_with("mozilla/") || lower.starts_with("opera/");
        self.set.is_match(lower) && !(browser && IN_APP.is_match(lower))
    }
}

/// Tokens of in-app browsers, desktop web apps (Electron, mail clients) and TV
/// browsers people read pages in: a crawler list's name that happens to occur in such a
/// User-Agent does not make it a bot.
static IN_APP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"electron/|instagram|fban/|fbav/|fb_iab|metaiab|viber|thunderbird|line/\d|",
        r"kakaotalk|micromessenger|snapchat|pinterest|gsa/|musical_ly|bytedancewebview|",
        r"twitter|linkedinapp|whatsapp|telegram|discord|slack/|teams/|naver\(|yjapp|",
        r"sogoumse|sogoumobilebrowser|blackboard/|lightning/|seamonkey/|fluid/|omi/|",
        r"baiduboxapp|webmoney"
    ))
    .expect("in-app regex is constant and valid")
});

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
            r"^ktor|^unirest|^feign|^jersey|^cpp-httplib|^aria2|^fasthttp|",
            r"(?:^|[^a-z])http client|(?:^|[^a-z])siege/"
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

/// Blanks what contains a bot keyword but belongs to real devices or browsers:
/// the device model of an Android User-Agent ("M bot 51", "Spider 8", "XBot
/// Junior" are tablets), "CUBOT" phones, Safari Technology Preview, and the Sogou
/// mobile browser (whose name the crawler lists take for Sogou's spider).
/// Returns the cleaned text and whether anything was blanked.
fn without_benign_words(lower: String) -> (String, bool) {
    const BENIGN: [&str; 5] = [
        "cubot",
        "technology%20preview",
        "sogoumse",
        "sogoumobilebrowser",
        "sogousearch",
    ];
    let mut cleaned = false;
    let mut lower = lower;
    if let Some(model) = android_model(&lower) {
        lower.replace_range(model, " ");
        cleaned = true;
    }
    if BENIGN.iter().any(|b| lower.contains(b)) {
        lower = BENIGN.iter().fold(lower, |s, b| s.replace(b, " "));
        cleaned = true;
    }
    (lower, cleaned)
}

/// Where the device model sits in an Android browser's platform group:
/// `mozilla/5.0 (linux; [u; ]android 13; <model>[ build/…])`.
fn android_model(lower: &str) -> Option<std::ops::Range<usize>> {
    static MODEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^mozilla/5\.0 \(linux; (?:u; )?android [0-9.]+; (?:[a-z]{2}[-_][a-z]{2}; ?)?([^;)]*)",
        )
        .expect("model regex is constant and valid")
    });
    MODEL.captures(lower)?.get(1).map(|m| m.range())
}

/// A User-Agent without a browser's shape: neither Mozilla's nor Opera's and no
/// phone's or television's own browser (an app's HTTP client, a bare product
/// token such as "Owler/1", free text, a shell or markup payload), or
/// `Mozilla/5.0` followed by nothing a
/// browser sends ("Mozilla/5.0 (compatible; Kaupr/1.0)"). Real browsers and
/// in-app web views always carry such a token.
fn looks_like_no_browser(lower: &str) -> bool {
    static BROWSERISH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            // Browser engines, platforms and app network stacks.
            r"applewebkit|gecko|trident/|msie|presto/|khtml|safari|chrome|firefox|",
            r"android|iphone|ipad|ipod|cfnetwork|darwin/|dalvik/|windows|linux|macintosh|",
            r"mac os|watchos|tvos|midp|cldc|profile/|configuration/|ucweb|ucbrowser|mqqbrowser|",
            r"blackberry|symbian|series ?[46]0|netfront|obigo|up\.browser|openwave|opwv|",
            r"docomo|kddi|softbank|vodafone|playstation|nintendo|xbox|hbbtv|smart-?tv|",
            r"tizen|webos|roku|appletv|applecoremedia|quicktime|nsplayer|itunes|kindle|silk/|",
            r"j2me|brew|puffin|wap|browser|lynx|links|w3m|dillo|netsurf|amiga|morphos|haiku|",
            r"risc ?os|beos|os/2|sunos|freebsd|openbsd|netbsd|x11|opera|mosaic|libwww/|",
            r"sleipnir|maxthon|iceweasel|lunascape|blazer|polaris|teleca|jasmine|dolfin|bada|",
            r"meego|maemo|fban/|fbav/|microsoft office|api \d+|nokia|samsung|sonyericsson|",
            r"sogou|galaxy|hotjava|xiino|amaya|kreatv|win(?:16|32|95|98|nt|ce)|foma|",
            // Feature-phone UAs are often just "VENDOR-MODEL".
            r"^\(?(?:lge?|mot|motorola|sie|htc|alcatel|pantech|huawei|lenovo|zte|sharp|kyocera|",
            r"kwc|sanyo|panasonic|philips|sagem|sendo|benq|haier|tcl|sony|ericsson|samsung|",
            r"sec-|sgh|gt|nec|toshiba|casio|audiovox|nokia|amoi|bird|dopod|orange|qtek|",
            r"t-mobile|mitsu|asus|acer|palm|archos|lumia|micromax|karbonn|lava|intex|spice|",
            r"tecno|itel|infinix|gionee|coolpad|xiaomi|oppo|vivo|meizu|sprint|ppc)[-_. /;a-z]*\d"
        ))
        .expect("browser-token regex is constant and valid")
    });
    // Phones' and televisions' own browsers, text browsers: the only ones whose
    // User-Agent need not look like Mozilla's or Opera's.
    static HANDSET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"midp|cldc|profile/|configuration/|up\.browser|up\.link|wap|netfront|obigo|",
            r"openwave|opwv|docomo|kddi|softbank|vodafone|j2me|brew|symbian|series ?[46]0|",
            r"blackberry|ucweb|ucbrowser|mqqbrowser|nokia|samsung|sonyericsson|hbbtv|",
            r"smart-?tv|tizen|webos|roku|playstation|nintendo|lynx|links|w3m|dillo|netsurf|",
            r"puffin|foma|",
            r"^\(?(?:lge?|mot|motorola|sie|htc|alcatel|pantech|huawei|lenovo|zte|sharp|kyocera|",
            r"kwc|sanyo|panasonic|philips|sagem|sendo|benq|haier|tcl|sony|ericsson|samsung|",
            r"sec-|sgh|gt|nec|toshiba|casio|audiovox|nokia|amoi|bird|dopod|orange|qtek|",
            r"t-mobile|mitsu|asus|acer|palm|archos|lumia|micromax|karbonn|lava|intex|spice|",
            r"tecno|itel|infinix|gionee|coolpad|xiaomi|oppo|vivo|meizu|sprint|ppc)[-_. /;a-z]*\d"
        ))
        .expect("handset regex is constant and valid")
    });
    // Every browser names its version; a User-Agent without a digit is a name.
    if !lower.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    if lower.contains("mozilla/") || lower.contains("opera") {
        !BROWSERISH.is_match(lower)
    } else {
        // An app's own HTTP client (CFNetwork, Dalvik, Office), a tool, a name.
        !HANDSET.is_match(lower)
    }
}

/// A WebKit User-Agent whose product is a bare word before `Safari/`: the
/// screenshot and PDF tools built on QtWebKit ("(KHTML, like Gecko) wkhtmltopdf
/// Safari/534.34"). Browsers there name a version (`Version/`, `Chrome/`), or are
/// one of the few that do not.
fn webkit_tool(lower: &str) -> bool {
    static TOOL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"like gecko\) ([a-z][a-z0-9.-]*) safari/")
            .expect("webkit-tool regex is constant and valid")
    });
    const BROWSERS: [&str; 5] = ["mobile", "smarttv", "rekonq", "qtcarbrowser", "konqueror"];
    TOOL.captures(lower)
        .and_then(|c| c.get(1))
        .is_some_and(|word| !BROWSERS.contains(&word.as_str()))
}

/// Shapes no crawler list can enumerate, matched against the lowercased
/// User-Agent after [`without_benign_words`]: a contact address, the `-User`
/// and `Agent` names of AI assistants and agents fetching for a person, the
/// vocabulary of auditors, monitors, scanners and archives, and unfilled
/// templates ("Chrome/W.X.Y.Z").
static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"mailto:|@[a-z0-9-]+\.[a-z]{2,}|(?:^|[^a-z0-9])www\.[a-z0-9-]+\.|",
        r"[a-z]-user/\d|agent(?:$|[/ ;)_-])|(?:^|[^a-z0-9])ai(?:$|[-/ ;)])|[a-z]-ai(?:$|[^a-z])|",
        r"\.ai(?:$|[/ ;)])|-extended|monitoring|audit|",
        r"inspect|research|synthetic|prefetch|(?:^|[^a-z])dcv(?:$|[^a-z])|validation|",
        r"monitor(?:$|[^a-z])|(?:^|[^a-z])proxy(?:$|[^a-z])|prospect|measurement|",
        r"\(khtml, ?like gecko;|time/\d{10}|observatory|",
        r"(?:^|[^a-z])(?:word|excel|powerpoint|onenote)/\d|",
        r"archiv|scans?(?:$|[^a-z])|reaver|recon/|securityheaders|cookiescan|cookiehub|",
        r"w\.x\.y\.z|geckoversion|firefoxversion|youruseragent|user ?agent|nameofagent|",
        // A contact written out, a web site's own domain as a word of its own,
        // screenshot services.
        r"(?:^|[^a-z])at [a-z0-9-]+(?:\.| dot )[a-z]{2,}|[a-z0-9] dot (?:com|net|org)(?:$|[^a-z])|",
        r"(?:^|[ (;,])[a-z0-9-]+\.(?:com|net|org|io)(?:$|[ /);,])|ms web services client|",
        r"screenshot|thumbnail|webthumb|mshots"
    ))
    .expect("shape regex is constant and valid")
});

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
            "Mozilla/5.0 (Linux; Android 7.0; M bot 60 Build/NRD90M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.83 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 13; Spider 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36 Instagram 406.0.0.58.159 Android (35/15; 480dpi; 1080x2400; OPPO; CPH2557; OP573DL1; mt6833; en_MY; 822918295; IABMV/1)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.115.0 Chrome/142.0.7444.265 Electron/39.8.5 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 10; TLA001 Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.132 Safari/537.36 SogouMSE,SogouMobileBrowser/5.22.8",
            "Opera/9.80 (Linux armv6l; U; Panasonic.bd.2012.Mediatek; en) Presto/2.8.115 Version/11.10",
            "Mozilla/5.0 (X11; Linux) AppleWebKit/534.34 (KHTML, like Gecko) QtCarBrowser Safari/534.34",
            "Mozilla/5.0 (Linux; U; Android 2.3;en-us; ViewSonic-ViewPad7e Build/ERE27) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/0.0.306 Chrome/78.0.3904.130 Electron/7.1.11 Safari/537.36",
            "Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.27510/34.2220; U; en) Presto/2.8.119 Version/11.10",
            "UCWEB/2.0 (MIDP-2.0; U; Adr 7.0; en-US; SM-J701F) U2/1.0.0 UCBrowser/11.0.0.1016 U2/1.0.0 Mobile",
        ];
        for ua in cases {
            check(ua, no_hints(), None);
        }
    }

    #[test]
    fn shapes_no_list_enumerates() {
        let cases = [
            // AI assistants and agents fetching for a person.
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36; Manus-User/1.0",
            "Mozilla/5.0 (compatible; Devin/1.0)",
            "anthropic-ai",
            // Security scanners, certificate validation, consent scanners, auditors.
            "Mozilla/5.0 (compatible; Detectify)",
            "Sectigo DCV",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 CookieHubScan/3.0",
            "Mozilla/5.0 (Windows; U; Windows NT 6.0; en-US; rv:1.9.2.28) Gecko/20120306 Firefox/99.0 YottaaMonitor",
            // Bare product tokens and names, apps' own HTTP clients.
            "Magellan",
            "Owler@ows.eu/1",
            "Chrome",
            "Dalvik/2.1.0 (Linux; U; Android 7.0; SM-G955F Build/NRD90M)",
            "Mail/3445.4.7 CFNetwork/889.9 Darwin/17.2.0 (x86_64)",
            "Mozilla/5.0 (Morningscore/1.0)",
            "Mozilla/5.0 Keydrop",
            // Screenshot tools on QtWebKit.
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/534.34 (KHTML, like Gecko) wkhtmltopdf Safari/534.34",
            // Unfilled templates.
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app) Chrome/W.X.Y.Z Safari/537.36",
            // A contact written out, a service's own domain, screenshot services.
            "Mozilla/5.0 (Windows NT 10.0; rv:120.0) Gecko/20100101 Firefox/120.0 (contact: webteam at example.org)",
            "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0 ops dot example dot com",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 (SiteGlimpse, siteglimpse.com)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 PageThumbnail/2.1",
            // HTTP clients and load generators that borrow a browser's shape.
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Acme Http Client",
            "Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.1.6",
            "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)",
        ];
        for ua in cases {
            assert!(is_bot(ua, &no_hints()), "UA: {ua:?}");
        }
    }

    #[test]
    fn a_list_names_where_a_word_starts() {
        let list = BotList::parse("# comment\nSonic\n(?<=x)lookbehind\n");
        assert_eq!((list.len(), list.skipped()), (1, 1));
        assert!(list.is_match("sonic/1.0"));
        assert!(!list.is_match("mozilla/5.0 (linux; viewsonic-viewpad7e) applewebkit/533.1"));
        let json = BotList::from_patterns(
            serde_json::from_str::<Vec<ListEntry>>(r#"[{"pattern": "Kaupr\\/", "instances": []}]"#)
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.pattern),
        );
        assert!(json.is_match("mozilla/5.0 (compatible; kaupr/1.0)"));
        assert!(BotList::built_in().len() > 1000);
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
        let straddle = format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36 {}",
            "é".repeat(600)
        );
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
