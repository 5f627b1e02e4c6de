//! Routes and responses. The pixel always answers with the GIF, whatever happens
//! behind it; the Events API answers `202 ok` for accepted and silently dropped
//! events alike (a header counts the drops) and `400` with field errors for bad input.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, AsHeaderName, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::State;
use super::body::{self, BodyError};
use super::client_ip::client_ip;
use super::payload::{self, FieldErrors};
use crate::dashboard::pages::Lang;
use crate::event::{Payload, RawHit};
use crate::metrics::{DropReason, WriterState};
use crate::query::api::{Access, Answer};
use crate::store::writer::Pushed;

type Resp = Response<Full<Bytes>>;

/// The 43-byte transparent 1×1 GIF.
const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];
const SCRIPT: &str = include_str!("../../assets/s.js");
const DROPPED_HEADER: &str = "x-spoorloos-dropped";

pub(super) async fn handle(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let path = req.uri().path();
    let is_pixel = path == "/p.gif";
    let is_stats = path == "/api/v2/query" || path.starts_with("/api/v1/");
    let secs = state.limits.request_timeout_secs;
    match tokio::time::timeout(Duration::from_secs(secs), route(state, peer, req)).await {
        Ok(resp) => resp,
        Err(_) if is_pixel => gif(),
        // Mostly a slow query (the engine yields to ingestion) rather than a slow
        // client, so a 503 that says so instead of a bare 408.
        Err(_) if is_stats => json(&Answer {
            status: 503,
            body: format!(
                r#"{{"error":"No answer within {secs} s: the collector is busy or the request was slow to arrive. Retry later, or ask about a shorter period."}}"#
            ),
        }),
        Err(_) => text(StatusCode::REQUEST_TIMEOUT, "request timed out\n"),
    }
}

/// The pixel's answer, when `req` asks for it: it reads no body and waits for
/// nothing, so the server answers it without a task state or a timeout.
pub(super) fn pixel_now(state: &State, peer: SocketAddr, req: &Request<Incoming>) -> Option<Resp> {
    let wanted =
        matches!(*req.method(), Method::GET | Method::HEAD) && req.uri().path() == "/p.gif";
    wanted.then(|| pixel(state, peer, req))
}

async fn route(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    match (method, req.uri().path()) {
        (Method::GET | Method::HEAD, "/p.gif") => pixel(state, peer, &req),
        (Method::POST, "/api/event") => event_api(state, peer, req).await,
        (Method::OPTIONS, "/api/event") => cors(Response::builder().status(StatusCode::NO_CONTENT))
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS")
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type")
            .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
            .body(Full::default())
            .unwrap_or_default(),
        (Method::GET | Method::HEAD, "/s.js") => cors(Response::builder())
            .header(
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            )
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(Full::new(Bytes::from_static(SCRIPT.as_bytes())))
            .unwrap_or_default(),
        (Method::POST, "/api/v2/query") => stats(state, peer, req).await,
        (Method::GET, path) if path.starts_with("/api/v1/stats/") => stats(state, peer, req).await,
        (Method::GET, "/api/v1/sites" | "/api/v1/privacy") => stats(state, peer, req).await,
        (Method::OPTIONS, "/api/v2/query") => {
            cors(Response::builder().status(StatusCode::NO_CONTENT))
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS")
                .header(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "Content-Type, Authorization",
                )
                .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
                .body(Full::default())
                .unwrap_or_default()
        }
        (Method::GET | Method::HEAD, "/healthz") => health(state),
        (Method::GET, "/metrics") => Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .body(Full::new(Bytes::from(
                state.metrics.render(state.queue.depth()),
            )))
            .unwrap_or_default(),
        (Method::GET | Method::HEAD, "/demo") => Response::builder()
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(Full::new(Bytes::from(super::snippet::demo_page())))
            .unwrap_or_default(),
        (
            _,
            "/p.gif" | "/api/event" | "/s.js" | "/healthz" | "/metrics" | "/demo" | "/api/v2/query",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        (_, path) if super::dashboard::owns(path) => {
            super::dashboard::handle(state, peer, req).await
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn header_str(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn raw_hit<'a>(
    state: &State,
    peer: SocketAddr,
    headers: &'a HeaderMap,
    payload: Payload,
) -> RawHit<'a> {
    super::hit::raw_hit(
        state.clock.now(),
        peer.ip(),
        headers,
        &state.trusted_proxies,
        payload,
    )
}

/// What became of a hit's events.
struct Ingested {
    /// Events dropped and counted (bots, spam, a full queue …).
    dropped: usize,
    /// Whether an event found the writer stopping: not written, so not to be
    /// acknowledged.
    closed: bool,
}

/// Readiness: not while the store refuses writes (a full disk, a file it could
/// not open again); the events wait in memory for a retry meanwhile, and a load
/// balancer or systemd watchdog should know.
/// How long the writer may be busy with one step of work before `/healthz` calls it
/// stuck: far beyond the longest step measured (compacting a 1 GB file, 24 s).
const WRITER_STUCK: Duration = Duration::from_secs(600);

/// Ready while the writer runs and the store takes its writes: 503 with the reason
/// otherwise, so a load balancer or systemd's watchdog can act on it.
fn health(state: &State) -> Resp {
    let failing = match (state.metrics.writer_state(), state.metrics.retry_pending()) {
        (WriterState::Gone, _) => {
            "the writer has stopped: accepted hits are not written (see the log)\n".to_owned()
        }
        (WriterState::Running(idle), _) if idle > WRITER_STUCK => format!(
            "the writer has been stuck for {} s: accepted hits wait (see the log)\n",
            idle.as_secs()
        ),
        (_, 0) => return text(StatusCode::OK, "ok\n"),
        (_, held) => {
            format!("the store is failing: {held} event(s) wait for a retry (see the log)\n")
        }
    };
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(failing)))
        .unwrap_or_default()
}

/// Runs the pipeline and queues what it accepts.
fn ingest(state: &State, hit: &RawHit<'_>) -> Ingested {
    let mut dropped = 0;
    let mut closed = false;
    let day = hit.received_at.date_naive();
    for (i, outcome) in state.pipeline.process(hit).into_iter().enumerate() {
        let stored = match outcome {
            Ok(event) => match state.queue.push(&event) {
                Pushed::Queued => true,
                Pushed::Dropped => {
                    state
                        .metrics
                        .dropped_for(&event.site, day, DropReason::Overload);
                    false
                }
                Pushed::Closed => {
                    closed = true;
                    false
                }
            },
            Err(reason) => {
                state.metrics.dropped(reason);
                if reason == DropReason::Bot
                    && let Some(kind) = state.pipeline.bot_kind(hit)
                {
                    state.metrics.bot_dropped(kind);
                }
                if let Some(site) = state.pipeline.target_site(hit, i) {
                    state.metrics.dropped_for(&site, day, reason);
                }
                false
            }
        };
        dropped += usize::from(!stored);
    }
    Ingested { dropped, closed }
}

fn pixel(state: &State, peer: SocketAddr, req: &Request<Incoming>) -> Resp {
    // Browsers never send HEAD for an image; link checkers and monitors do. They get
    // the image's headers, and nothing is counted.
    if req.method() == Method::HEAD {
        return gif();
    }
    let headers = req.headers();
    let query = req.uri().query().unwrap_or_default();
    match payload::from_pixel_query(query, header_str(headers, header::REFERER)) {
        Ok(payload) => {
            ingest(state, &raw_hit(state, peer, headers, payload));
        }
        Err(_) => state.metrics.invalid(),
    }
    gif()
}

async fn event_api(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let (parts, body) = req.into_parts();
    let max = state.limits.max_body_bytes;
    let body = match body::read(state, &parts.headers, body, max).await {
        Ok(bytes) => bytes,
        Err(BodyError::Busy) => return busy(),
        Err(e) => {
            state.metrics.invalid();
            let message = match e {
                BodyError::TooLarge(max) => format!("request body is larger than {max} bytes"),
                _ => "could not read the request body".to_owned(),
            };
            return errors(&FieldErrors::one("request", message));
        }
    };
    match payload::from_json(&body) {
        Ok(payload) => {
            let Ingested { dropped, closed } =
                ingest(state, &raw_hit(state, peer, &parts.headers, payload));
            if closed {
                // A request that outlived the shutdown's grace: say so, so the
                // tracker (or a proxy) may send it again, to this collector restarted.
                let mut resp = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the collector is stopping; send the event again\n",
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                return resp;
            }
            let mut resp = cors(Response::builder().status(StatusCode::ACCEPTED))
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )
                .header(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(DROPPED_HEADER),
                );
            if dropped > 0 {
                resp = resp.header(HeaderName::from_static(DROPPED_HEADER), dropped);
            }
            resp.body(Full::new(Bytes::from_static(b"ok")))
                .unwrap_or_default()
        }
        Err(e) => {
            state.metrics.invalid();
            errors(&e)
        }
    }
}

/// The Stats API: `POST /api/v2/query` (the body limit applies as for events) and
/// `GET /api/v1/stats/*`, behind the key guard: a client with too many wrong keys
/// gets `429` before its key is compared.
async fn stats(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let ip = client_ip(peer.ip(), req.headers(), &state.trusted_proxies);
    let now = Instant::now();
    let auth = header_str(req.headers(), "authorization");
    // The key is compared and a wrong one counted before anything else is read.
    match state
        .auth_guard
        .attempt(ip, now, || state.stats.refuse_key(auth))
    {
        Err(wait) => {
            state.metrics.auth_limited();
            let secs = wait.as_secs().max(1);
            let answer = Answer {
                status: 429,
                body: format!(
                    r#"{{"error":"Too many requests with a missing or wrong API key; retry in {secs} s."}}"#
                ),
            };
            let mut resp = json(&answer);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return resp;
        }
        Ok(Some(refused)) => {
            state.metrics.auth_failed();
            return json(&refused);
        }
        Ok(None) => {}
    }
    let (parts, body) = req.into_parts();
    let auth = header_str(&parts.headers, "authorization");
    let answer = if parts.method == Method::POST {
        let max = state.limits.max_body_bytes;
        match body::read(state, &parts.headers, body, max).await {
            Ok(bytes) => state.stats.v2(Access::Key(auth), &bytes).await,
            Err(e) => body::api_answer(&e, max),
        }
    } else if parts.uri.path() == "/api/v1/sites" {
        state.stats.sites_for_key(auth)
    } else if parts.uri.path() == "/api/v1/privacy" {
        privacy(state, parts.uri.query().unwrap_or_default())
    } else {
        let endpoint = parts.uri.path().trim_start_matches("/api/v1/stats/");
        let query = parts.uri.query().unwrap_or_default();
        state.stats.v1(endpoint, Access::Key(auth), query).await
    };
    if answer.status == 401 {
        state.auth_guard.failed(ip, now);
        state.metrics.auth_failed();
    }
    json(&answer)
}

/// `GET /api/v1/privacy[?lang=nl]`: what the collector stores, for how long and how
/// (the dashboard's "What we store"), as Markdown from the running configuration.
fn privacy(state: &State, query: &str) -> Answer {
    let dutch =
        url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "lang" && v == "nl");
    let (lang, text) = if dutch {
        ("nl", state.dashboard.privacy(Lang::Nl))
    } else {
        ("en", state.dashboard.privacy(Lang::En))
    };
    Answer {
        status: 200,
        body: serde_json::json!({ "lang": lang, "privacy": text }).to_string(),
    }
}

/// Too many request bodies arriving at once (the buffered-body budget is used up).
fn busy() -> Resp {
    let mut resp = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "the collector is busy receiving other requests; retry shortly\n",
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// A Stats API answer as JSON, readable cross-origin like Plausible's.
fn json(answer: &Answer) -> Resp {
    cors(
        Response::builder().status(
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ),
    )
    .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
    .header(header::CACHE_CONTROL, "no-store")
    .body(Full::new(Bytes::from(answer.body.clone())))
    .unwrap_or_default()
}

fn cors(builder: hyper::http::response::Builder) -> hyper::http::response::Builder {
    builder.header(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    )
}

/// Static names and values: a `&str` header is copied into a new allocation per
/// response, and this one answers most requests.
fn gif() -> Resp {
    Response::builder()
        .header(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"))
        .header(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, max-age=0"),
        )
        .header(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        )
        .body(Full::new(Bytes::from_static(GIF)))
        .unwrap_or_default()
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap_or_default()
}

fn errors(e: &FieldErrors) -> Resp {
    cors(Response::builder().status(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(e.to_json())))
        .unwrap_or_default()
}
