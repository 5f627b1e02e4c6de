//! Brute-force guard for the Stats API keys: a client that presents a missing or
//! wrong key too often in a window is refused (`429`) for the rest of that window,
//! before its key is even compared, so guessing keys costs time whatever it guesses.
//!
//! Clients are told apart by address (an IPv6 client by its /64, which one host
//! usually owns whole). The table lives in memory only and is bounded: it never
//! reaches disk or a log, and a flood of addresses cannot grow it without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong keys a client may present per window before it is refused.
pub const MAX_FAILURES: u32 = 10;
/// The window, and so the longest a refused client waits.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered at once; past it expired entries go, then (under a flood of
/// addresses, where per-address counting is moot anyway) all of them.
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct AuthGuard {
    clients: Mutex<HashMap<IpAddr, Entry>>,
}

/// The part of an address one client controls.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

impl AuthGuard {
    /// `Some(wait)` while `ip` is refused.
    pub fn refused(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let entry = clients.get(&client_key(ip))?;
        let ends = entry.since + WINDOW;
        (entry.failures >= MAX_FAILURES && now < ends).then(|| ends - now)
    }

    /// One attempt from `ip`: refused (`Err(wait)`) while it is over the limit, else
    /// `compare` runs and a failure it reports (`Some`) is counted, all under one
    /// lock. So however many requests a client sends at once, on however many
    /// connections or HTTP/2 streams, at most [`MAX_FAILURES`] wrong keys a window are
    /// compared. A check before the body is read and a count after it would let every
    /// request that arrives in between through.
    pub fn attempt<T>(
        &self,
        ip: IpAddr,
        now: Instant,
        compare: impl FnOnce() -> Option<T>,
    ) -> Result<Option<T>, Duration> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = clients.get(&client_key(ip)) {
            let ends = entry.since + WINDOW;
            if entry.failures >= MAX_FAILURES && now < ends {
                return Err(ends - now);
            }
        }
        let failure = compare();
        if failure.is_some() {
            Self::count(&mut clients, ip, now);
        }
        Ok(failure)
    }

    /// Counts one missing or wrong key from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        Self::count(&mut clients, ip, now);
    }

    fn count(clients: &mut HashMap<IpAddr, Entry>, ip: IpAddr, now: Instant) {
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, e| now < e.since + WINDOW);
            if clients.len() >= MAX_CLIENTS {
                clients.clear();
            }
        }
        let entry = clients.entry(client_key(ip)).or_insert(Entry {
            failures: 0,
            since: now,
        });
        if now >= entry.since + WINDOW {
            *entry = Entry {
                failures: 0,
                since: now,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_ends() {
        let guard = AuthGuard::default();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(guard.refused(ip, t0).is_none());
            guard.failed(ip, t0);
        }
        assert!(guard.refused(ip, t0).is_some());
        assert!(guard.refused("203.0.113.10".parse().unwrap(), t0).is_none());
        assert!(guard.refused(ip, t0 + WINDOW).is_none());
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let guard = AuthGuard::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            guard.failed(format!("2001:db8:1:2::{i:x}").parse().unwrap(), t0);
        }
        assert!(
            guard
                .refused("2001:db8:1:2:ffff::1".parse().unwrap(), t0)
                .is_some()
        );
        assert!(
            guard
                .refused("2001:db8:1:3::1".parse().unwrap(), t0)
                .is_none()
        );
    }
}
