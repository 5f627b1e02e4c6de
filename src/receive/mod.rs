//! Receive: the HTTP edge. A hyper server with designed limits (connection cap before
//! `accept`, header count and size, header-read and request timeouts, body size) in
//! front of the beacon endpoints. Handlers turn a request into a [`RawHit`], hand it to
//! the [`Pipeline`] and the writer's queue, and answer at once.
//!
//! [`RawHit`]: crate::event::RawHit

#[cfg(feature = "duckdb")]
mod body;
pub mod client_ip;
#[cfg(feature = "duckdb")]
mod dashboard;
pub mod hit;
pub mod payload;
#[cfg(feature = "duckdb")]
mod routes;
pub mod snippet;

// The server needs the writer's queue and the Stats API engine, so it exists only
// with the database; the parsers above are pure and built without it (for fuzzing).
#[cfg(feature = "duckdb")]
mod server;
#[cfg(feature = "duckdb")]
pub use server::*;
