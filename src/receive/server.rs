//! The hyper server and the state its handlers share (see the module docs of
//! [`crate::receive`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::{self, Either};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::clock::Clock;
use crate::config::LimitsConfig;
use crate::dashboard::Dashboard;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::query::api::Engine;
use crate::query::guard::AuthGuard;
use crate::store::writer::Queue;

/// Everything a request handler needs; shared by all connections.
pub struct State {
    pub pipeline: Pipeline,
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
    pub trusted_proxies: Vec<IpNet>,
    pub limits: LimitsConfig,
    pub clock: Clock,
    /// The Stats API (`/api/v2/query`, `/api/v1/stats/*`).
    pub stats: Engine,
    /// Refuses clients that present too many wrong Stats API keys.
    pub auth_guard: AuthGuard,
    /// Dashboard users, sign-ins and shared links.
    pub dashboard: Arc<Dashboard>,
    /// Refuses clients after too many failed dashboard sign-ins.
    pub login_guard: AuthGuard,
    /// Bytes of request bodies that may be in memory at once (see `body.rs`).
    pub body_budget: Arc<Semaphore>,
}

/// How long in-flight requests may take to finish after shutdown is signalled.
const GRACE: Duration = Duration::from_secs(5);

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to a
/// grace period). Takes a bound listener so tests can bind port 0.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let limits = state.limits.clone();
    // Every connection holds a permit until it ends, so the permits also tell when
    // the last one has gone.
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let timeouts = Timeouts {
        first_byte: Duration::from_secs(limits.header_read_timeout_secs),
        idle: Duration::from_secs(limits.idle_timeout_secs),
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.first_byte)
        .max_headers(limits.max_headers)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams_per_connection)
        .max_header_list_size(32 * 1024)
        // HTTP/2 has no header timeout: a peer that stops answering pings (a bare
        // socket script) is dropped after two header timeouts.
        .keep_alive_interval(timeouts.first_byte)
        .keep_alive_timeout(timeouts.first_byte);
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // Back-pressure before accept: at the cap, new connections wait in the backlog.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (state, builder, stopping) = (state.clone(), builder.clone(), stopping.clone());
        tokio::spawn(async move {
            serve_connection(stream, peer, state, &builder, timeouts, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    // Tells every connection to finish what it is doing and close.
    let _ = stop.send(());
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(GRACE, connections.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {GRACE:?}");
    }
}

#[derive(Clone, Copy)]
struct Timeouts {
    first_byte: Duration,
    idle: Duration,
}

/// One connection, from its first byte to its close: by the client, by hyper's
/// timeouts, or gracefully (open requests answered first) when it has idled too
/// long or the server stops.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    builder: &auto::Builder<TokioExecutor>,
    timeouts: Timeouts,
    mut stopping: watch::Receiver<()>,
) {
    // hyper's header timeout starts once the protocol is known, and telling HTTP/1
    // from HTTP/2 waits for the first bytes without a limit: a client that connects
    // and sends nothing would keep its place (and a permit) for good, and enough of
    // them would shut everyone else out. (`peek`, not `readable`: a new socket can
    // report itself readable with nothing to read.)
    let mut first = [0u8; 1];
    tokio::select! {
        peeked = tokio::time::timeout(timeouts.first_byte, stream.peek(&mut first)) => {
            if !matches!(peeked, Ok(Ok(1..))) {
                return;
            }
        }
        _ = stopping.changed() => return,
    }
    let activity = Arc::new(Activity::default());
    let service = {
        let activity = activity.clone();
        service_fn(move |req| {
            let busy = activity.begin();
            // The pixel, most of all requests, waits for nothing: answered here, its
            // future is a small ready value. The others' futures (kilobytes: the
            // request, a timeout, a body or a query in flight) are boxed, so no
            // pixel moves that much memory around.
            if let Some(response) = super::routes::pixel_now(&state, peer, &req) {
                drop(busy);
                return Either::Left(future::ready(Ok::<_, Infallible>(response)));
            }
            let state = state.clone();
            Either::Right(Box::pin(async move {
                let response = super::routes::handle(&state, peer, req).await;
                drop(busy);
                Ok::<_, Infallible>(response)
            }))
        })
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // Errors from the connection are the client's (resets, timeouts): nothing to report.
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.changed() => {}
        () = activity.idle_for(timeouts) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Requests under way on one connection, and a count of their starts and ends.
///
/// HTTP/1 idles between requests only until hyper's header timeout; an HTTP/2
/// peer that answers pings could idle for good, holding a place under the
/// connection cap. This tells when a connection has had nothing to do.
#[derive(Default)]
struct Activity {
    open: AtomicU64,
    changes: AtomicU64,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> Busy {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.changes.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Resolves once no request was open and none began or ended for a whole idle
    /// timeout (checked every timeout, so after at most twice that). Before its
    /// first request a connection gets the header timeout instead: an HTTP/2 client
    /// that stops inside its preface is not yet under hyper's timeouts.
    async fn idle_for(&self, timeouts: Timeouts) {
        loop {
            let seen = self.changes.load(Ordering::Relaxed);
            let limit = if seen == 0 {
                timeouts.first_byte
            } else {
                timeouts.idle
            };
            tokio::time::sleep(limit).await;
            if self.open.load(Ordering::Relaxed) == 0
                && self.changes.load(Ordering::Relaxed) == seen
            {
                return;
            }
        }
    }
}

/// A request under way; its end counts as activity, even when it was cancelled.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
        self.0.changes.fetch_add(1, Ordering::Relaxed);
    }
}

/// The address a listener is bound to, for the start-up message.
pub fn local_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
