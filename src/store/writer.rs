//! The writer: one thread owns the store and appends events in batches.
//!
//! Events arrive packed ([`super::packed`]) through a bounded queue, and are read
//! back in place as they are appended. The request path only ever `try_send`s, so
//! a full queue drops the newest hit (counted as `overload`) instead of making a
//! visitor's page wait. The writer does not wait on the queue itself: woken per
//! event, it cost two context switches per hit on the request core (measured, see
//! docs/load.md). It sleeps until the next flush is due, every `flush_interval`,
//! or until the request side nudges it because a whole batch is waiting; then it
//! drains the queue and writes. If the store fails, the batch is kept and retried; only
//! past a bound (the queue capacity) are the oldest events dropped, as `store_error`.
//! Shutdown drains the queue and flushes before the thread exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded, unbounded};

use super::packed::Packed;
use super::priority::Priority;
use super::{Store, StoreError};
use crate::event::Event;
use crate::metrics::{DropReason, Metrics};
use crate::pseudonymise::salt::Salt;

enum Control {
    Salts(Vec<Salt>),
    /// A batch is waiting in the queue, or a chore has a step to take: now rather
    /// than at the next tick.
    Wake,
    Shutdown,
}

#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    pub queue_capacity: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
}

/// The work the data lifecycle does on the writer thread, which alone holds the
/// store: roll-up, sealing, retention, the compaction a destroyed salt is owed. The
/// lifecycle room decides what is due; the writer calls it between batches, so
/// ingestion never waits on more than one step.
pub trait Chores: Send {
    /// Before the writer thread starts; `nudge` wakes the writer when a step comes
    /// due between its ticks (work finished on a helper thread).
    fn start(&mut self, nudge: Nudge) -> std::io::Result<()>;
    /// Whether the periodic run is due (the writer writes its batch first, so the
    /// run sees every event accepted until now).
    fn run_due(&self) -> bool;
    /// At start-up and when due.
    fn run(&mut self, store: &mut dyn Store);
    /// Whether a step waits (one day's visits to store, partials to store).
    fn step_due(&mut self) -> bool;
    fn step(&mut self, store: &mut dyn Store);
    /// The salts were replaced: a destroyed salt is owed a compaction.
    fn salts_replaced(&mut self, store: &mut dyn Store);
    /// The writer is stopping: helper threads end before the database is let go.
    fn stop(&mut self);
}

/// No chores: a writer that only writes (tests of the writer itself).
pub struct NoChores;

impl Chores for NoChores {
    fn start(&mut self, _: Nudge) -> std::io::Result<()> {
        Ok(())
    }
    fn run_due(&self) -> bool {
        false
    }
    fn run(&mut self, _: &mut dyn Store) {}
    fn step_due(&mut self) -> bool {
        false
    }
    fn step(&mut self, _: &mut dyn Store) {}
    fn salts_replaced(&mut self, _: &mut dyn Store) {}
    fn stop(&mut self) {}
}

/// Wakes the writer thread.
#[derive(Clone)]
pub struct Nudge(Sender<Control>);

impl Nudge {
    pub fn wake(&self) {
        // Unbounded; closed only once the writer is gone, when no one waits.
        let _ = self.0.send(Control::Wake);
    }
}

/// After a fatal error DuckDB refuses every write until the database is opened
/// again (a checkpoint that hit a full disk, say): reopen it, so writing can resume
/// once the cause is gone. A failed reopen is retried on the next error.
pub fn recover(store: &mut dyn Store, e: &StoreError) {
    if e.needs_reopen() {
        match store.reopen() {
            Ok(()) => tracing::warn!("database reopened after a fatal error"),
            Err(e) => tracing::debug!("cannot reopen the database yet: {e}"),
        }
    }
}

/// The request side of the writer: cheap to clone, never blocks.
#[derive(Clone)]
pub struct Queue {
    /// Packed, so a waiting event costs ≈ 0.15 KiB rather than ≈ 0.8 KiB, and the
    /// channel's ring (allocated and touched in full up front) a pointer per slot:
    /// memory follows the queue's depth.
    events: Sender<Packed>,
    control: Sender<Control>,
    metrics: Arc<Metrics>,
    /// Queue depth at which the writer is nudged (its batch size).
    nudge_at: usize,
    /// Set by the request that nudged, cleared by the writer when it drains, so a
    /// busy queue costs one wake-up per batch, not one per event.
    nudged: Arc<AtomicBool>,
    priority: Arc<Priority>,
    /// Whether the writer still takes events; closed at shutdown.
    open: Arc<RwLock<bool>>,
}

/// What became of an event handed to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued: it will be written.
    Queued,
    /// Dropped and counted (the queue was full, or the event could not be packed).
    Dropped,
    /// The writer is stopping (or gone) and takes nothing more: not written, and not
    /// to be acknowledged.
    Closed,
}

impl Queue {
    /// Hands an event to the writer.
    pub fn push(&self, event: &Event) -> Pushed {
        let packed = match Packed::pack(event) {
            Ok(packed) => packed,
            Err(e) => {
                // A bug, not the input's doing; counted where a lost event shows.
                tracing::error!("{e}");
                self.metrics.dropped(DropReason::StoreError);
                return Pushed::Dropped;
            }
        };
        // Held while the event is sent: shutdown closes the gate only once no push
        // is under way, then drains, so nothing is queued after the last drain.
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        if !*open {
            return Pushed::Closed;
        }
        match self.events.try_send(packed) {
            Ok(()) => {
                self.metrics.accepted();
                let depth = self.events.len();
                if depth >= self.nudge_at && !self.nudged.swap(true, Ordering::AcqRel) {
                    let _ = self.control.send(Control::Wake);
                }
                if depth >= self.priority.catch_up_at {
                    self.priority.promote();
                }
                Pushed::Queued
            }
            Err(TrySendError::Full(_)) => {
                self.metrics.dropped(DropReason::Overload);
                Pushed::Dropped
            }
            // The writer thread is gone.
            Err(TrySendError::Disconnected(_)) => Pushed::Closed,
        }
    }

    pub fn depth(&self) -> usize {
        self.events.len()
    }

    /// Asks the writer to replace the stored salts (rare: start-up and midnight).
    pub fn persist_salts(&self, salts: Vec<Salt>) {
        // The control channel is unbounded and only closes after shutdown.
        let _ = self.control.send(Control::Salts(salts));
    }
}

pub struct Writer {
    thread: Option<JoinHandle<()>>,
    control: Sender<Control>,
    /// The queue's gate (see [`Queue::push`]).
    open: Arc<RwLock<bool>>,
    /// Dropping it stops the priority watchdog.
    _watchdog: Sender<()>,
}

impl Writer {
    pub fn spawn(
        store: Box<dyn Store>,
        mut chores: Box<dyn Chores>,
        config: WriterConfig,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Queue, Writer)> {
        let (events_tx, events_rx) = bounded(config.queue_capacity);
        let (control_tx, control_rx) = unbounded();
        let nudged = Arc::new(AtomicBool::new(false));
        let open = Arc::new(RwLock::new(true));
        let priority = Arc::new(Priority::new(config.queue_capacity, config.batch_size));
        chores.start(Nudge(control_tx.clone()))?;
        let worker = Worker {
            nudged: nudged.clone(),
            priority: priority.clone(),
            salts: None,
            salt_failures: 0,
            store,
            chores,
            config,
            metrics: metrics.clone(),
            batch: Vec::with_capacity(config.batch_size),
            backoff_until: None,
            failures: 0,
        };
        let watchdog = priority.watch(config.flush_interval)?;
        let gone = metrics.clone();
        // The first run of the chores counts from here, not from the process start.
        metrics.writer_beat();
        let thread = std::thread::Builder::new()
            .name("spoorloos-writer".into())
            .spawn(move || {
                // Whether it returns or panics, /healthz learns that it has ended.
                let _gone = Ended(gone);
                worker.run(&events_rx, &control_rx);
            })?;
        Ok((
            Queue {
                events: events_tx,
                control: control_tx.clone(),
                metrics,
                nudge_at: config.batch_size.min(config.queue_capacity),
                nudged,
                priority,
                open: open.clone(),
            },
            Writer {
                thread: Some(thread),
                control: control_tx,
                open,
                _watchdog: watchdog,
            },
        ))
    }

    /// Closes the queue (a request still running gets [`Pushed::Closed`], never an
    /// acknowledgement of an event that would not be written), then drains it,
    /// flushes, checkpoints and waits for the thread. Blocking.
    pub fn shutdown(mut self) {
        *self.open.write().unwrap_or_else(PoisonError::into_inner) = false;
        let _ = self.control.send(Control::Shutdown);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// Marks the writer ended when dropped: at its return, or while a panic unwinds it.
struct Ended(Arc<Metrics>);

impl Drop for Ended {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!("the writer thread panicked: accepted hits are no longer written");
        }
        self.0.writer_gone();
    }
}

struct Worker {
    store: Box<dyn Store>,
    chores: Box<dyn Chores>,
    config: WriterConfig,
    metrics: Arc<Metrics>,
    batch: Vec<Packed>,
    nudged: Arc<AtomicBool>,
    priority: Arc<Priority>,
    /// Salts to store (the newest set), kept until the store took them.
    salts: Option<Vec<Salt>>,
    salt_failures: u64,
    /// After a failed write: no new attempt before this, however full the batch.
    backoff_until: Option<Instant>,
    /// Failed attempts since the last successful write (logged once, then on recovery).
    failures: u64,
}

impl Worker {
    fn run(mut self, events: &Receiver<Packed>, control: &Receiver<Control>) {
        self.priority.attach_current_thread();
        // Due days are rolled up and expired data removed before anything else, so
        // even a collector stopped right after start-up has done it.
        let priority = Arc::clone(&self.priority);
        priority.chore(|| self.chores.run(self.store.as_mut()));
        let mut tick = Instant::now() + self.config.flush_interval;
        loop {
            self.metrics.writer_beat();
            // A chore's next step waits for nothing but what arrived meanwhile.
            let wait = if self.chores.step_due() {
                Duration::ZERO
            } else {
                tick.saturating_duration_since(Instant::now())
            };
            let woken = match control.recv_timeout(wait) {
                Ok(Control::Salts(salts)) => {
                    self.salts = Some(salts);
                    self.store_salts();
                    continue;
                }
                Ok(Control::Wake) => true,
                Err(RecvTimeoutError::Timeout) => false,
                Ok(Control::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
            };
            self.drain(events);
            if !woken {
                tick = Instant::now() + self.config.flush_interval;
            }
            // Every tick writes what arrived since the last one, so an accepted
            // event waits at most one flush interval (the kill -9 loss window).
            let backing_off = self.backoff_until.is_some_and(|t| Instant::now() < t);
            if !backing_off && (!woken || self.batch.len() >= self.config.batch_size) {
                self.flush();
                self.store_salts();
            }
            if self.chores.run_due() {
                self.flush();
                priority.chore(|| self.chores.run(self.store.as_mut()));
            }
            if self.chores.step_due() {
                priority.chore(|| self.chores.step(self.store.as_mut()));
            }
            if !woken {
                if let Err(e) = self.store.relax() {
                    tracing::warn!("DuckDB's query settings stay until the next flush: {e}");
                }
                self.store_quality();
            }
        }
        self.chores.stop();
        // Everything accepted before shutdown is written, and salt changes applied.
        for msg in control.try_iter() {
            if let Control::Salts(salts) = msg {
                self.salts = Some(salts);
            }
        }
        self.store_salts();
        for event in events.try_iter() {
            self.batch.push(event);
            if self.batch.len() >= self.config.batch_size {
                self.flush();
            }
        }
        self.flush();
        if let Err(e) = self.store.checkpoint() {
            tracing::error!("final checkpoint failed: {e}");
        }
    }

    /// Writes the per-site counts of dropped hits gathered since the last tick; on
    /// failure they wait for the next.
    fn store_quality(&mut self) {
        let drops = self.metrics.take_site_drops();
        if drops.is_empty() {
            return;
        }
        if let Err(e) = self.store.add_quality(&drops) {
            tracing::warn!("data-quality counts wait for the next flush: {e}");
            self.metrics.return_site_drops(drops);
        }
    }

    /// Stores the salts waiting to be stored, if any; on failure they wait for the
    /// next tick. A destroyed salt stays in the file until this succeeds.
    fn store_salts(&mut self) {
        let Some(salts) = self.salts.take() else {
            return;
        };
        match self.store.replace_salts(&salts) {
            Ok(()) => {
                if self.salt_failures > 0 {
                    tracing::warn!(
                        "salts stored after {} failed attempt(s)",
                        self.salt_failures
                    );
                    self.salt_failures = 0;
                }
                // A destroyed salt's compaction; if it fails, the lifecycle runs (and
                // the next start) try again.
                self.chores.salts_replaced(self.store.as_mut());
            }
            Err(e) => {
                if self.salt_failures == 0 {
                    tracing::error!("cannot store the salts, retrying: {e}");
                }
                self.salt_failures += 1;
                recover(self.store.as_mut(), &e);
                self.salts = Some(salts);
            }
        }
    }

    /// Moves what waits in the queue into the batch; clears the nudge first, so an
    /// event pushed meanwhile can nudge again.
    fn drain(&mut self, events: &Receiver<Packed>) {
        self.nudged.store(false, Ordering::Release);
        self.priority.observe(events.len());
        // A backlog goes in commits of up to four batches (cheaper per row than
        // one batch), and the rest waits in the queue, so a flood cannot keep the
        // writer draining, nor hold a second queue's worth of events in the batch.
        for event in events
            .try_iter()
            .take(self.config.batch_size.saturating_mul(4))
        {
            self.batch.push(event);
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let mut damaged = 0;
        let mut events = self
            .batch
            .iter()
            .filter_map(|packed| packed.view().inspect_err(|_| damaged += 1).ok());
        let appended = self.store.append(&mut events);
        drop(events);
        match appended {
            Ok(()) => {
                if damaged > 0 {
                    tracing::error!("{damaged} packed event(s) could not be read back");
                    self.metrics.dropped_n(DropReason::StoreError, damaged);
                }
                if self.failures > 0 {
                    tracing::warn!(
                        "writing resumed after {} failed attempt(s); {} held event(s) stored",
                        self.failures,
                        self.batch.len()
                    );
                    self.failures = 0;
                    self.backoff_until = None;
                }
                // Recovered before stored: whoever sees the events counted as
                // stored must not still see them pending.
                self.metrics.write_recovered();
                self.metrics.flushed(started.elapsed().as_secs_f64());
                self.metrics.stored(self.batch.len() as u64 - damaged);
                self.batch.clear();
                // A backlog drains in one big batch; its memory goes back after.
                self.batch.shrink_to(self.config.batch_size);
            }
            Err(e) => {
                // Once, not per attempt: a full disk would otherwise flood the log
                // (and the disk) with the same line every interval.
                if self.failures == 0 {
                    tracing::error!(
                        "writing {} events failed, holding them and retrying: {e}",
                        self.batch.len()
                    );
                }
                recover(self.store.as_mut(), &e);
                self.failures += 1;
                let limit = self.config.queue_capacity.max(self.config.batch_size);
                if self.batch.len() > limit {
                    let excess = self.batch.len() - limit;
                    self.batch.drain(..excess);
                    self.metrics
                        .dropped_n(DropReason::StoreError, excess as u64);
                }
                self.metrics.write_failed(self.batch.len());
                // Retry after one more interval rather than spinning on a failing disk.
                self.backoff_until = Some(Instant::now() + self.config.flush_interval);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    use super::*;
    use crate::store::duckdb::DuckDbStore;

    /// A writer thread that panics is known to have ended (`/healthz` says so), and
    /// one that runs beats.
    #[test]
    fn a_panicked_writer_is_known_to_have_ended() {
        struct Panics;
        impl Chores for Panics {
            fn start(&mut self, _: Nudge) -> std::io::Result<()> {
                Ok(())
            }
            fn run_due(&self) -> bool {
                false
            }
            fn run(&mut self, _: &mut dyn Store) {
                panic!("a chore that fails hard");
            }
            fn step_due(&mut self) -> bool {
                false
            }
            fn step(&mut self, _: &mut dyn Store) {}
            fn salts_replaced(&mut self, _: &mut dyn Store) {}
            fn stop(&mut self) {}
        }
        let dir = tempfile::tempdir().expect("dir");
        let config = WriterConfig {
            queue_capacity: 10,
            batch_size: 10,
            flush_interval: Duration::from_millis(20),
        };
        let spawn = |chores: Box<dyn Chores>, name: &str| {
            let store = DuckDbStore::open(&dir.path().join(name)).expect("store");
            let metrics = Arc::new(Metrics::new());
            let (_, writer) =
                Writer::spawn(Box::new(store), chores, config, metrics.clone()).expect("spawn");
            (writer, metrics)
        };
        let (running, beating) = spawn(Box::new(NoChores), "a.duckdb");
        let (panicked, gone) = spawn(Box::new(Panics), "b.duckdb");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while gone.writer_state() != crate::metrics::WriterState::Gone {
            assert!(std::time::Instant::now() < deadline, "still running");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert!(matches!(
            beating.writer_state(),
            crate::metrics::WriterState::Running(idle) if idle < Duration::from_secs(1)
        ));
        panicked.shutdown();
        running.shutdown();
        assert_eq!(beating.writer_state(), crate::metrics::WriterState::Gone);
    }

    /// Events pushed while the writer shuts down are either written or refused
    /// (`Closed`): none is taken after the last drain and lost.
    #[test]
    fn nothing_is_taken_after_the_last_drain() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("writer.duckdb");
        let store = DuckDbStore::open(&path).expect("store");
        let config = WriterConfig {
            queue_capacity: 1_000_000,
            batch_size: 1_000,
            flush_interval: Duration::from_millis(20),
        };
        let (queue, writer) = Writer::spawn(
            Box::new(store),
            Box::new(NoChores),
            config,
            Arc::new(Metrics::new()),
        )
        .expect("spawn");
        let queued = Arc::new(AtomicU64::new(0));
        let pushers: Vec<_> = (0..2)
            .map(|_| {
                let (queue, queued) = (queue.clone(), queued.clone());
                std::thread::spawn(move || {
                    let event = crate::store::packed::tests::event();
                    loop {
                        match queue.push(&event) {
                            Pushed::Queued => {
                                queued.fetch_add(1, Ordering::Relaxed);
                            }
                            Pushed::Dropped => {}
                            Pushed::Closed => break,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        writer.shutdown();
        for pusher in pushers {
            pusher.join().expect("pusher");
        }
        let store = DuckDbStore::open(&path).expect("reopen");
        let written: i64 = store
            .handle()
            .with(|conn| conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)))
            .expect("connection")
            .expect("count");
        let queued = i64::try_from(queued.load(Ordering::Relaxed)).expect("count");
        assert!(queued > 0);
        assert_eq!(written, queued, "accepted events lost at shutdown");
    }
}
