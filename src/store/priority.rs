//! The writer's claim on the CPU: in the background while it keeps up, at normal
//! priority once events pile up.
//!
//! On a small machine the writer shares a core with the request threads, and a
//! batch write is tens of milliseconds of CPU: at equal priority requests queue
//! behind it (p99 ≈ 14 ms at half of peak load; `SCHED_BATCH` did not help; see
//! docs/load.md). As a `SCHED_IDLE` thread it runs only when the requests leave the
//! core idle. A background thread starves under sustained load, and a starved
//! thread cannot notice that itself, so the request that finds the queue a quarter
//! full promotes the writer; the writer steps back once it has caught up.
//! Switching between `SCHED_IDLE` and `SCHED_OTHER` needs no privilege.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared by the writer (which yields) and the request side (which promotes).
#[derive(Debug)]
pub struct Priority {
    #[cfg(target_os = "linux")]
    thread: OnceLock<thread_priority::ThreadId>,
    #[cfg(not(target_os = "linux"))]
    thread: OnceLock<()>,
    background: AtomicBool,
    /// Queue depth at which the writer is promoted.
    pub catch_up_at: usize,
    /// Queue depth under which it yields again.
    yield_below: usize,
}

impl Priority {
    pub fn new(queue_capacity: usize) -> Self {
        Priority {
            thread: OnceLock::new(),
            background: AtomicBool::new(false),
            catch_up_at: (queue_capacity / 4).max(1),
            yield_below: queue_capacity / 16,
        }
    }

    /// Called once on the writer thread: it becomes the thread this describes.
    pub fn attach_current_thread(&self) {
        #[cfg(target_os = "linux")]
        let _ = self.thread.set(thread_priority::thread_native_id());
        #[cfg(not(target_os = "linux"))]
        let _ = self.thread.set(());
        self.step_back();
    }

    /// Called by the writer with the number of events one drain found waiting.
    pub fn observe(&self, waiting: usize) {
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

#[cfg(not(target_os = "linux"))]
fn set_policy(_thread: &(), _background: bool) -> Result<(), std::convert::Infallible> {
    Ok(())
}
