//! The writer's claim on the CPU: in the background while it keeps up, at normal
//! priority once events pile up.
//!
//! On a small machine the writer shares a core with the request threads, and a
//! batch write is tens of milliseconds of CPU: at equal priority requests queue
//! behind it (p99 ≈ 14 ms at half of peak load; `SCHED_BATCH` did not help; see
//! docs/load.md). As a `SCHED_IDLE` thread it runs only when the requests leave the
//! core idle. A background thread starves under sustained load, and a starved
//! thread cannot notice that itself, so others promote it: the request that finds
//! the queue three quarters full, and a watchdog thread that finds the writer has not
//! drained the queue for four flush intervals (another process may be using the
//! CPU, and an accepted event must not wait for it longer than that). The writer
//! steps back once it has caught up. Yielding needs no privilege; coming back
//! from `SCHED_IDLE` needs `CAP_SYS_NICE` or `RLIMIT_NICE` ≥ 20 (systemd:
//! `LimitNICE=+0`), so the writer yields only where it can come back (tried at
//! start; otherwise it writes at normal priority and says so).
//!
//! DuckDB runs single-threaded by default (`store.threads`), so its checkpoint work
//! runs on this thread, under this policy. Its own workers at normal priority took
//! the request core (p99 4–5 ms at half peak); born idle-class they starved while
//! the writer waited on them, a priority inversion (16 commits in 20 s at peak).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};

/// Shared by the writer (which yields) and the request side (which promotes).
#[derive(Debug)]
pub struct Priority {
    #[cfg(target_os = "linux")]
    thread: OnceLock<thread_priority::ThreadId>,
    #[cfg(not(target_os = "linux"))]
    thread: OnceLock<()>,
    background: AtomicBool,
    /// Milliseconds after `start` at which the writer last drained the queue.
    drained_at: AtomicU64,
    start: Instant,
    /// Queue depth at which the writer is promoted.
    pub catch_up_at: usize,
    /// Queue depth under which it yields again.
    yield_below: usize,
}

impl Priority {
    /// Promotes at three quarters of the queue (at least two batches waiting) and
    /// steps back when a drain finds no more than a batch. The writer is nudged at
    /// every batch, so a threshold at one batch promoted it at every batch: each
    /// write then competed with the requests (p99 4.5 ms at 24k req/s, against
    /// 0.8 ms with the threshold well above a batch; docs/load.md).
    pub fn new(queue_capacity: usize, batch_size: usize) -> Self {
        Priority {
            thread: OnceLock::new(),
            background: AtomicBool::new(false),
            drained_at: AtomicU64::new(0),
            start: Instant::now(),
            catch_up_at: (queue_capacity / 4 * 3)
                .max(batch_size.saturating_mul(2))
                .min(queue_capacity)
                .max(1),
            yield_below: batch_size.saturating_add(1),
        }
    }

    /// Called once on the writer thread: it becomes the thread this describes, and
    /// yields from now on, if it may compete normally again when promoted.
    pub fn attach_current_thread(&self) {
        #[cfg(target_os = "linux")]
        {
            if !may_return_from_background() {
                tracing::warn!(
                    "the writer cannot yield the CPU to requests: this process may not \
                     return a thread from SCHED_IDLE (it needs RLIMIT_NICE of 20, e.g. \
                     systemd's LimitNICE=+0, or CAP_SYS_NICE); writing at normal \
                     priority, which costs request latency under load"
                );
                return;
            }
            let _ = self.thread.set(thread_priority::thread_native_id());
        }
        #[cfg(not(target_os = "linux"))]
        let _ = self.thread.set(());
        self.step_back();
    }

    /// Called by the writer with the number of events one drain found waiting.
    pub fn observe(&self, waiting: usize) {
        self.drained_at.store(self.elapsed_ms(), Ordering::Release);
        if waiting < self.yield_below {
            self.step_back();
        }
    }

    /// Any thread: the writer competes for the CPU normally from now on.
    pub fn promote(&self) {
        if self.background.swap(false, Ordering::AcqRel) {
            self.apply(false);
        }
    }

    /// On the writer thread: runs a lifecycle chore at normal priority, then goes
    /// back to where the writer was. As a `SCHED_IDLE` thread (or at the query
    /// threads' nice 10, measured) a chore waits on the queries, while the queries
    /// on a store whose days are not sealed yet are slow precisely for want of it.
    pub fn chore<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(thread) = self.thread.get() else {
            return f();
        };
        if let Err(e) = set_policy(thread, false) {
            tracing::debug!("cannot change the writer's scheduling policy: {e}");
        }
        let out = f();
        self.apply(self.background.load(Ordering::Acquire));
        out
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Starts the watchdog: every `interval` it promotes a writer that has not
    /// drained for four intervals (a drain is due every interval; a batch write
    /// under load can take one more). It stops when the returned sender is dropped.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> std::io::Result<Sender<()>> {
        let (stop, stopped) = bounded::<()>(0);
        let this = Arc::clone(self);
        let stale_ms = u64::try_from(interval.as_millis().saturating_mul(4)).unwrap_or(u64::MAX);
        std::thread::Builder::new()
            .name("spoorloos-watch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    let since = this
                        .elapsed_ms()
                        .saturating_sub(this.drained_at.load(Ordering::Acquire));
                    if since > stale_ms {
                        this.promote();
                    }
                }
            })?;
        Ok(stop)
    }

    fn step_back(&self) {
        if !self.background.swap(true, Ordering::AcqRel) {
            self.apply(true);
        }
    }

    fn apply(&self, background: bool) {
        let Some(thread) = self.thread.get() else {
            return;
        };
        // Not fatal: the writer works at any priority, only latency suffers.
        if let Err(e) = set_policy(thread, background) {
            tracing::debug!("cannot change the writer's scheduling policy: {e}");
        }
    }
}

#[cfg(target_os = "linux")]
fn set_policy(
    thread: &thread_priority::ThreadId,
    background: bool,
) -> Result<(), thread_priority::Error> {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityOsValue, ThreadSchedulePolicy,
        set_thread_priority_and_policy,
    };
    let policy = if background {
        NormalThreadSchedulePolicy::Idle
    } else {
        NormalThreadSchedulePolicy::Other
    };
    // The policy is set on `thread`; the nice value (0) on the calling thread,
    // where it is already 0 unless the whole process was niced (then this fails
    // after the policy change, harmlessly).
    set_thread_priority_and_policy(
        *thread,
        ThreadPriority::Os(ThreadPriorityOsValue::default()),
        ThreadSchedulePolicy::Normal(policy),
    )
}

/// Whether a thread that yields may compete normally again: leaving `SCHED_IDLE`
/// needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows nice 0, and the default
/// limit (0) does not. A writer that yielded with no way back would starve under
/// load and drop what it cannot store. Tried on a throwaway thread. (A system-call
/// filter that denies the change altogether leaves the writer at normal priority,
/// which is safe.)
#[cfg(target_os = "linux")]
fn may_return_from_background() -> bool {
    use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
    std::thread::Builder::new()
        .name("spoorloos-probe".into())
        .spawn(|| {
            let me = thread_priority::thread_native_id();
            let _ = set_policy(&me, true);
            let _ = set_policy(&me, false);
            matches!(
                thread_priority::thread_schedule_policy(),
                Ok(ThreadSchedulePolicy::Normal(
                    NormalThreadSchedulePolicy::Other
                ))
            )
        })
        .ok()
        .and_then(|probe| probe.join().ok())
        .unwrap_or(false)
}

#[cfg(not(target_os = "linux"))]
fn set_policy(_thread: &(), _background: bool) -> Result<(), std::convert::Infallible> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
    };

    use super::Priority;

    fn idle() -> ThreadSchedulePolicy {
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
    }

    /// The writer starts in the background, another thread promotes it (by the
    /// request side or the watchdog), and it steps back once it has caught up.
    #[test]
    fn the_writer_yields_is_promoted_and_steps_back() {
        if !super::may_return_from_background() {
            // Unprivileged without RLIMIT_NICE: the writer rightly never yields.
            eprintln!("skipped: this process may not leave SCHED_IDLE");
            return;
        }
        let priority = Arc::new(Priority::new(64, 8));
        // The writer thread answers its policy; asked with `true`, it first drains
        // an empty queue (and so steps back).
        let (ask, asked) = channel::<bool>();
        let (tell, told) = channel();
        let writer = {
            let priority = Arc::clone(&priority);
            std::thread::spawn(move || {
                priority.attach_current_thread();
                for drain in asked {
                    if drain {
                        priority.observe(0);
                    }
                    let _ = tell.send(thread_schedule_policy().ok());
                }
            })
        };
        let policy = |drain: bool| {
            ask.send(drain).expect("writer alive");
            told.recv().expect("answer")
        };
        assert_eq!(policy(false), Some(idle()));
        priority.promote();
        assert_ne!(policy(false), Some(idle()));
        assert_eq!(policy(true), Some(idle()));

        // The watchdog promotes a writer that has not drained for four intervals.
        let _watch = priority.watch(Duration::from_millis(10)).expect("watchdog");
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !priority
                .background
                .load(std::sync::atomic::Ordering::Acquire)
        );
        drop(ask);
        writer.join().expect("writer thread");
    }
}
