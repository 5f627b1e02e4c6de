//! The site a query is asked about: its backend, time zone, "today", and the
//! retention and crowd size its answers follow. The v2 and v1 answers both run
//! their queries through it.

use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::backlog::Backlog;
use super::request::Ctx;
use super::{Backend, Query, QueryError, Row, combine};

/// What a query thread's job gets: the backend and the site's context.
pub struct Site {
    pub backend: Arc<dyn Backend>,
    pub name: String,
    pub tz: Tz,
    pub today: NaiveDate,
    pub now: chrono::NaiveDateTime,
    /// The first UTC day whose events are kept; older days come from aggregates.
    pub events_from: NaiveDate,
    /// Breakdown rows with fewer visitors are folded into `(other)`.
    pub min_crowd: u32,
    /// The ended days whose visits are still to be stored.
    pub backlog: Backlog,
}

impl Site {
    pub fn first_day(&self) -> Result<Option<NaiveDate>, QueryError> {
        Ok(self.backend.first_event(&self.name)?.map(|t| {
            use chrono::TimeZone;
            self.tz.from_utc_datetime(&t).date_naive()
        }))
    }

    pub fn run(&self, q: &Query) -> Result<Vec<Row>, QueryError> {
        if let Some(waiting) = self.backlog.too_many(q.from, q.to) {
            return Err(QueryError::Preparing(waiting));
        }
        combine::run(self.backend.as_ref(), q, self.events_from, self.min_crowd)
    }

    /// A parsing context borrowing `first_day`.
    pub fn ctx<'a>(
        &self,
        first_day: &'a dyn Fn() -> Result<Option<NaiveDate>, QueryError>,
    ) -> Ctx<'a> {
        Ctx {
            site: self.name.clone(),
            tz: self.tz,
            today: self.today,
            first_day,
        }
    }
}
