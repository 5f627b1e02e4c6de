//! Configuration: one plain struct, layered defaults → TOML file → `SPOORLOOS_*`
//! environment → command-line flags (the last two are handled by clap in `main.rs`,
//! which calls [`Overrides::apply`]). Everything is validated before start-up so a
//! bad value stops the collector with a message naming the key and the problem.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Months, NaiveDate};
use ipnet::IpNet;
use serde::Deserialize;

/// A configuration problem, always naming the key it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

/// What to do with hits that carry `Sec-GPC: 1`, `DNT: 1` or the script's `g` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PrivacySignalPolicy {
    /// Count the hit, but compute no visitor pseudonym and no session for it.
    #[default]
    Anonymous,
    /// Drop the hit (counted in `/metrics` as `privacy_signal`).
    Drop,
    /// Treat it like any other hit.
    Ignore,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The DuckDB file.
    pub database: PathBuf,
    /// Domains whose hits are accepted (`www.` is stripped before comparing).
    pub sites: Vec<String>,
    /// Peers whose forwarding headers are believed (addresses or CIDR networks).
    pub trusted_proxies: Vec<String>,
    /// A known-sources file in place of the built-in `assets/referrers/sources.tsv`
    /// (same format): which referrers and tags are named, and their channels.
    pub known_sources: Option<PathBuf>,
    pub geoip: GeoIpConfig,
    pub privacy: PrivacyConfig,
    pub filters: FilterConfig,
    pub limits: LimitsConfig,
    pub store: StoreConfig,
    pub retention: RetentionConfig,
    /// Stats API keys (hashes only).
    pub api_keys: Vec<ApiKeyConfig>,
    /// IANA time zone per site for the Stats API's dates and time buckets (default UTC).
    pub site_timezones: std::collections::BTreeMap<String, String>,
    pub dashboard: DashboardConfig,
    pub clickhouse: ClickHouseConfig,
}

/// A ClickHouse cluster (`spoorloos migrate-to-clickhouse` moves a store into it).
/// The password is read from a file or an environment variable, never from this
/// file, and is never logged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// Each shard's HTTP address, e.g. `http://10.0.0.5:8123`.
    pub nodes: Vec<String>,
    pub database: String,
    /// The cluster's name in the servers' `remote_servers`.
    pub cluster: String,
    pub user: String,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    /// How long one request may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            database: "spoorloos".into(),
            cluster: "spoorloos".into(),
            user: "default".into(),
            password_file: None,
            password_env: None,
            timeout_secs: 30,
        }
    }
}

impl ClickHouseConfig {
    /// The password, from `password_file` (its first line) or `password_env`.
    pub fn password(&self) -> Result<String, ConfigError> {
        match (&self.password_file, &self.password_env) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map(|text| text.lines().next().unwrap_or_default().to_owned())
                .map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                }),
            (None, Some(var)) => std::env::var(var).map_err(|_| {
                invalid(
                    "clickhouse.password_env",
                    format!("the environment variable {var:?} is not set"),
                )
            }),
            (None, None) => Ok(String::new()),
        }
    }
}

/// The dashboard at `/`: who may sign in, and the read-only links shared with others.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// Users declared here, beside those in `users_file`.
    pub users: Vec<DashboardUser>,
    /// Where the first-run setup link stores the users it creates [default: beside the
    /// database, `<database stem>.users.toml`].
    pub users_file: Option<PathBuf>,
    /// How long a sign-in lasts without being used, in hours.
    pub session_hours: u32,
    /// Read-only links, each opening one site's dashboard.
    pub shared_links: Vec<SharedLinkConfig>,
    /// The address people open the dashboard at, e.g. `https://stats.smtware.com`:
    /// the setup link is printed with it, forms from it are accepted behind a proxy
    /// that rewrites `Host`, and an `https` address marks the sign-in cookie `Secure`.
    pub public_url: Option<String>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            users_file: None,
            session_hours: 12,
            shared_links: Vec::new(),
            public_url: None,
        }
    }
}

/// A dashboard user: a name, the argon2 hash of the password (`spoorloos
/// hash-password`), and optionally the only sites the user may see.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DashboardUser {
    pub name: String,
    pub password_hash: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

/// A shared link: one site, and the blake3 digest of its token (`spoorloos
/// share-link`). Removing the entry revokes the link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedLinkConfig {
    pub name: String,
    pub site: String,
    pub token_hash: String,
}

/// A Stats API key: a name for the operator, the blake3 hex digest of the key
/// (`spoorloos hash-key`), and optionally the only sites it may read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    pub name: String,
    pub hash: String,
    #[serde(default)]
    pub sites: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GeoIpConfig {
    /// A country (or city) database: GeoIP2/GeoLite2 or the flat `country_code` layout.
    pub country: Option<PathBuf>,
    /// A GeoIP2 Connection-Type database.
    pub connection_type: Option<PathBuf>,
    /// Keep region and city as well as the country (needs a city database).
    pub city: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    pub signals: PrivacySignalPolicy,
    /// Hash only the network of the IP: prefix length for IPv4 (e.g. 24) …
    pub ipv4_prefix: u8,
    /// … and for IPv6 (e.g. 48). 32 / 128 keep the whole address.
    pub ipv6_prefix: u8,
    /// Inactivity that ends a session, in minutes.
    pub session_timeout_minutes: u32,
    /// Active sessions kept in memory at most (≈ 40 bytes each); past it the
    /// coldest are forgotten first.
    pub max_sessions: usize,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            signals: PrivacySignalPolicy::Anonymous,
            ipv4_prefix: 32,
            ipv6_prefix: 128,
            session_timeout_minutes: 30,
            max_sessions: crate::pseudonymise::session::DEFAULT_MAX_SESSIONS,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// A referrer-spam host list, one host a line (e.g. Matomo's `spammers.txt`).
    pub referrer_spam_list: Option<PathBuf>,
    /// A crawler User-Agent pattern list in place of the built-in copy: one regular
    /// expression a line, or `crawler-user-agents.json` as the project publishes it.
    pub bot_list: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    /// Request bodies held in memory at once, all requests together (bytes).
    pub max_buffered_body_bytes: usize,
    /// HTTP/2 requests one connection may have under way at once.
    pub max_streams_per_connection: u32,
    pub max_connections: usize,
    pub max_headers: usize,
    pub header_read_timeout_secs: u64,
    pub request_timeout_secs: u64,
    /// A connection with no request under way for this long is closed gracefully.
    pub idle_timeout_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            max_buffered_body_bytes: 32 * 1024 * 1024,
            max_streams_per_connection: 16,
            max_connections: 4096,
            max_headers: 64,
            header_read_timeout_secs: 10,
            request_timeout_secs: 15,
            idle_timeout_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days pseudonymous events are kept before they are deleted (and compacted away).
    pub event_days: u32,
    /// Months anonymous daily aggregates are kept.
    pub aggregate_months: u32,
    /// Minimum crowd size: aggregate rows with fewer visitors become `(other)`.
    pub min_crowd: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        let d = Lifecycle::default();
        Self {
            event_days: d.event_retention_days,
            aggregate_months: d.aggregate_retention_months,
            min_crowd: d.min_crowd,
        }
    }
}

impl RetentionConfig {
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            event_retention_days: self.event_days,
            aggregate_retention_months: self.aggregate_months,
            min_crowd: self.min_crowd,
            ..Lifecycle::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Events waiting for the writer; beyond this, hits are dropped as `overload`.
    pub queue_capacity: usize,
    /// Events per append; a backlog goes in commits of up to four batches.
    pub batch_size: usize,
    /// The longest an accepted event waits before it is written, in milliseconds.
    pub flush_interval_ms: u64,
    /// DuckDB's memory limit in MiB while only the writer appends (its buffer
    /// pool; what does not fit spills to `<database>.tmp/`).
    pub memory_limit_mb: Option<u32>,
    /// DuckDB's memory limit in MiB for the big work (a query, sealing, the roll-up,
    /// retention, compaction, opening the file), when above `memory_limit_mb`: big
    /// groupings and checkpoints after big deletes need more than ingestion.
    pub query_memory_limit_mb: Option<u32>,
    /// DuckDB's worker threads while only the writer appends. One keeps its
    /// checkpoint work on the writer thread, where it runs in the background; more
    /// cost request latency under load (docs/load.md).
    pub threads: u32,
    /// DuckDB's threads for the big work (as `query_memory_limit_mb`), and how many
    /// stats queries run at once; absent: one per core.
    pub query_threads: Option<u32>,
    /// The write-ahead log size in MiB at which a commit checkpoints (DuckDB's
    /// `wal_autocheckpoint`). Each checkpoint has a cost of its own beside the rows
    /// it writes, so rarer ones make appends cheaper; a crash replays up to this
    /// much at the next start.
    pub wal_autocheckpoint_mb: u32,
}

impl StoreConfig {
    /// `query_threads`, or one per core: DuckDB's threads for the big work, and the
    /// number of stats queries that run at once.
    pub fn query_threads(&self) -> u32 {
        self.query_threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        })
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            // Two seconds at 24k hits/s, three and a half at half that: a DuckDB
            // checkpoint fits in it without a drop at half peak (a queue of 16,384
            // dropped hits at 24k/s). A queued event is packed, ≈ 0.15 KiB; 65,536 held
            // 10 MiB more at a sustained overload with 64 MiB checkpoints.
            queue_capacity: 49_152,
            batch_size: 4096,
            flush_interval_ms: 500,
            // While only the writer appends: DuckDB's own default (80 % of the
            // machine) put 336 MiB of RSS under peak load, 64 MiB ≈ 155 MiB, 32 MiB
            // ≈ 125 MiB at the same peak rate (docs/load.md).
            memory_limit_mb: Some(32),
            // Rolling up a day of 333k events (10M a month) needs about 256 MiB,
            // of 3.3M events about 1 GiB (docs/figures.md); a quiet site takes far
            // less.
            query_memory_limit_mb: Some(1024),
            threads: 1,
            query_threads: None,
            wal_autocheckpoint_mb: 64,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("spoorloos.duckdb"),
            sites: vec!["localhost".into(), "127.0.0.1".into()],
            trusted_proxies: Vec::new(),
            known_sources: None,
            geoip: GeoIpConfig::default(),
            privacy: PrivacyConfig::default(),
            filters: FilterConfig::default(),
            limits: LimitsConfig::default(),
            store: StoreConfig::default(),
            retention: RetentionConfig::default(),
            api_keys: Vec::new(),
            site_timezones: std::collections::BTreeMap::new(),
            dashboard: DashboardConfig::default(),
            clickhouse: ClickHouseConfig::default(),
        }
    }
}

/// Values from flags or the environment, which win over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub database: Option<PathBuf>,
    pub sites: Vec<String>,
    pub trusted_proxies: Vec<String>,
    pub geoip_country: Option<PathBuf>,
    pub geoip_connection_type: Option<PathBuf>,
    pub referrer_spam_list: Option<PathBuf>,
    pub privacy_signals: Option<PrivacySignalPolicy>,
}

impl Overrides {
    pub fn apply(self, config: &mut Config) {
        if let Some(v) = self.listen {
            config.listen = v;
        }
        if let Some(v) = self.database {
            config.database = v;
        }
        if !self.sites.is_empty() {
            config.sites = self.sites;
        }
        if !self.trusted_proxies.is_empty() {
            config.trusted_proxies = self.trusted_proxies;
        }
        if let Some(v) = self.geoip_country {
            config.geoip.country = Some(v);
        }
        if let Some(v) = self.geoip_connection_type {
            config.geoip.connection_type = Some(v);
        }
        if let Some(v) = self.referrer_spam_list {
            config.filters.referrer_spam_list = Some(v);
        }
        if let Some(v) = self.privacy_signals {
            config.privacy.signals = v;
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses TOML text over the defaults; the error names the key and line.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// Checks every value and normalises the site list.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        if self.sites.is_empty() {
            return Err(invalid("sites", "at least one site domain is required"));
        }
        for (i, site) in self.sites.iter_mut().enumerate() {
            let normal = normalise_site(site).ok_or_else(|| {
                invalid(
                    format!("sites[{i}]"),
                    format!("{site:?} is not a domain name"),
                )
            })?;
            *site = normal;
        }
        for (i, proxy) in self.trusted_proxies.iter().enumerate() {
            let net = parse_network(proxy).ok_or_else(|| {
                invalid(
                    format!("trusted_proxies[{i}]"),
                    format!("{proxy:?} is not an IP address or CIDR network"),
                )
            })?;
            if net.prefix_len() == 0 {
                return Err(invalid(
                    format!("trusted_proxies[{i}]"),
                    format!(
                        "{proxy:?} trusts every address: any visitor could choose the address \
                         (and with it the pseudonym and country) it is counted under; list \
                         your proxies' addresses or networks"
                    ),
                ));
            }
        }
        if self.privacy.ipv4_prefix == 0 || self.privacy.ipv4_prefix > 32 {
            return Err(invalid("privacy.ipv4_prefix", "must be between 1 and 32"));
        }
        if self.privacy.ipv6_prefix == 0 || self.privacy.ipv6_prefix > 128 {
            return Err(invalid("privacy.ipv6_prefix", "must be between 1 and 128"));
        }
        if !(1..=24 * 60).contains(&self.privacy.session_timeout_minutes) {
            return Err(invalid(
                "privacy.session_timeout_minutes",
                "must be between 1 and 1440",
            ));
        }
        let positive = [
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_connections", self.limits.max_connections),
            ("limits.max_headers", self.limits.max_headers),
            ("store.queue_capacity", self.store.queue_capacity),
            ("privacy.max_sessions", self.privacy.max_sessions),
            ("store.batch_size", self.store.batch_size),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.limits.max_buffered_body_bytes < self.limits.max_body_bytes {
            return Err(invalid(
                "limits.max_buffered_body_bytes",
                "must be at least limits.max_body_bytes",
            ));
        }
        if !(1..=1000).contains(&self.limits.max_streams_per_connection) {
            return Err(invalid(
                "limits.max_streams_per_connection",
                "must be between 1 and 1000",
            ));
        }
        if !(1..=3650).contains(&self.retention.event_days) {
            return Err(invalid(
                "retention.event_days",
                "must be between 1 and 3650",
            ));
        }
        if !(1..=1200).contains(&self.retention.aggregate_months) {
            return Err(invalid(
                "retention.aggregate_months",
                "must be between 1 and 1200",
            ));
        }
        if self.retention.min_crowd == 0 {
            return Err(invalid("retention.min_crowd", "must be at least 1"));
        }
        if self.store.memory_limit_mb.is_some_and(|mb| mb < 32) {
            return Err(invalid("store.memory_limit_mb", "must be at least 32"));
        }
        if self.store.query_memory_limit_mb.is_some_and(|mb| mb < 32) {
            return Err(invalid(
                "store.query_memory_limit_mb",
                "must be at least 32",
            ));
        }
        if !(1..=4096).contains(&self.store.wal_autocheckpoint_mb) {
            return Err(invalid(
                "store.wal_autocheckpoint_mb",
                "must be between 1 and 4096",
            ));
        }
        if !(1..=1024).contains(&self.store.threads) {
            return Err(invalid("store.threads", "must be between 1 and 1024"));
        }
        if self
            .store
            .query_threads
            .is_some_and(|n| !(1..=1024).contains(&n))
        {
            return Err(invalid("store.query_threads", "must be between 1 and 1024"));
        }
        let timeouts = [
            (
                "limits.header_read_timeout_secs",
                self.limits.header_read_timeout_secs,
            ),
            (
                "limits.request_timeout_secs",
                self.limits.request_timeout_secs,
            ),
            ("limits.idle_timeout_secs", self.limits.idle_timeout_secs),
        ];
        for (key, secs) in timeouts {
            // 0 would close every connection at once.
            if !(1..=3600).contains(&secs) {
                return Err(invalid(key, "must be between 1 and 3600"));
            }
        }
        if !(10..=60_000).contains(&self.store.flush_interval_ms) {
            return Err(invalid(
                "store.flush_interval_ms",
                "must be between 10 and 60000",
            ));
        }
        let files = [
            ("geoip.country", &self.geoip.country),
            ("geoip.connection_type", &self.geoip.connection_type),
            (
                "filters.referrer_spam_list",
                &self.filters.referrer_spam_list,
            ),
            ("filters.bot_list", &self.filters.bot_list),
            ("known_sources", &self.known_sources),
        ];
        for (key, path) in files {
            if let Some(path) = path
                && !path.is_file()
            {
                return Err(invalid(key, format!("no such file: {}", path.display())));
            }
        }
        self.validate_stats_api()?;
        if self.database.as_os_str().is_empty() {
            return Err(invalid("database", "must be a file path"));
        }
        Ok(self)
    }

    fn validate_stats_api(&mut self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for (i, key) in self.api_keys.iter_mut().enumerate() {
            let at = format!("api_keys[{i}] ({:?})", key.name);
            if key.name.trim().is_empty() {
                return Err(invalid(format!("api_keys[{i}].name"), "must not be empty"));
            }
            if !names.insert(key.name.clone()) {
                return Err(invalid(format!("{at}.name"), "is used twice"));
            }
            if blake3::Hash::from_hex(key.hash.trim()).is_err() {
                // Never echo the value: it may be a key pasted by mistake.
                return Err(invalid(
                    format!("{at}.hash"),
                    "must be the 64-hex-digit digest printed by `spoorloos hash-key`",
                ));
            }
            for (j, site) in key.sites.iter_mut().enumerate() {
                *site = normalise_site(site).ok_or_else(|| {
                    invalid(
                        format!("{at}.sites[{j}]"),
                        format!("{site:?} is not a domain name"),
                    )
                })?;
            }
        }
        let mut zones = std::collections::BTreeMap::new();
        for (site, zone) in &self.site_timezones {
            let key = format!("site_timezones.{site:?}");
            let site = normalise_site(site)
                .ok_or_else(|| invalid(&key, format!("{site:?} is not a domain name")))?;
            if zone.parse::<chrono_tz::Tz>().is_err() {
                return Err(invalid(
                    &key,
                    format!("{zone:?} is not an IANA time zone (e.g. \"Europe/Amsterdam\")"),
                ));
            }
            zones.insert(site, zone.clone());
        }
        self.site_timezones = zones;
        self.validate_dashboard()
    }

    fn validate_dashboard(&mut self) -> Result<(), ConfigError> {
        let d = &mut self.dashboard;
        if !(1..=24 * 90).contains(&d.session_hours) {
            return Err(invalid(
                "dashboard.session_hours",
                "must be between 1 and 2160",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, user) in d.users.iter_mut().enumerate() {
            let at = format!("dashboard.users[{i}]");
            if user.name.trim().is_empty() || user.name.chars().any(char::is_control) {
                return Err(invalid(format!("{at}.name"), "must be a non-empty name"));
            }
            if !names.insert(user.name.clone()) {
                return Err(invalid(format!("{at}.name"), "is used twice"));
            }
            if argon2::PasswordHash::new(user.password_hash.trim()).is_err() {
                return Err(invalid(
                    format!("{at}.password_hash"),
                    "must be the argon2 hash printed by `spoorloos hash-password`",
                ));
            }
            for (j, site) in user.sites.iter_mut().enumerate() {
                *site = normalise_site(site).ok_or_else(|| {
                    invalid(
                        format!("{at}.sites[{j}]"),
                        format!("{site:?} is not a domain name"),
                    )
                })?;
            }
        }
        for (i, link) in d.shared_links.iter_mut().enumerate() {
            let at = format!("dashboard.shared_links[{i}]");
            link.site = normalise_site(&link.site)
                .filter(|s| self.sites.contains(s))
                .ok_or_else(|| {
                    invalid(
                        format!("{at}.site"),
                        format!("{:?} is not a configured site", link.site),
                    )
                })?;
            if blake3::Hash::from_hex(link.token_hash.trim()).is_err() {
                return Err(invalid(
                    format!("{at}.token_hash"),
                    "must be the 64-hex-digit digest printed by `spoorloos share-link`",
                ));
            }
        }
        if let Some(url) = &d.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "dashboard.public_url",
                format!("{url:?} is not an http(s) address"),
            ));
        }
        Ok(())
    }

    /// Where the dashboard users created through the setup link are kept.
    pub fn users_file(&self) -> PathBuf {
        self.dashboard.users_file.clone().unwrap_or_else(|| {
            let stem = self
                .database
                .file_stem()
                .map_or_else(|| "spoorloos".into(), |s| s.to_string_lossy().into_owned());
            self.database.with_file_name(format!("{stem}.users.toml"))
        })
    }

    /// The time zone of `site` for the Stats API (UTC unless configured).
    pub fn site_timezone(&self, site: &str) -> chrono_tz::Tz {
        self.site_timezones
            .get(site)
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }

    pub fn trusted_networks(&self) -> Vec<IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| parse_network(p))
            .collect()
    }

    /// Inactivity that ends a session.
    pub fn session_timeout(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.privacy.session_timeout_minutes))
    }

    pub fn flush_interval(&self) -> Duration {
        Duration::from_millis(self.store.flush_interval_ms)
    }
}

/// A network or single address; one written in IPv4-mapped IPv6 form
/// (`::ffff:10.0.0.0/104`) is the IPv4 network it maps, as peers are compared.
fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    let net = text
        .parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))?;
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && v6.prefix_len() >= 96
    {
        return ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
            .ok()
            .map(IpNet::V4);
    }
    Some(net)
}

/// Lower-cases a site domain and strips `www.`; `None` when it is not a host name.
pub fn normalise_site(site: &str) -> Option<String> {
    let site = site.trim().trim_end_matches('.').to_ascii_lowercase();
    let site = site.strip_prefix("www.").unwrap_or(&site).to_owned();
    let valid = !site.is_empty()
        && site.len() <= 253
        && site.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    valid.then_some(site)
}

/// Retention and anonymity settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// Days pseudonymous events are kept (today included).
    pub event_retention_days: u32,
    /// Months anonymous aggregates are kept.
    pub aggregate_retention_months: u32,
    /// Aggregate rows with fewer visitors are folded into `(other)`.
    pub min_crowd: u32,
    /// A visit ends after this long without an event; a day is sealed after that.
    pub session_timeout: chrono::Duration,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            // The dashboard's "30d" reads today and the 30 days before it: kept
            // whole, its every filter and breakdown is answered exactly.
            event_retention_days: 31,
            aggregate_retention_months: 25,
            min_crowd: 5,
            session_timeout: chrono::Duration::minutes(30),
        }
    }
}

impl Lifecycle {
    /// The first day whose events are kept.
    pub fn events_from(&self, today: NaiveDate) -> NaiveDate {
        today - chrono::Days::new(u64::from(self.event_retention_days.saturating_sub(1)))
    }

    /// The first day whose events are stamped too far ahead to be kept: from the day
    /// after tomorrow on, only a clock that went back (after running ahead) stamps
    /// them, and their pseudonyms would outlive their salts by as long as it ran
    /// ahead. The lifecycle retires such days as if their events had expired.
    pub fn future_from(&self, today: NaiveDate) -> NaiveDate {
        today + chrono::Days::new(2)
    }

    /// The first day whose aggregates are kept.
    pub fn aggregates_from(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_months(Months::new(self.aggregate_retention_months))
            .unwrap_or(NaiveDate::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml: &str, expected_error: &str) {
        let result = Config::from_toml(toml)
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()));
        match result {
            Ok(_) => panic!("expected an error containing {expected_error:?}"),
            Err(e) => assert!(e.contains(expected_error), "{e:?} lacks {expected_error:?}"),
        }
    }

    /// A proxy written in IPv4-mapped IPv6 form is the IPv4 network it maps, as
    /// peers are compared.
    #[test]
    fn mapped_proxies_are_their_ipv4_networks() {
        let config =
            Config::from_toml("trusted_proxies = [\"::ffff:10.0.0.0/104\", \"::ffff:192.0.2.1\"]")
                .expect("config");
        let expected: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().expect("net"),
            "192.0.2.1/32".parse().expect("net"),
        ];
        assert_eq!(config.trusted_networks(), expected);
    }

    #[test]
    fn bad_values_name_their_key() {
        check("sites = [\"exa mple\"]", "sites[0]");
        check("sites = []", "sites");
        check("trusted_proxies = [\"10.0.0.0/99\"]", "trusted_proxies[0]");
        check("trusted_proxies = [\"0.0.0.0/0\"]", "trusts every address");
        check(
            "[limits]\nmax_buffered_body_bytes = 10",
            "limits.max_buffered_body_bytes",
        );
        check(
            "[limits]\nmax_streams_per_connection = 0",
            "limits.max_streams_per_connection",
        );
        check(
            "trusted_proxies = [\"10.0.0.1\", \"::/0\"]",
            "trusted_proxies[1]",
        );
        check("listen = \"nope\"", "listen");
        check("[privacy]\nipv4_prefix = 0", "privacy.ipv4_prefix");
        check("[privacy]\nsignals = \"maybe\"", "signals");
        check("nonsense = 1", "nonsense");
        check("[geoip]\ncountry = \"/no/such.mmdb\"", "geoip.country");
        check("[store]\nbatch_size = 0", "store.batch_size");
        check("[store]\nthreads = 0", "store.threads");
        check(
            "[store]\nwal_autocheckpoint_mb = 0",
            "store.wal_autocheckpoint_mb",
        );
        check("[store]\nquery_threads = 0", "store.query_threads");
        check(
            "[store]\nquery_memory_limit_mb = 8",
            "store.query_memory_limit_mb",
        );
        check("[retention]\nevent_days = 0", "retention.event_days");
        check(
            "[limits]\nheader_read_timeout_secs = 0",
            "limits.header_read_timeout_secs",
        );
        check(
            "[limits]\nidle_timeout_secs = 86400",
            "limits.idle_timeout_secs",
        );
        check(
            "[[api_keys]]\nname = \"bi\"\nhash = \"abc\"",
            "api_keys[0] (\"bi\").hash",
        );
        let hash = "0".repeat(64);
        check(
            &format!("[[api_keys]]\nname = \"bi\"\nhash = \"{hash}\"\nsites = [\"a b\"]"),
            "api_keys[0] (\"bi\").sites[0]",
        );
        check(
            "[site_timezones]\n\"example.org\" = \"Mars/Olympus\"",
            "site_timezones.\"example.org\"",
        );
    }

    #[test]
    fn defaults_validate_and_sites_normalise() {
        let config = Config::from_toml("sites = [\"WWW.Example.org\"]")
            .and_then(|c| c.validate().map_err(|e| e.to_string()));
        assert_eq!(config.map(|c| c.sites), Ok(vec!["example.org".to_owned()]));
        assert!(Config::default().validate().is_ok());
    }
}
