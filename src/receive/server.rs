//! The hyper server and the state its handlers share (see the module docs of
//! [`crate::receive`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::config::LimitsConfig;
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
}

/// How long in-flight requests may take to finish after shutdown is signalled.
const GRACE: Duration = Duration::from_secs(5);

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to a
/// grace period). Takes a bound listener so tests can bind port 0.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let limits = state.limits.clone();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let first_byte = Duration::from_secs(limits.header_read_timeout_secs);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs))
        .max_headers(limits.max_headers)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100)
        .max_header_list_size(32 * 1024)
        // HTTP/2 has no header timeout: a peer that stops answering pings (a bare
        // socket script) is dropped after two header timeouts.
        .keep_alive_interval(first_byte)
        .keep_alive_timeout(first_byte);
    let graceful = GracefulShutdown::new();
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
        let state = state.clone();
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(super::routes::handle(&state, peer, req).await) }
        });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            // hyper's header timeout starts once the protocol is known, and telling
            // HTTP/1 from HTTP/2 waits for the first bytes without a limit: a client
            // that connects and sends nothing would keep its place (and a permit)
            // for good, and enough of them would shut everyone else out.
            // (`peek`, not `readable`: a new socket can report itself readable with
            // nothing to read.)
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_byte, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                return;
            }
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            // Errors here are client-side (resets, timeouts): nothing to report.
            let _ = watcher.watch(conn.into_owned()).await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {GRACE:?}");
    }
}

/// The address a listener is bound to, for the start-up message.
pub fn local_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
