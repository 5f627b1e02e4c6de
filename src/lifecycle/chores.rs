//! The lifecycle's chores on the writer thread ([`writer::Chores`]): every
//! [`LIFECYCLE_EVERY`] (and at start-up) retention (with the roll-up of the days
//! about to expire), the visit days due for sealing, the ended days to roll up, and
//! the compaction a destroyed salt is still owed; between batches, one step at a
//! time (a day's visits stored; once every due day's are, a day's partials stored;
//! once every listed day's are, a day's exact pairs, then a day's roll-up), so
//! ingestion waits on one such step at most. A day's partials are computed through
//! the query engine on a sealer thread of their own, so the writer keeps draining
//! the queue meanwhile, and stored by the writer when they come back.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use crossbeam_channel::{Receiver, Sender, unbounded};

use super::partials::{self, Pending};
use crate::clock::Clock;
use crate::config::Lifecycle;
use crate::metrics::Metrics;
use crate::query::Backend;
use crate::query::backlog::Backlog;
use crate::store::writer::{self, Nudge};
use crate::store::{PartialRow, Store, StoreError};

/// How often the roll-up and retention run.
pub const LIFECYCLE_EVERY: Duration = Duration::from_secs(600);

/// A day's partials as the sealer thread computed them.
type Computed = (Pending, Result<Vec<PartialRow>, String>);

/// The sealer thread and its queues. It is stopped before the writer lets go of
/// the database: a process that exits while the sealer still queries DuckDB
/// crashes in DuckDB's teardown.
struct Sealer {
    jobs: Sender<Pending>,
    done: Receiver<Computed>,
    thread: std::thread::JoinHandle<()>,
}

/// Computes a visit day's partials through the query engine (about fifty queries
/// per site over the day's stored visits), at the query threads' priority (nice
/// 10): ingestion comes first.
fn spawn_sealer(reader: Arc<dyn Backend>, nudge: Nudge) -> std::io::Result<Sealer> {
    let (jobs, received) = unbounded::<Pending>();
    let (send_done, done) = unbounded::<Computed>();
    let thread = std::thread::Builder::new()
        .name("spoorloos-seal".into())
        .spawn(move || {
            crate::query::pool::lower_priority();
            for day in received {
                let rows = partials::compute(reader.as_ref(), &day).map_err(|e| e.to_string());
                if send_done.send((day, rows)).is_err() {
                    break;
                }
                nudge.wake();
            }
        })?;
    Ok(Sealer { jobs, done, thread })
}

pub struct LifecycleChores {
    policy: Lifecycle,
    clock: Clock,
    metrics: Arc<Metrics>,
    /// Computes partials; none without a query engine (then days are not sealed).
    reader: Option<Arc<dyn Backend>>,
    sealer: Option<Sealer>,
    /// The day out with the sealer thread; no other is sent until it comes back.
    out: Option<NaiveDate>,
    /// Computed partials back from the sealer, to store.
    back: Option<Computed>,
    /// Days whose visits are to be stored, in order: a day waits for the one before.
    to_store: VecDeque<Pending>,
    /// The same days, for the query engine, which refuses a query over many of them.
    backlog: Backlog,
    /// Sealed days whose exact pairs are to be stored, after every due day's
    /// visits and every listed day's partials: after an import, queries read all
    /// the days' visits, then their partials, sooner.
    to_pair: VecDeque<NaiveDate>,
    /// Sealed days whose partials are to be computed, in order.
    to_seal: VecDeque<Pending>,
    /// Ended days to roll up, once nothing else waits: queries read a day's
    /// aggregates only after its events expire, and a day about to expire is rolled
    /// up by the run itself.
    to_roll: VecDeque<NaiveDate>,
    due: Instant,
}

impl LifecycleChores {
    pub fn new(
        policy: Lifecycle,
        clock: Clock,
        reader: Option<Arc<dyn Backend>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            policy,
            clock,
            metrics,
            reader,
            sealer: None,
            out: None,
            back: None,
            to_store: VecDeque::new(),
            backlog: Backlog::default(),
            to_pair: VecDeque::new(),
            to_seal: VecDeque::new(),
            to_roll: VecDeque::new(),
            due: Instant::now(),
        }
    }

    /// Tells `backlog` which days' visits wait.
    #[must_use]
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = backlog;
        self
    }

    /// The query engine learns which days' visits are still to be stored.
    fn show_backlog(&self) {
        self.backlog.set(self.to_store.iter().map(|p| p.day));
    }

    fn failed(&self, store: &mut dyn Store, what: &str, e: &StoreError) {
        self.metrics.lifecycle_failed();
        tracing::error!("{what} failed, will retry: {e}");
        writer::recover(store, e);
    }

    /// Compacts the file if a destroyed salt is still owed it; says in the log and
    /// in `/metrics` while that fails.
    fn finish_destruction(&self, store: &mut dyn Store) {
        match store.finish_destruction() {
            Ok(done) => {
                if done {
                    tracing::info!(
                        "the compaction owed since a failed one is done: the file holds nothing deleted"
                    );
                }
                self.metrics.destruction_pending(false);
            }
            Err(e) => {
                tracing::error!(
                    "a destroyed salt is still in the database file: compacting failed, will retry: {e}"
                );
                self.metrics.destruction_pending(true);
            }
        }
    }

    fn events_from(&self) -> NaiveDate {
        self.policy.events_from(self.clock.now().date_naive())
    }

    /// Finds the visit days due for sealing (their visits to store) and the sealed
    /// days still without partials, unless earlier ones are still waiting.
    fn start_sealing(&mut self, store: &mut dyn Store, now: chrono::DateTime<chrono::Utc>) {
        if self.sealer.is_none() {
            return;
        }
        let events_from = self.policy.events_from(now.date_naive());
        let found = if self.to_store.is_empty() {
            partials::pending(store, now, self.policy.session_timeout, events_from)
                .map(|days| self.to_store = days.into())
                .and_then(|()| store.days_without_pairs(events_from))
                .map(|days| self.to_pair = days.into())
        } else {
            Ok(())
        };
        self.show_backlog();
        if let Err(e) = found.and_then(|()| self.refill_partials(store, events_from)) {
            self.failed(store, "finding visit days to seal", &e);
        }
    }

    /// Lists the sealed days still without partials, after the one out.
    fn refill_partials(
        &mut self,
        store: &mut dyn Store,
        events_from: NaiveDate,
    ) -> Result<(), StoreError> {
        let days = partials::without_partials(store, events_from)?;
        let out = self.out;
        self.to_seal = days
            .into_iter()
            .filter(|d| out.is_none_or(|out| d.day > out))
            .collect();
        Ok(())
    }

    /// Stores the visits of the next due day (its exact pairs follow); once none is
    /// left, lists the days whose partials are to be computed. After a failure the
    /// rest waits for the next run.
    fn store_visits(&mut self, store: &mut dyn Store, day: &Pending) {
        match store.store_visits(day.day, day.last_day) {
            Ok(_) => {
                tracing::info!("stored the visits of day {}", day.day);
                self.to_pair.push_back(day.day);
            }
            Err(e) => {
                self.to_store.clear();
                self.failed(store, &format!("storing the visits of day {}", day.day), &e);
            }
        }
        self.show_backlog();
        // The days just stored get their partials after those listed.
        if self.to_store.is_empty()
            && let Err(e) = self.refill_partials(store, self.events_from())
        {
            self.failed(store, "finding visit days to seal", &e);
        }
    }

    /// Stores the exact pairs of the next sealed day, unless its events have expired
    /// meanwhile (their pairs were folded then). After a failure the rest waits for
    /// the next run.
    fn store_pairs(&mut self, store: &mut dyn Store, day: NaiveDate) {
        if day < self.events_from() {
            return;
        }
        match store.store_pairs(day) {
            Ok(true) => tracing::info!("stored the exact pairs of day {day}"),
            Ok(false) => {}
            Err(e) => {
                self.to_pair.clear();
                self.failed(store, &format!("storing the exact pairs of day {day}"), &e);
            }
        }
    }

    /// Rolls up the next ended day. After a failure the rest waits for the next run.
    fn roll_up(&mut self, store: &mut dyn Store, day: NaiveDate) {
        match store.roll_up_day(day, self.policy.min_crowd) {
            Ok(()) => {
                self.metrics.rolled_up(1);
                tracing::info!("rolled up day {day}");
            }
            Err(e) => {
                self.to_roll.clear();
                self.failed(store, &format!("rolling up day {day}"), &e);
            }
        }
    }

    /// Whether listed days' partials are still to come. Exact pairs and roll-ups
    /// wait for them: the sealer then has one core and queries the other, and a
    /// dashboard's first view (no filter) reads partials, not pairs. After an import
    /// that view is fast minutes sooner; a filtered one reads the stored visits
    /// meanwhile.
    fn partials_pending(&self) -> bool {
        self.out.is_some() || !self.to_seal.is_empty()
    }

    /// Stores a day the sealer computed.
    fn store_partials(&mut self, store: &mut dyn Store, (day, rows): Computed) {
        self.out = None;
        let stored = rows
            .map_err(StoreError::Partials)
            .and_then(|rows| partials::store(store, &day, &rows, self.events_from()));
        match stored {
            Ok(true) => {
                self.metrics.sealed();
                tracing::info!("sealed visit day {}", day.day);
            }
            Ok(false) => {}
            Err(e) => {
                self.to_seal.clear();
                self.failed(store, &format!("sealing visit day {}", day.day), &e);
            }
        }
    }
}

impl writer::Chores for LifecycleChores {
    fn start(&mut self, nudge: Nudge) -> std::io::Result<()> {
        if let Some(reader) = self.reader.take() {
            self.sealer = Some(spawn_sealer(reader, nudge)?);
        }
        Ok(())
    }

    fn run_due(&self) -> bool {
        Instant::now() >= self.due
    }

    /// Expires old data (rolling up first the days whose events expire), so that
    /// even a collector stopped right after start-up has done it, and finds the visit
    /// days due for sealing and the ended days to roll up, which the steps take a
    /// day at a time (a day of 334,000 events takes a few seconds); a failure is
    /// retried next time.
    fn run(&mut self, store: &mut dyn Store) {
        self.finish_destruction(store);
        self.due = Instant::now() + LIFECYCLE_EVERY;
        let now = self.clock.now();
        self.start_sealing(store, now);
        match super::run_expiring(store, &self.policy, now) {
            Ok(report) => {
                self.metrics.rolled_up(report.days_rolled_up.len());
                if report != super::Report::default() {
                    tracing::info!(
                        "rolled up {} day(s); expired {} event(s) and {} aggregate row(s)",
                        report.days_rolled_up.len(),
                        report.events_expired,
                        report.aggregates_expired
                    );
                }
            }
            Err(e) => self.failed(store, "roll-up or retention", &e),
        }
        match store.pending_rollup_days(now.date_naive()) {
            Ok(days) => self.to_roll = days.into(),
            Err(e) => self.failed(store, "finding days to roll up", &e),
        }
    }

    fn step_due(&mut self) -> bool {
        if self.back.is_none()
            && let Some(sealer) = &self.sealer
        {
            self.back = sealer.done.try_recv().ok();
        }
        self.back.is_some()
            || !self.to_store.is_empty()
            || (!self.partials_pending() && (!self.to_pair.is_empty() || !self.to_roll.is_empty()))
            || (self.out.is_none() && !self.to_seal.is_empty())
    }

    /// One step: partials back from the sealer stored, else the visits of the next
    /// due day (queries read them from then on), else, once no partials are to
    /// come, the exact pairs of the next sealed day, else the roll-up of the next
    /// ended day; and the next day's partials sent to the sealer thread once no
    /// visits wait, one day out at a time.
    fn step(&mut self, store: &mut dyn Store) {
        if let Some(computed) = self.back.take() {
            self.store_partials(store, computed);
        } else if let Some(day) = self.to_store.pop_front() {
            self.store_visits(store, &day);
            return;
        } else if !self.partials_pending() {
            if let Some(day) = self.to_pair.pop_front() {
                self.store_pairs(store, day);
            } else if let Some(day) = self.to_roll.pop_front() {
                self.roll_up(store, day);
            }
        }
        if self.out.is_some() {
            return;
        }
        let (Some(Sealer { jobs, .. }), Some(day)) = (&self.sealer, self.to_seal.pop_front())
        else {
            return;
        };
        let sent = day.day;
        if jobs.send(day).is_ok() {
            self.out = Some(sent);
        }
    }

    fn salts_replaced(&mut self, store: &mut dyn Store) {
        self.finish_destruction(store);
    }

    /// Ends the sealer after the day it is working on, and waits for it.
    fn stop(&mut self) {
        if let Some(Sealer { jobs, thread, .. }) = self.sealer.take() {
            drop(jobs);
            if thread.join().is_err() {
                tracing::error!("the sealer thread panicked");
            }
        }
    }
}
