//! Filter: decides which hits are not page views by people. Bots (by User-Agent and
//! Client Hints), prefetches (flagged by the receive stage from request headers) and
//! referrer spam are dropped here; every drop is counted with its reason.

pub mod agent;
pub mod bots;
pub mod spam;
