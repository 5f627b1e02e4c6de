//! Pseudonymise: the stage where the IP address and User-Agent are used for the last
//! time. They go into a blake3 keyed hash under the daily salt and only 64 bits of
//! the digest come out; sessions are then tracked by that pseudonym alone.

pub mod salt;
pub mod session;

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use salt::{Salt, SaltError, SaltRing};
use session::Sessions;

/// Called with the salts to keep whenever they change; the store replaces its copy.
pub type PersistSalts = Box<dyn Fn(Vec<Salt>) + Send + Sync>;

/// A visitor's daily pseudonym and the session the hit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pseudonym {
    pub visitor_id: u64,
    pub session_id: u64,
    /// The UTC day the visit began (days since the Unix epoch).
    pub visit_day: i32,
}

pub struct Pseudonymiser {
    salts: Mutex<SaltRing>,
    sessions: Sessions,
    ipv4_prefix: u8,
    ipv6_prefix: u8,
    persist: PersistSalts,
}

impl Pseudonymiser {
    /// Starts from the salts the store kept (a restart within the day keeps visitors).
    pub fn new(
        persisted: Vec<Salt>,
        now: DateTime<Utc>,
        session_timeout: chrono::Duration,
        (ipv4_prefix, ipv6_prefix): (u8, u8),
        persist: PersistSalts,
    ) -> Result<Self, SaltError> {
        let (ring, changed) = SaltRing::restore(persisted, now.date_naive())?;
        if changed {
            persist(ring.snapshot());
        }
        Ok(Self {
            salts: Mutex::new(ring),
            sessions: Sessions::new(session_timeout),
            ipv4_prefix,
            ipv6_prefix,
            persist,
        })
    }

    /// Bounds the session table to about `max` active sessions (before first use).
    #[must_use]
    pub fn with_max_sessions(mut self, max: usize) -> Self {
        self.sessions = Sessions::with_capacity(self.sessions.timeout(), max);
        self
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Rotates the salt at midnight, destroys yesterday's once no session from before
    /// midnight can still be active, and forgets idle sessions. Cheap; call often.
    pub fn maintain(&self, now: DateTime<Utc>) -> Result<(), SaltError> {
        let mut ring = self.salts.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.current.day > now.date_naive() {
            tracing::warn!(
                from = %ring.current.day,
                to = %now.date_naive(),
                "the clock went back a day or more: visitor codes start afresh for the day it \
                 shows, and the later day's key is destroyed"
            );
        }
        let ahead = (now.date_naive() - ring.current.day).num_days();
        if ahead > 1 {
            tracing::warn!(
                from = %ring.current.day,
                to = %now.date_naive(),
                days = ahead,
                "the day moved ahead by more than one (the collector was stopped, or the clock \
                 jumped): a fresh salt for the day it shows; events it stamps ahead of a clock \
                 that later goes back are deleted then"
            );
        }
        let mut changed = ring.rotate_to(now.date_naive())?;
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let grace_over = midnight.is_some_and(|m| now - m >= self.sessions.timeout());
        if grace_over && ring.previous.is_some() {
            changed |= ring.destroy_previous();
        }
        if changed {
            (self.persist)(ring.snapshot());
        }
        drop(ring);
        self.sessions.sweep(now.timestamp_micros());
        Ok(())
    }

    /// The pseudonym for one hit. A session that began before midnight continues
    /// under yesterday's pseudonym, so nobody is counted twice across the rotation.
    pub fn pseudonymise(
        &self,
        site: &str,
        ip: IpAddr,
        user_agent: &str,
        now: DateTime<Utc>,
    ) -> Result<Pseudonym, SaltError> {
        let ip = self.truncate(ip);
        let (current, previous) = {
            let mut ring = self.salts.lock().unwrap_or_else(PoisonError::into_inner);
            if ring.current.day < now.date_naive() {
                drop(ring);
                self.maintain(now)?;
                ring = self.salts.lock().unwrap_or_else(PoisonError::into_inner);
            }
            let current = visitor_hash(&ring.current.key, site, ip, user_agent);
            let previous = ring
                .previous
                .as_ref()
                .map(|salt| visitor_hash(&salt.key, site, ip, user_agent));
            (current, previous)
        };
        let session = self
            .sessions
            .touch(current, previous, now.timestamp_micros());
        Ok(Pseudonym {
            visitor_id: session.visitor_id,
            session_id: session.session_id,
            visit_day: session.visit_day,
        })
    }

    fn truncate(&self, ip: IpAddr) -> IpAddr {
        let prefix = match ip {
            IpAddr::V4(_) => self.ipv4_prefix,
            IpAddr::V6(_) => self.ipv6_prefix,
        };
        IpNet::new(ip, prefix).map_or(ip, |net| net.network())
    }
}

/// 64 bits of blake3 keyed by the salt over an unambiguous encoding of the inputs.
pub fn visitor_hash(key: &[u8; 32], site: &str, ip: IpAddr, user_agent: &str) -> u64 {
    let mut hasher = blake3::Hasher::new_keyed(key);
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    hasher.update(&(site.len() as u64).to_le_bytes());
    hasher.update(site.as_bytes());
    let ip = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    };
    hasher.update(&ip);
    hasher.update(&(user_agent.len() as u64).to_le_bytes());
    hasher.update(user_agent.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    u64::from_le_bytes(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::Arc;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    fn pseudonymiser(now: DateTime<Utc>) -> (Pseudonymiser, Arc<Mutex<Vec<Vec<Salt>>>>) {
        let saved = Arc::new(Mutex::new(Vec::new()));
        let sink = saved.clone();
        let p = Pseudonymiser::new(
            Vec::new(),
            now,
            chrono::Duration::minutes(30),
            (32, 128),
            Box::new(move |salts| sink.lock().unwrap().push(salts)),
        )
        .unwrap();
        (p, saved)
    }

    #[test]
    fn hash_inputs_are_unambiguous() {
        let key = [7u8; 32];
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_ne!(
            visitor_hash(&key, "ab", ip, "c"),
            visitor_hash(&key, "a", ip, "bc")
        );
        assert_ne!(
            visitor_hash(&key, "a", ip, "x"),
            visitor_hash(&[8u8; 32], "a", ip, "x")
        );
    }

    #[test]
    fn sessions_span_midnight_without_double_counting() {
        let (p, saved) = pseudonymiser(at(1, 23, 50));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let before = p.pseudonymise("s", ip, "ua", at(1, 23, 50)).unwrap();
        let after = p.pseudonymise("s", ip, "ua", at(2, 0, 5)).unwrap();
        assert_eq!(
            before, after,
            "the session continues under yesterday's pseudonym"
        );
        let later = p.pseudonymise("s", ip, "ua", at(2, 0, 20)).unwrap();
        assert_eq!(before, later);
        // Yesterday's salt is gone once no session from before midnight can be active.
        p.maintain(at(2, 0, 31)).unwrap();
        assert_eq!(saved.lock().unwrap().last().map(Vec::len), Some(1));
        // After a 30-minute gap, a new session under today's pseudonym.
        let next = p.pseudonymise("s", ip, "ua", at(2, 1, 30)).unwrap();
        assert_ne!(next.session_id, before.session_id);
    }

    #[test]
    fn truncation_joins_a_network() {
        let (mut p, _) = pseudonymiser(at(3, 12, 0));
        p.ipv4_prefix = 24;
        let a = p
            .pseudonymise("s", "192.0.2.1".parse().unwrap(), "ua", at(3, 12, 0))
            .unwrap();
        let b = p
            .pseudonymise("s", "192.0.2.200".parse().unwrap(), "ua", at(3, 12, 1))
            .unwrap();
        assert_eq!(a.visitor_id, b.visitor_id);
    }
}
