//! Sign-ins: a random token in an `HttpOnly`, `SameSite=Strict` cookie, kept here
//! only as its blake3 digest, with the user's name, sites and a CSRF token that every
//! state-changing request must echo. In memory and bounded; a restart signs
//! everyone out. Visitors of tracked sites never get this cookie: only people who
//! sign in to the dashboard do.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The sign-in cookie's name.
pub const COOKIE: &str = "spoorloos_session";
/// Sign-ins kept at once; past it the least recently used go first.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    /// The sites the user may see; empty: every site.
    pub sites: Vec<String>,
    /// Echoed by the page in a form field or header on every state change.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    used: Instant,
}

pub struct Sessions {
    entries: Mutex<HashMap<blake3::Hash, Entry>>,
    idle: Duration,
}

impl Sessions {
    pub fn new(idle: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            idle,
        }
    }

    /// How long an unused sign-in lasts.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Starts a sign-in; returns the cookie's token.
    pub fn start(
        &self,
        user: &str,
        sites: &[String],
        now: Instant,
    ) -> Result<String, getrandom::Error> {
        let token = super::random_token()?;
        let session = Session {
            user: user.to_owned(),
            sites: sites.to_vec(),
            csrf: super::random_token()?,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, e| now.duration_since(e.used) < self.idle);
        if entries.len() >= MAX_SESSIONS
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert(blake3::hash(token.as_bytes()), Entry { session, used: now });
        Ok(token)
    }

    /// The sign-in behind a cookie token, if it is live; using it extends it.
    pub fn get(&self, token: &str, now: Instant) -> Option<Session> {
        let key = blake3::hash(token.as_bytes());
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get_mut(&key)?;
        if now.duration_since(entry.used) >= self.idle {
            entries.remove(&key);
            return None;
        }
        entry.used = now;
        Some(entry.session.clone())
    }

    /// Ends a sign-in.
    pub fn end(&self, token: &str) {
        let key = blake3::hash(token.as_bytes());
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_expire_when_unused_and_end_on_sign_out() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let token = sessions.start("anna", &[], t0).unwrap();
        assert_eq!(sessions.get(&token, t0).unwrap().user, "anna");
        assert!(sessions.get("forged", t0).is_none());
        // Used at 50 s, so still live at 100 s.
        assert!(sessions.get(&token, t0 + Duration::from_secs(50)).is_some());
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(100))
                .is_some()
        );
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(200))
                .is_none()
        );
        let other = sessions.start("bert", &[], t0).unwrap();
        sessions.end(&other);
        assert!(sessions.get(&other, t0).is_none());
    }
}
