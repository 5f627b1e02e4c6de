//! The load benchmark's reference limit (`scripts/load.sh`): a bare hyper server
//! that reads each request and answers it with the pixel's 43-byte GIF, nothing else.
//! Same crates and server setup as `src/receive/mod.rs` (hyper-util's auto builder,
//! `TokioIo`, a multi-threaded tokio runtime), so the gap between this server and
//! Spoorloos under the same load is the cost of Spoorloos' own pipeline.
//!
//! `bare_gif [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

/// The 43-byte transparent 1×1 GIF (the same bytes as `src/receive/routes.rs`).
const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Reads the request body (as any keep-alive server must, so the connection can be
/// reused for the next request), then answers with the real pixel's headers, built
/// the same way (static names and values, no copy per response). Written out here
/// rather than taken from the library: linking it pulls in DuckDB (a 45 MB binary,
/// 3.5 MiB more RSS from its static initialisers), and the reference must stay bare.
async fn gif(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = req.into_body().collect().await;
    Ok(Response::builder()
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
        .unwrap_or_default())
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{text:?} is not an address: {e}"),
            )
        })?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let builder = auto::Builder::new(TokioExecutor::new());
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service_fn(gif))
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    })
}
