//! Sessions: a visit ends after the configured inactivity (30 minutes by default).
//!
//! State is keyed by the daily pseudonym only and lives in memory; the store gives it
//! back after a restart (the sessions active in the last timeout window), so a
//! restart does not split a visit. The table is bounded (`privacy.max_sessions`,
//! ≈ 100 bytes a session with the cache's own bookkeeping): past it, the coldest
//! sessions are forgotten first (a visitor who returns after that starts a new
//! visit) rather than memory growing with the number of visitors.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use quick_cache::unsync::Cache;

/// Active sessions kept at most, by default: room for 200,000 visits an hour (with
/// the 30-minute timeout), millions a day, in ≈ 10 MiB. (250,000 took ≈ 23 MiB,
/// the largest part of what a sustained overload holds: docs/load.md.)
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// Idle sessions are swept at most once a minute: a sweep walks the whole table
/// under its lock (milliseconds at the bound, measured as request tail latency),
/// and an idle session is already ignored when it is looked up.
const SWEEP_EVERY_MICROS: i64 = 60_000_000;

/// One visit as the table keeps it; also what the store gives back after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The pseudonym stored with the session's events (yesterday's across midnight).
    pub visitor_id: u64,
    pub session_id: u64,
    /// The last hit, µs since the Unix epoch.
    pub last_seen: i64,
    /// The UTC day the visit began (days since the Unix epoch): the day of the salt
    /// behind `visitor_id`, stored with every event of the visit so queries can tell
    /// whole visits of ended days from the rest.
    pub visit_day: i32,
}

/// The UTC day (days since the Unix epoch) of a time in µs.
pub fn epoch_day(micros: i64) -> i32 {
    i32::try_from(micros.div_euclid(86_400_000_000)).unwrap_or(i32::MAX)
}

pub struct Sessions {
    active: Mutex<Cache<u64, Session>>,
    ids: SessionIds,
    timeout: chrono::Duration,
    /// When the last sweep ran (µs), `i64::MIN` before the first.
    swept_at: AtomicI64,
}

impl Sessions {
    pub fn new(timeout: chrono::Duration) -> Self {
        Self::with_capacity(timeout, DEFAULT_MAX_SESSIONS)
    }

    /// Keeps at most about `capacity` active sessions.
    pub fn with_capacity(timeout: chrono::Duration, capacity: usize) -> Self {
        Self {
            active: Mutex::new(Cache::new(capacity.max(1))),
            ids: SessionIds::new(),
            timeout,
            swept_at: AtomicI64::new(i64::MIN),
        }
    }

    /// A session id for a hit that is a visit of its own (no pseudonym): drawn like
    /// any other, shared with no other hit, so it links nothing.
    pub fn lone(&self) -> u64 {
        self.ids.next()
    }

    pub fn timeout(&self) -> chrono::Duration {
        self.timeout
    }

    fn timeout_micros(&self) -> i64 {
        self.timeout.num_microseconds().unwrap_or(i64::MAX)
    }

    /// Returns the session of a hit at `now` (µs): the visitor's active session, the
    /// one it began under `previous` before midnight, or a new one.
    pub fn touch(&self, current: u64, previous: Option<u64>, now: i64) -> Session {
        let timeout = self.timeout_micros();
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        // A visit may run past one midnight, not two (an auto-refreshing screen
        // would keep it for ever): no visitor id outlives the day after its salt's.
        let today = epoch_day(now);
        let alive = |s: &Session| {
            now.saturating_sub(s.last_seen) < timeout && today.saturating_sub(s.visit_day) <= 1
        };
        let found = active.get(&current).copied().filter(alive).or_else(|| {
            previous
                .and_then(|p| active.peek(&p).copied())
                .filter(alive)
        });
        let session = match found {
            Some(s) => Session {
                last_seen: now.max(s.last_seen),
                ..s
            },
            None => Session {
                visitor_id: current,
                session_id: self.ids.next(),
                last_seen: now,
                visit_day: epoch_day(now),
            },
        };
        active.insert(current, session);
        session
    }

    /// Puts back a session read from the store after a restart.
    pub fn restore(&self, session: Session) {
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        active.insert(session.visitor_id, session);
    }

    /// Forgets sessions idle for longer than the timeout (at most once a minute).
    pub fn sweep(&self, now: i64) {
        let last = self.swept_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_EVERY_MICROS {
            return;
        }
        self.swept_at.store(now, Ordering::Relaxed);
        let timeout = self.timeout_micros();
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        active.retain(|_, s: &Session| now.saturating_sub(s.last_seen) < timeout);
    }

    pub fn len(&self) -> usize {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Session ids: a keyed hash of a counter under a key drawn once per process, so
/// they look random and carry no information (not even the start time), without a
/// system call per new visit (`getrandom` was one per new session, measured).
struct SessionIds {
    key: [u8; 32],
    counter: AtomicU64,
}

impl SessionIds {
    fn new() -> Self {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // Should the OS random source fail, ids still differ between processes.
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            key = *blake3::hash(seed.as_bytes()).as_bytes();
        }
        Self {
            key,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let hash = blake3::keyed_hash(&self.key, &n.to_le_bytes());
        let mut out = [0u8; 8];
        out.copy_from_slice(&hash.as_bytes()[..8]);
        u64::from_le_bytes(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{Sessions, epoch_day};

    /// A visit kept alive across midnights by hits ten minutes apart keeps its
    /// visitor id through the day after it began, and not a minute longer.
    #[test]
    fn a_visit_crosses_one_midnight_not_two() {
        const DAY: i64 = 86_400_000_000;
        let sessions = Sessions::new(chrono::Duration::minutes(30));
        let start = 20_000 * DAY + DAY - 600_000_000; // 23:50 on day 20,000
        let first = sessions.touch(1, None, start);
        let mut now = start;
        while now < start + 30 * 3_600_000_000 {
            now += 600_000_000;
            // Each day's pseudonym of the same person: 1, then 2, then 3.
            let (current, previous) = match epoch_day(now) - 20_000 {
                0 => (1, None),
                1 => (2, Some(1)),
                _ => (3, Some(2)),
            };
            let s = sessions.touch(current, previous, now);
            if epoch_day(now) - 20_000 <= 1 {
                assert_eq!((s.visitor_id, s.session_id), (1, first.session_id));
            } else {
                assert_eq!(s.visitor_id, 3);
                assert_ne!(s.session_id, first.session_id);
            }
        }
    }

    /// However many visitors arrive, the table stays near its bound, and a visitor
    /// who keeps coming back keeps their session.
    #[test]
    fn the_table_is_bounded_and_keeps_the_busy_sessions() {
        let sessions = Sessions::with_capacity(chrono::Duration::minutes(30), 100);
        let regular = sessions.touch(u64::MAX, None, 0).session_id;
        for visitor in 0..10_000u64 {
            let now = i64::try_from(visitor).unwrap_or(i64::MAX);
            sessions.touch(visitor, None, now);
            if visitor % 10 == 0 {
                assert_eq!(sessions.touch(u64::MAX, None, now).session_id, regular);
            }
        }
        assert!(sessions.len() <= 110, "{} sessions kept", sessions.len());
    }
}
