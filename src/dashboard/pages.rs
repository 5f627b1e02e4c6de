//! The dashboard's HTML and its embedded assets. The sign-in and setup pages are
//! plain forms that work without JavaScript; the dashboard itself is one page whose
//! script (`assets/dashboard/app.js`) asks the Stats API engine. Everything that
//! comes from a request or the config is HTML-escaped; no page has inline script or
//! style, so the Content-Security-Policy allows only this origin's files.

/// Escapes text for a double-quoted HTML attribute or an element body.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(text)
}

/// The dashboard's files, embedded: path under `/dashboard/`, content type, body.
const ASSETS: [(&str, &str, &str); 4] = [
    (
        "app.js",
        "application/javascript; charset=utf-8",
        include_str!("../../assets/dashboard/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/dashboard/app.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../assets/dashboard/icon.svg"),
    ),
    // Natural Earth's countries, projected once (assets/dashboard/build/world.mjs).
    (
        "world.json",
        "application/json",
        include_str!("../../assets/dashboard/world.json"),
    ),
];

/// Each asset gzipped, made once on first use.
static GZIPPED: [std::sync::OnceLock<Vec<u8>>; 4] = [const { std::sync::OnceLock::new() }; 4];

/// An embedded file: its content type, body, and the body gzipped (if that could
/// be made).
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
    pub gzipped: Option<&'static [u8]>,
}

/// The embedded file at `/dashboard/<name>`.
pub fn asset(name: &str) -> Option<Asset> {
    let i = ASSETS.iter().position(|(n, _, _)| *n == name)?;
    let (_, content_type, body) = ASSETS[i];
    let gzipped = GZIPPED[i].get_or_init(|| gzip(body.as_bytes()).unwrap_or_default());
    Some(Asset {
        content_type,
        body: body.as_bytes(),
        gzipped: (!gzipped.is_empty()).then_some(gzipped.as_slice()),
    })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Sent with every dashboard page: only this origin's scripts, styles, images and
/// requests; no frames, no plugins, forms only to here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The two languages of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    /// From `?lang=` if given, else the browser's first preference among ours.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        match query {
            Some("nl") => return Lang::Nl,
            Some("en") => return Lang::En,
            _ => {}
        }
        let accept = accept_language.unwrap_or_default().to_ascii_lowercase();
        for part in accept.split(',') {
            let tag = part.split(';').next().unwrap_or_default().trim();
            if tag.starts_with("nl") {
                return Lang::Nl;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }
}

/// What a sign-in or setup form says back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    None,
    WrongPassword,
    TooMany(u64),
    SignedOut,
    NoUsersYet,
    BadName,
    BadPassword,
    SetupUsed,
    Failed,
}

fn notice_text(lang: Lang, notice: Notice) -> Option<String> {
    let text = match (lang, notice) {
        (_, Notice::None) => return None,
        (Lang::En, Notice::WrongPassword) => "That name and password do not match.".into(),
        (Lang::Nl, Notice::WrongPassword) => {
            "Die naam en dat wachtwoord horen niet bij elkaar.".into()
        }
        (Lang::En, Notice::TooMany(s)) => format!("Too many attempts. Try again in {s} seconds."),
        (Lang::Nl, Notice::TooMany(s)) => {
            format!("Te veel pogingen. Probeer het over {s} seconden opnieuw.")
        }
        (Lang::En, Notice::SignedOut) => "You are signed out.".into(),
        (Lang::Nl, Notice::SignedOut) => "Je bent uitgelogd.".into(),
        (Lang::En, Notice::NoUsersYet) => "No one can sign in yet. Open the setup link that \
            Spoorloos printed when it started, and create the first user there."
            .into(),
        (Lang::Nl, Notice::NoUsersYet) => "Er kan nog niemand inloggen. Open de instellink die \
            Spoorloos bij het starten toonde, en maak daar de eerste gebruiker aan."
            .into(),
        (Lang::En, Notice::BadName) => "Choose a name of at most 64 characters.".into(),
        (Lang::Nl, Notice::BadName) => "Kies een naam van hoogstens 64 tekens.".into(),
        (Lang::En, Notice::BadPassword) => format!(
            "Choose a password of at least {} characters.",
            super::users::MIN_PASSWORD
        ),
        (Lang::Nl, Notice::BadPassword) => format!(
            "Kies een wachtwoord van minstens {} tekens.",
            super::users::MIN_PASSWORD
        ),
        (Lang::En, Notice::SetupUsed) => "This setup link has been used already. Sign in \
            with the user it created."
            .into(),
        (Lang::Nl, Notice::SetupUsed) => "Deze instellink is al gebruikt. Log in met de \
            gebruiker die ermee is aangemaakt."
            .into(),
        (Lang::En, Notice::Failed) => "That did not work; the collector's log says why.".into(),
        (Lang::Nl, Notice::Failed) => {
            "Dat is niet gelukt; het logboek van de collector zegt waarom.".into()
        }
    };
    Some(text)
}

fn shell(lang: Lang, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{title}</title>
<link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css">
</head>
<body class="form-page">
<main class="card">
<h1 class="brand"><img src="/dashboard/icon.svg" alt="" width="28" height="28"> Spoorloos</h1>
{body}
</main>
</body></html>
"#,
        lang = lang.code(),
        title = escape(title),
    )
}

fn notice_html(lang: Lang, notice: Notice) -> String {
    notice_text(lang, notice).map_or_else(String::new, |t| {
        format!(r#"<p class="notice" role="alert">{}</p>"#, escape(&t))
    })
}

fn other_lang_link(lang: Lang, path: &str) -> String {
    let (code, label) = match lang {
        Lang::En => ("nl", "Nederlands"),
        Lang::Nl => ("en", "English"),
    };
    format!(
        r#"<p class="lang"><a href="{}?lang={code}" hreflang="{code}">{label}</a></p>"#,
        escape(path)
    )
}

/// The sign-in form.
pub fn login(lang: Lang, notice: Notice, name: &str) -> String {
    let (title, name_label, password_label, button) = match lang {
        Lang::En => ("Sign in", "Name", "Password", "Sign in"),
        Lang::Nl => ("Inloggen", "Naam", "Wachtwoord", "Inloggen"),
    };
    let body = format!(
        r#"<h2>{title}</h2>
{notice}
<form method="post" action="/login">
<input type="hidden" name="lang" value="{code}">
<label for="name">{name_label}</label>
<input id="name" name="name" autocomplete="username" required autofocus value="{name}">
<label for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{button}</button>
</form>
{other}"#,
        notice = notice_html(lang, notice),
        code = lang.code(),
        name = escape(name),
        other = other_lang_link(lang, "/login"),
    );
    shell(lang, &format!("{title} · Spoorloos"), &body)
}

/// The first-run form that creates the first user.
pub fn setup(lang: Lang, notice: Notice, token: &str) -> String {
    let (title, intro, name_label, password_label, button) = match lang {
        Lang::En => (
            "Create the first user",
            "Choose a name and a password of at least 10 characters. This link works once; \
             more users go in the configuration (spoorloos hash-password).",
            "Name",
            "Password",
            "Create and sign in",
        ),
        Lang::Nl => (
            "Maak de eerste gebruiker aan",
            "Kies een naam en een wachtwoord van minstens 10 tekens. Deze link werkt één keer; \
             meer gebruikers zet je in de configuratie (spoorloos hash-password).",
            "Naam",
            "Wachtwoord",
            "Aanmaken en inloggen",
        ),
    };
    let body = format!(
        r#"<h2>{title}</h2>
<p>{intro}</p>
{notice}
<form method="post" action="/setup">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="lang" value="{code}">
<label for="name">{name_label}</label>
<input id="name" name="name" autocomplete="username" required autofocus maxlength="64">
<label for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="10">
<button type="submit">{button}</button>
</form>"#,
        intro = escape(intro),
        notice = notice_html(lang, notice),
        token = escape(token),
        code = lang.code(),
    );
    shell(lang, &format!("{title} · Spoorloos"), &body)
}

/// What the dashboard's script needs to start: who is looking, at which sites.
pub struct Boot<'a> {
    pub lang: Lang,
    /// The signed-in user's name; `None` on a shared link.
    pub user: Option<&'a str>,
    /// The CSRF token of the sign-in.
    pub csrf: &'a str,
    /// A shared link's token, sent back with every query.
    pub share: Option<&'a str>,
    /// The sites the viewer may see.
    pub sites: Vec<BootSite>,
    /// The first day with event-level data (older days: anonymous daily totals).
    pub events_from: String,
    /// Whether regions and cities are kept.
    pub places: bool,
    /// The collector's clock (UTC, RFC 3339): a live view asks for the minutes
    /// before it.
    pub now: String,
}

/// A site as the script starts with it.
pub struct BootSite {
    pub site: String,
    /// Today in the site's time zone.
    pub today: String,
    /// The site's IANA time zone: the script finds the site's current hour with it.
    pub tz: String,
}

/// The dashboard page: a shell the script fills. The boot facts travel in data
/// attributes (escaped), since no inline script is allowed.
pub fn app(boot: &Boot<'_>) -> String {
    let sites: Vec<serde_json::Value> = boot
        .sites
        .iter()
        .map(|s| serde_json::json!({"site": s.site, "today": s.today, "tz": s.tz}))
        .collect();
    let noscript = match boot.lang {
        Lang::En => "The dashboard needs JavaScript.",
        Lang::Nl => "Het dashboard heeft JavaScript nodig.",
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Spoorloos</title>
<link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css">
<script defer src="/dashboard/app.js"></script>
</head>
<body data-lang="{lang}" data-user="{user}" data-csrf="{csrf}" data-share="{share}" data-sites="{sites}" data-events-from="{events_from}" data-places="{places}" data-now="{now}">
<noscript><p class="notice">{noscript}</p></noscript>
<div id="app"></div>
</body></html>
"#,
        lang = boot.lang.code(),
        user = escape(boot.user.unwrap_or_default()),
        csrf = escape(boot.csrf),
        share = escape(boot.share.unwrap_or_default()),
        sites = escape(&serde_json::Value::Array(sites).to_string()),
        events_from = escape(&boot.events_from),
        places = u8::from(boot.places),
        now = escape(&boot.now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_the_link_then_the_browser() {
        assert_eq!(
            Lang::choose(None, Some("nl-NL,nl;q=0.9,en;q=0.8")),
            Lang::Nl
        );
        assert_eq!(
            Lang::choose(None, Some("de-DE,en;q=0.5,nl;q=0.2")),
            Lang::En
        );
        assert_eq!(Lang::choose(Some("en"), Some("nl")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }

    #[test]
    fn what_comes_from_outside_is_escaped() {
        let page = login(Lang::En, Notice::WrongPassword, "<script>alert(1)</script>");
        assert!(!page.contains("<script>alert"));
        let page = app(&Boot {
            lang: Lang::Nl,
            user: Some("\"><img src=x onerror=alert(1)>"),
            csrf: "c",
            share: None,
            sites: vec![BootSite {
                site: "a\"b.example".into(),
                today: "2026-12-07".into(),
                tz: "Europe/Amsterdam".into(),
            }],
            events_from: "2026-11-07".into(),
            places: false,
            now: "2026-12-07T10:00:00Z".into(),
        });
        assert!(!page.contains("<img src=x"));
        assert!(!page.contains("\"b.example"));
    }
}
