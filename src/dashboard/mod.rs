//! Dashboard: who may open the pages at `/`, and the pages themselves. It knows
//! people (dashboard users, their sign-ins, shared links), never visitors: the numbers
//! come from the Stats API engine ([`crate::query::api`]) with the same limits, keys
//! and crowd-size folding as any API client, so the dashboard can never show more
//! than the API allows.
//!
//! [`users`] keeps the users and their argon2 password hashes, [`sessions`] the
//! sign-ins (in memory: a restart signs everyone out), [`pages`] the HTML and the
//! embedded assets.

pub mod pages;
pub mod sessions;
pub mod users;

use std::time::Duration;

use crate::config::Config;

pub use sessions::{Session, Sessions};
pub use users::{Users, UsersError};

/// Who opened a dashboard page, once the request's cookie or link is checked.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A signed-in user; `sites` empty: every site.
    User(Session),
    /// A shared link: that one site, read-only.
    Shared { site: String, token: String },
}

impl Viewer {
    /// The sites this viewer may read, `None` for every configured site.
    pub fn sites(&self) -> Option<&[String]> {
        match self {
            Viewer::User(session) if session.sites.is_empty() => None,
            Viewer::User(session) => Some(&session.sites),
            Viewer::Shared { site, .. } => Some(std::slice::from_ref(site)),
        }
    }
}

/// The dashboard's state: users, sign-ins, shared links, and the one-time setup
/// token while no user exists.
pub struct Dashboard {
    pub users: Users,
    pub sessions: Sessions,
    /// blake3 digests of shared-link tokens, with their site.
    shared: Vec<(blake3::Hash, String)>,
    /// Whether the sign-in cookie is marked `Secure` (the public address is https).
    pub secure_cookie: bool,
    /// "What we store", from the running configuration: English and Dutch Markdown.
    pub privacy: (String, String),
    /// When this collector started (UTC, RFC 3339): the data-quality counts are since.
    pub started: String,
    /// Whether visits keep a region and a city (`geoip.city`).
    pub places: bool,
    /// The origin (`scheme://host[:port]`) of `dashboard.public_url`, which forms
    /// may come from.
    pub public_origin: Option<String>,
}

/// Random bytes as lowercase hex: tokens for sessions, CSRF and setup links.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether a presented token is the expected one, compared as blake3 digests (equal
/// in constant time) so timing tells nothing about near misses. An empty expected
/// token matches nothing.
pub fn same_token(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && blake3::hash(presented.as_bytes()) == blake3::hash(expected.as_bytes())
}

/// The digest kept in the config for a shared-link token.
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.trim().as_bytes()).to_hex().to_string()
}

impl Dashboard {
    /// "What we store", in `lang`.
    pub fn privacy(&self, lang: pages::Lang) -> &str {
        match lang {
            pages::Lang::En => &self.privacy.0,
            pages::Lang::Nl => &self.privacy.1,
        }
    }

    /// From the validated config; reads the users file.
    pub fn new(config: &Config) -> Result<Self, UsersError> {
        let users = Users::load(config.dashboard.users.clone(), config.users_file())?;
        let shared = config
            .dashboard
            .shared_links
            .iter()
            .filter_map(|l| {
                Some((
                    blake3::Hash::from_hex(l.token_hash.trim()).ok()?,
                    l.site.clone(),
                ))
            })
            .collect();
        let idle = Duration::from_secs(u64::from(config.dashboard.session_hours) * 3600);
        Ok(Self {
            users,
            sessions: Sessions::new(idle),
            shared,
            privacy: (
                crate::report::privacy::statement(config, crate::report::privacy::Lang::En),
                crate::report::privacy::statement(config, crate::report::privacy::Lang::Nl),
            ),
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            places: config.geoip.city && config.geoip.country.is_some(),
            public_origin: config
                .dashboard
                .public_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .map(|u| u.origin().ascii_serialization()),
            secure_cookie: config
                .dashboard
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
        })
    }

    /// The site a shared-link token opens. Every digest is compared (`blake3::Hash`
    /// equality is constant-time), so timing tells nothing about near misses.
    pub fn shared_site(&self, token: &str) -> Option<String> {
        let presented = blake3::hash(token.trim().as_bytes());
        let mut found = None;
        for (hash, site) in &self.shared {
            if *hash == presented {
                found = Some(site.clone());
            }
        }
        found
    }
}
