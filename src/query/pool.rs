//! Where stats queries run: a few threads of their own, at a lower priority than the
//! requests, with a bounded wait.
//!
//! DuckDB calls block, so a query cannot run on the request threads. On tokio's
//! blocking threads it ran at the requests' priority: on a busy core a query took
//! half of it, and at 10k hits/s a third of the hits waited for the server to read
//! them, up to 0.65 s (docs/load.md). Here queries run at nice 10, about a tenth of
//! a core the requests keep busy, and all of any CPU they leave. Not `SCHED_IDLE`,
//! like the writer: compaction waits for readers to leave, and DuckDB skips its
//! automatic checkpoint while a reader's transaction is open, so a query must keep
//! moving under load. The nice value cannot be lowered again without privilege, so
//! these threads only ever run queries. DuckDB's extra threads for a query are
//! started by the query's thread and inherit its priority.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, oneshot};

use super::QueryError;

thread_local! {
    /// When the job this query thread runs was asked for: its statements share the
    /// request's time from then on, however many it runs.
    static ASKED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// On a query thread, how long ago its job was asked for (waiting included).
pub fn asked_ago() -> Option<Duration> {
    ASKED.with(|asked| asked.get().map(|t| t.elapsed()))
}

/// A query thread's nice value.
pub const NICE: i32 = 10;

/// Queries run or waiting at once, per query thread; beyond, a query is refused
/// (503) rather than queued without end.
const WAITING_PER_THREAD: usize = 32;

pub struct Pool {
    threads: rayon::ThreadPool,
    admitted: Arc<Semaphore>,
}

impl Pool {
    /// `threads` query threads (at least one).
    pub fn new(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("spoorloos-query-{i}"))
            .start_handler(|_| lower_priority())
            // A panicking query drops its answer's sender; the caller reports it.
            .panic_handler(|_| tracing::error!("a stats query panicked"))
            .build()?;
        Ok(Self {
            threads: pool,
            admitted: Arc::new(Semaphore::new(threads.saturating_mul(WAITING_PER_THREAD))),
        })
    }

    /// Runs `job` on a query thread and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, QueryError> + Send + 'static,
    ) -> Result<T, QueryError> {
        let permit = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| QueryError::Busy)?;
        let (answer, answered) = oneshot::channel();
        let asked = Instant::now();
        self.threads.spawn(move || {
            let _permit = permit;
            // A caller that gave up while the query waited (its request timed out,
            // its connection closed) needs no answer: under load, waiting queries
            // must not pile up work nobody reads.
            if answer.is_closed() {
                return;
            }
            ASKED.with(|a| a.set(Some(asked)));
            let result = job();
            ASKED.with(|a| a.set(None));
            let _ = answer.send(result);
        });
        answered
            .await
            .map_err(|_| QueryError::Backend("a stats query panicked".into()))?
    }
}

/// Nice 10 for the calling thread, for good: the query threads, and the writer's
/// sealer, which runs the engine's queries over a whole day.
#[cfg(target_os = "linux")]
pub(crate) fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
    // thread-priority maps its 0–99 scale onto nice 19…-20; 22 is nice 10 (tested).
    let nice_10 = ThreadPriorityValue::try_from(22u8).map(ThreadPriority::Crossplatform);
    // Not fatal: queries work at any priority, only request latency suffers.
    if let Err(e) = nice_10
        .map_err(|e| e.to_string())
        .and_then(|p| set_current_thread_priority(p).map_err(|e| e.to_string()))
    {
        tracing::debug!("cannot lower this thread's priority: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_priority() {}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::{NICE, Pool, QueryError};

    /// The nice value of the calling thread (field 19 of its `stat`).
    #[cfg(target_os = "linux")]
    fn own_nice() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // The command name may hold spaces; the fields after it do not.
        let after_name = &stat[stat.rfind(')')? + 2..];
        after_name.split(' ').nth(16)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn queries_run_at_a_lower_priority() {
        let pool = Pool::new(1).expect("pool");
        let caller = own_nice().expect("caller's nice value");
        let nice = pool.run(|| Ok(own_nice())).await.expect("answer");
        // At least 10: a process already niced further keeps its value.
        assert_eq!(nice, Some(NICE.max(caller)));
        assert_eq!(own_nice(), Some(caller), "the caller keeps its priority");
    }

    /// Beyond what may wait, a query is refused at once (503), not queued.
    #[tokio::test]
    async fn a_full_pool_refuses_with_busy() {
        let pool = std::sync::Arc::new(Pool::new(1).expect("pool"));
        let (release, released) = mpsc::channel::<()>();
        let released = std::sync::Arc::new(std::sync::Mutex::new(released));
        let mut held = Vec::new();
        for _ in 0..super::WAITING_PER_THREAD {
            let (pool, released) = (pool.clone(), released.clone());
            held.push(tokio::spawn(async move {
                pool.run(move || {
                    let _ = released.lock().map(|r| r.recv());
                    Ok(())
                })
                .await
            }));
        }
        // Let every held query take its permit.
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = pool.run(|| Ok(())).await;
        assert!(matches!(refused, Err(QueryError::Busy)), "{refused:?}");
        assert_eq!(QueryError::Busy.status(), 503);
        for _ in 0..super::WAITING_PER_THREAD {
            release.send(()).expect("a held query");
        }
        for h in held {
            assert!(h.await.expect("task").is_ok());
        }
        assert!(
            pool.run(|| Ok(())).await.is_ok(),
            "admits again once drained"
        );
    }

    /// A query whose caller left while it waited is not run.
    #[tokio::test]
    async fn a_query_nobody_waits_for_is_skipped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let pool = std::sync::Arc::new(Pool::new(1).expect("pool"));
        let (release, released) = mpsc::channel::<()>();
        let blocker = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = released.recv();
                    Ok(())
                })
                .await
            })
        };
        let ran = std::sync::Arc::new(AtomicBool::new(false));
        let abandoned = {
            let (pool, ran) = (pool.clone(), ran.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    ran.store(true, Ordering::SeqCst);
                    Ok(())
                })
                .await
            })
        };
        // Both queued (the blocker running), then the second caller gives up.
        while pool.admitted.available_permits() > super::WAITING_PER_THREAD - 2 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).expect("blocker");
        assert!(blocker.await.expect("task").is_ok());
        // The pool runs jobs in order on its one thread: once this one answers,
        // the abandoned one has been taken off the queue.
        assert!(pool.run(|| Ok(())).await.is_ok());
        assert!(!ran.load(Ordering::SeqCst), "the abandoned query ran");
    }
}
