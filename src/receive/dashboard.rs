//! The dashboard's HTTP side: sign-in, setup and sign-out forms, the page, its
//! assets, shared links, and the two API paths the page's script asks
//! (`/dashboard/api/query`, the Stats API v2 body; `/dashboard/api/v1/stats/*`).
//! Who asks is settled here (cookie and CSRF token, or a shared link's token) and
//! handed to the engine as an [`Access`]; the engine applies the same limits as for
//! API keys.
//!
//! Cross-site requests: the cookie is `SameSite=Strict`, every form and API POST
//! must come from this origin (`Origin` / `Sec-Fetch-Site`), and a signed-in POST
//! must also carry the sign-in's CSRF token.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::State;
use super::body;
use super::client_ip::client_ip;
use crate::dashboard::pages::{self, Boot, BootSite, Lang, Notice};
use crate::dashboard::sessions::COOKIE;
use crate::dashboard::{Session, UsersError, Viewer, same_token};
use crate::query::api::{Access, Answer};

type Resp = Response<Full<Bytes>>;

/// The header a signed-in page sends its CSRF token in.
const CSRF_HEADER: &str = "x-spoorloos-csrf";
/// The header a shared-link page sends its token in.
const SHARE_HEADER: &str = "x-spoorloos-share";
/// Forms are small; a bigger body is refused unread.
const MAX_FORM: usize = 4096;

/// Whether this path is the dashboard's.
pub(super) fn owns(path: &str) -> bool {
    matches!(path, "/" | "/login" | "/logout" | "/setup")
        || path.starts_with("/dashboard/")
        || path.starts_with("/share/")
}

pub(super) async fn handle(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match (method, path.as_str()) {
        (Method::GET | Method::HEAD, "/") => home(state, &req),
        (Method::GET | Method::HEAD, "/login") => {
            let lang = lang(&req);
            if signed_in(state, req.headers()).is_some() {
                return redirect("/");
            }
            let notice = if query_param(&req, "bye").is_some() {
                Notice::SignedOut
            } else if state.dashboard.users.setup_token().is_some() {
                Notice::NoUsersYet
            } else {
                Notice::None
            };
            page(StatusCode::OK, pages::login(lang, notice, ""))
        }
        (Method::POST, "/login") => login(state, peer, req).await,
        (Method::POST, "/logout") => logout(state, req).await,
        (Method::GET | Method::HEAD, "/setup") => {
            let lang = lang(&req);
            let token = query_param(&req, "token").unwrap_or_default();
            if state.dashboard.users.setup_matches(&token) {
                page(StatusCode::OK, pages::setup(lang, Notice::None, &token))
            } else {
                page(
                    StatusCode::NOT_FOUND,
                    pages::login(lang, Notice::SetupUsed, ""),
                )
            }
        }
        (Method::POST, "/setup") => setup(state, peer, req).await,
        (Method::GET | Method::HEAD, p)
            if p.strip_prefix("/dashboard/")
                .is_some_and(|n| pages::asset(n).is_some()) =>
        {
            asset(&req, p.trim_start_matches("/dashboard/"))
        }
        (Method::POST, "/dashboard/api/query") => api(state, req).await,
        (Method::GET, "/dashboard/api/about") => about(state, &req),
        (Method::GET, p) if p.starts_with("/dashboard/api/v1/stats/") => api(state, req).await,
        (Method::GET | Method::HEAD, p) if p.starts_with("/share/") => {
            let token = p.trim_start_matches("/share/");
            match state.dashboard.shared_site(token) {
                Some(site) => {
                    let boot = Boot {
                        lang: lang(&req),
                        user: None,
                        csrf: "",
                        share: Some(token),
                        sites: vec![boot_site(state, &site)],
                        events_from: state.stats.events_from().to_string(),
                        places: state.dashboard.places,
                        now: state.stats.now(),
                    };
                    let mut resp = page(StatusCode::OK, pages::app(&boot));
                    // The token is in the URL: it must not leak onward.
                    resp.headers_mut().insert(
                        header::REFERRER_POLICY,
                        HeaderValue::from_static("no-referrer"),
                    );
                    resp
                }
                None => text(
                    StatusCode::NOT_FOUND,
                    "This shared link does not exist or was revoked.\n",
                ),
            }
        }
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
    }
}

fn lang(req: &Request<Incoming>) -> Lang {
    let asked = query_param(req, "lang");
    Lang::choose(
        asked.as_deref(),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
}

fn signed_in(state: &State, headers: &HeaderMap) -> Option<(String, Session)> {
    let token = cookie_token(headers)?;
    let session = state.dashboard.sessions.get(&token, Instant::now())?;
    Some((token, session))
}

/// Whether a state-changing request comes from a page of this origin: its `Origin`
/// is the address it was sent to (`Host`, or the authority of an HTTP/2 request) or
/// the configured `dashboard.public_url` (behind a proxy that rewrites `Host`). A
/// request without `Origin` and `Sec-Fetch-Site` is no browser's cross-site request.
fn same_origin(state: &State, req: &Request<Incoming>) -> bool {
    let headers = req.headers();
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = get("origin") else {
        return true;
    };
    let host = get("host").or_else(|| req.uri().authority().map(|a| a.as_str()));
    let bare = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    (bare.is_some() && bare == host)
        || state
            .dashboard
            .public_origin
            .as_deref()
            .is_some_and(|public| public == origin)
}

fn boot_site(state: &State, site: &str) -> BootSite {
    BootSite {
        site: site.to_owned(),
        today: state.stats.today(site).to_string(),
        tz: state.stats.timezone(site).name().to_owned(),
    }
}

fn home(state: &State, req: &Request<Incoming>) -> Resp {
    let Some((_, session)) = signed_in(state, req.headers()) else {
        return redirect("/login");
    };
    let sites = state
        .stats
        .sites()
        .iter()
        .filter(|s| session.sites.is_empty() || session.sites.contains(s))
        .map(|s| boot_site(state, s))
        .collect();
    let boot = Boot {
        lang: lang(req),
        user: Some(&session.user),
        csrf: &session.csrf,
        share: None,
        sites,
        events_from: state.stats.events_from().to_string(),
        places: state.dashboard.places,
        now: state.stats.now(),
    };
    page(StatusCode::OK, pages::app(&boot))
}

async fn form(state: &State, req: Request<Incoming>) -> Option<Vec<(String, String)>> {
    let (parts, body) = req.into_parts();
    let body = body::read(state, &parts.headers, body, MAX_FORM)
        .await
        .ok()?;
    Some(
        url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn form_lang(form: &[(String, String)]) -> Lang {
    Lang::choose(Some(field(form, "lang")), None)
}

async fn login(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    if !same_origin(state, &req) {
        return text(StatusCode::FORBIDDEN, "cross-site sign-in refused\n");
    }
    let ip = client_ip(peer.ip(), req.headers(), &state.trusted_proxies);
    let now = Instant::now();
    let accept = lang(&req);
    if let Some(wait) = state.login_guard.refused(ip, now) {
        state.metrics.auth_limited();
        let mut resp = page(
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(accept, Notice::TooMany(wait.as_secs().max(1)), ""),
        );
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let Some(form) = form(state, req).await else {
        return text(StatusCode::BAD_REQUEST, "the form could not be read\n");
    };
    let lang = form_lang(&form);
    let name = field(&form, "name").to_owned();
    let password = field(&form, "password").to_owned();
    let users = state.dashboard.clone();
    let checked = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || users.users.verify(&name, &password)).await
    };
    match checked {
        Ok(Some(user)) => start_session(state, &user.name, &user.sites),
        Ok(None) => {
            state.login_guard.failed(ip, now);
            state.metrics.auth_failed();
            page(
                StatusCode::UNAUTHORIZED,
                pages::login(lang, Notice::WrongPassword, &name),
            )
        }
        Err(e) => {
            tracing::error!("sign-in check failed: {e}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::login(lang, Notice::Failed, &name),
            )
        }
    }
}

/// Sets the sign-in cookie on `resp`: `max_age_secs` 0 removes it.
fn set_cookie(resp: &mut Resp, value: &str, max_age_secs: i64, secure: bool) {
    let cookie = cookie::Cookie::build((COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
}

fn start_session(state: &State, user: &str, sites: &[String]) -> Resp {
    match state.dashboard.sessions.start(user, sites, Instant::now()) {
        Ok(token) => {
            let max_age = state.dashboard.sessions.idle().as_secs();
            let mut resp = redirect("/");
            set_cookie(
                &mut resp,
                &token,
                i64::try_from(max_age).unwrap_or(i64::MAX),
                state.dashboard.secure_cookie,
            );
            resp
        }
        Err(e) => {
            tracing::error!("cannot start a sign-in: {e}");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no randomness for a sign-in\n",
            )
        }
    }
}

async fn logout(state: &State, req: Request<Incoming>) -> Resp {
    if !same_origin(state, &req) {
        return text(StatusCode::FORBIDDEN, "cross-site sign-out refused\n");
    }
    let signed = signed_in(state, req.headers());
    let Some(form) = form(state, req).await else {
        return text(StatusCode::BAD_REQUEST, "the form could not be read\n");
    };
    if let Some((token, session)) = signed {
        if !same_token(field(&form, "csrf"), &session.csrf) {
            return text(
                StatusCode::FORBIDDEN,
                "sign-out without this page's token refused\n",
            );
        }
        state.dashboard.sessions.end(&token);
    }
    let mut resp = redirect(&format!("/login?bye=1&lang={}", form_lang(&form).code()));
    set_cookie(&mut resp, "", 0, state.dashboard.secure_cookie);
    resp
}

async fn setup(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    if !same_origin(state, &req) {
        return text(StatusCode::FORBIDDEN, "cross-site setup refused\n");
    }
    let ip = client_ip(peer.ip(), req.headers(), &state.trusted_proxies);
    let now = Instant::now();
    if state.login_guard.refused(ip, now).is_some() {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many attempts; wait a minute\n",
        );
    }
    let Some(form) = form(state, req).await else {
        return text(StatusCode::BAD_REQUEST, "the form could not be read\n");
    };
    let lang = form_lang(&form);
    let token = field(&form, "token").to_owned();
    let name = field(&form, "name").to_owned();
    let password = field(&form, "password").to_owned();
    let dashboard = state.dashboard.clone();
    let made = {
        let token = token.clone();
        tokio::task::spawn_blocking(move || dashboard.users.create_first(&token, &name, &password))
            .await
    };
    match made {
        Ok(Ok(user)) => start_session(state, &user.name, &user.sites),
        Ok(Err(UsersError::SetupUsed)) => {
            state.login_guard.failed(ip, now);
            page(
                StatusCode::FORBIDDEN,
                pages::login(lang, Notice::SetupUsed, ""),
            )
        }
        Ok(Err(UsersError::Invalid(what))) => {
            let notice = if what == "name" {
                Notice::BadName
            } else {
                Notice::BadPassword
            };
            page(StatusCode::BAD_REQUEST, pages::setup(lang, notice, &token))
        }
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
                Ok(Ok(_)) => String::new(),
            };
            tracing::error!("setup failed: {why}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::setup(lang, Notice::Failed, &token),
            )
        }
    }
}

/// Who asks through the dashboard's API paths, if anyone may.
fn viewer(state: &State, req: &Request<Incoming>) -> Option<Viewer> {
    let headers = req.headers();
    if let Some(token) = headers.get(SHARE_HEADER).and_then(|v| v.to_str().ok()) {
        let site = state.dashboard.shared_site(token)?;
        return Some(Viewer::Shared {
            site,
            token: token.to_owned(),
        });
    }
    let (_, session) = signed_in(state, headers)?;
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    same_token(presented, &session.csrf).then_some(Viewer::User(session))
}

/// Not rate-limited: a sign-in or a shared link is a 256-bit random token, and an
/// open page whose sign-in ended (a restart) sends a burst of refused queries that
/// must not lock its user out of signing in again.
async fn api(state: &State, req: Request<Incoming>) -> Resp {
    if !same_origin(state, &req) {
        return json(&Answer {
            status: 403,
            body: r#"{"error":"Cross-site requests are refused."}"#.into(),
        });
    }
    let Some(viewer) = viewer(state, &req) else {
        return json(&Answer {
            status: 401,
            body: r#"{"error":"Not signed in, or the page is out of date: reload it."}"#.into(),
        });
    };
    let access = match viewer.sites() {
        Some(sites) => Access::Sites(sites),
        None => Access::All,
    };
    let (parts, body) = req.into_parts();
    let answer = if parts.method == Method::POST {
        let max = state.limits.max_body_bytes;
        match body::read(state, &parts.headers, body, max).await {
            Ok(bytes) => state.stats.v2(access, &bytes).await,
            Err(e) => body::api_answer(&e, max),
        }
    } else {
        let endpoint = parts
            .uri
            .path()
            .trim_start_matches("/dashboard/api/v1/stats/");
        state
            .stats
            .v1(endpoint, access, parts.uri.query().unwrap_or_default())
            .await
    };
    json(&answer)
}

/// "What we store" (in the page's language) and, for signed-in users, the
/// data-quality counts since start: what was filtered or lost, by reason.
fn about(state: &State, req: &Request<Incoming>) -> Resp {
    let Some(viewer) = viewer(state, req) else {
        return json(&Answer {
            status: 401,
            body: r#"{"error":"Not signed in, or the page is out of date: reload it."}"#.into(),
        });
    };
    let privacy = state.dashboard.privacy(lang(req));
    let mut body = serde_json::json!({ "privacy": privacy });
    // Counts are for the whole collector, not one site: a shared link does not get them.
    if let Viewer::User(_) = viewer {
        let m = &state.metrics;
        let dropped: serde_json::Map<String, serde_json::Value> = crate::metrics::DropReason::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), m.dropped_total(*r).into()))
            .collect();
        body["quality"] = serde_json::json!({
            "since": state.dashboard.started,
            "accepted": m.accepted_total(),
            "stored": m.stored_total(),
            "dropped": dropped,
        });
    }
    json(&Answer {
        status: 200,
        body: body.to_string(),
    })
}

fn secure(mut resp: Resp) -> Resp {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(pages::CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

fn page(status: StatusCode, html: String) -> Resp {
    secure(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Full::new(Bytes::from(html)))
            .unwrap_or_default(),
    )
}

/// An embedded file, gzipped for clients that take it.
fn asset(req: &Request<Incoming>, name: &str) -> Resp {
    let Some(file) = pages::asset(name) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let gzip_ok = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            e.split(';')
                .next()
                .is_some_and(|name| name.trim() == "gzip")
        });
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, file.content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "Accept-Encoding");
    let resp = match file.gzipped {
        Some(gz) if gzip_ok => builder
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Full::new(Bytes::from_static(gz))),
        _ => builder.body(Full::new(Bytes::from_static(file.body))),
    };
    secure(resp.unwrap_or_default())
}

fn json(answer: &Answer) -> Resp {
    secure(
        Response::builder()
            .status(
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Full::new(Bytes::from(answer.body.clone())))
            .unwrap_or_default(),
    )
}

fn redirect(to: &str) -> Resp {
    secure(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Full::default())
            .unwrap_or_default(),
    )
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    secure(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap_or_default(),
    )
}
