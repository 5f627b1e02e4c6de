//! Daily salts: 32 random bytes from the OS, one per UTC day.
//!
//! A salt is the only thing that links a day's hits from one visitor, so it is the
//! thing to destroy: at 00:00 UTC a fresh salt replaces it, the old one is kept only
//! while a session that started before midnight may still be active (the session
//! timeout), then it is wiped from memory and, through the persist callback, from the
//! store. A restart within the day reads the salt back so visitors are not split.

use chrono::NaiveDate;

/// One day's salt. `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt {
    pub day: NaiveDate,
    pub key: [u8; 32],
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Salt")
            .field("day", &self.day)
            .field("key", &"<secret>")
            .finish()
    }
}

impl Drop for Salt {
    fn drop(&mut self) {
        // Best effort: leave no copy of a destroyed salt in freed memory.
        self.key = [0; 32];
        std::hint::black_box(&self.key);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct SaltError(getrandom::Error);

impl Salt {
    pub fn generate(day: NaiveDate) -> Result<Self, SaltError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(SaltError)?;
        Ok(Self { day, key })
    }
}

/// The salts in use: today's, and yesterday's while sessions may still span midnight.
#[derive(Debug)]
pub struct SaltRing {
    pub current: Salt,
    pub previous: Option<Salt>,
}

impl SaltRing {
    /// Starts from persisted salts: today's is reused, yesterday's kept as previous,
    /// anything else is discarded; a missing salt for today is generated.
    pub fn restore(persisted: Vec<Salt>, today: NaiveDate) -> Result<(Self, bool), SaltError> {
        let yesterday = today.pred_opt();
        let mut current = None;
        let mut previous = None;
        let count = persisted.len();
        for salt in persisted {
            if salt.day == today {
                current = Some(salt);
            } else if Some(salt.day) == yesterday {
                previous = Some(salt);
            }
        }
        let generated = current.is_none();
        let current = match current {
            Some(salt) => salt,
            None => Salt::generate(today)?,
        };
        let kept = 1 + usize::from(previous.is_some());
        let changed = generated || kept != count;
        Ok((Self { current, previous }, changed))
    }

    /// Moves to `today` if the day has changed, forwards or back; `true` when it
    /// rotated. A clock that went back gets a fresh salt for the day it shows: the
    /// salt of a later day is destroyed, not used for many days.
    pub fn rotate_to(&mut self, today: NaiveDate) -> Result<bool, SaltError> {
        if self.current.day == today {
            return Ok(false);
        }
        let fresh = Salt::generate(today)?;
        let old = std::mem::replace(&mut self.current, fresh);
        // Only yesterday's salt can still join a session; older ones go at once.
        self.previous = (Some(old.day) == today.pred_opt()).then_some(old);
        Ok(true)
    }

    /// Destroys the previous salt; `true` when there was one.
    pub fn destroy_previous(&mut self) -> bool {
        self.previous.take().is_some()
    }

    /// The salts to persist, newest first.
    pub fn snapshot(&self) -> Vec<Salt> {
        std::iter::once(self.current.clone())
            .chain(self.previous.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    #[test]
    fn rotation_keeps_only_yesterday() {
        let (mut ring, changed) = SaltRing::restore(Vec::new(), day(1)).unwrap();
        assert!(changed);
        let first = ring.current.key;
        assert!(!ring.rotate_to(day(1)).unwrap_or(true));
        assert!(ring.rotate_to(day(2)).unwrap_or(false));
        assert_ne!(ring.current.key, first);
        assert_eq!(ring.previous.as_ref().map(|s| s.key), Some(first));
        assert!(ring.destroy_previous());
        assert!(ring.previous.is_none());
        // A gap of several days keeps no previous salt.
        assert!(ring.rotate_to(day(5)).unwrap_or(false));
        assert!(ring.previous.is_none());
        // A clock that jumps ahead and back: each day it shows has a salt of its
        // own, and the later day's is gone.
        assert!(ring.rotate_to(day(20)).unwrap_or(false));
        let ahead = ring.current.key;
        assert!(ring.rotate_to(day(5)).unwrap_or(false));
        assert_eq!(ring.current.day, day(5));
        assert_ne!(ring.current.key, ahead);
        assert!(ring.previous.is_none());
    }

    #[test]
    fn restore_reuses_today_and_drops_old() {
        let today = Salt::generate(day(10)).unwrap();
        let old = Salt::generate(day(7)).unwrap();
        let key = today.key;
        let (ring, changed) = SaltRing::restore(vec![old, today], day(10)).unwrap();
        assert_eq!(ring.current.key, key);
        assert!(ring.previous.is_none());
        assert!(changed, "the stale salt must be deleted from the store");
        assert!(format!("{ring:?}").contains("<secret>"));
    }
}
