//! Time, injectable: the collector reads "now" through a [`Clock`], so tests can start
//! it just before midnight to exercise salt rotation with the real binary.

use chrono::{DateTime, Utc};
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// `None`: the system clock. `Some`: time runs from this instant at normal speed.
    start: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    pub fn system() -> Self {
        Self { start: None }
    }

    /// A clock that reads `at` now and advances in real time from there.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            start: Some((at, Instant::now())),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.start {
            None => Utc::now(),
            Some((at, started)) => {
                at + chrono::Duration::from_std(started.elapsed()).unwrap_or_default()
            }
        }
    }
}
