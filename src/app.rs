//! Wiring, in start-up order: load the GeoIP and spam lists (a bad file stops start-up
//! here), open the store, restore salts and sessions, start the writer, serve; and on
//! shutdown, the reverse: stop accepting, finish requests, drain and flush the writer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Config;
use crate::config::Lifecycle;
use crate::dashboard::{Dashboard, UsersError};
use crate::enrich::geo::{Geo, GeoError};
use crate::enrich::referrer::{SourcesError, use_sources_file};
use crate::filter::bots::{BotList, BotListError};
use crate::filter::spam::{SpamList, SpamListError};
use crate::lifecycle::chores::LifecycleChores;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::pseudonymise::Pseudonymiser;
use crate::pseudonymise::salt::SaltError;
use crate::query::Backend;
use crate::query::api::Engine;
use crate::query::backlog::Backlog;
use crate::query::duckdb::DuckDbBackend;
use crate::query::guard::AuthGuard;
use crate::receive::{self, State};
use crate::store::duckdb::{DuckDbStore, Resources};
use crate::store::writer::{Writer, WriterConfig};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Geo(#[from] GeoError),
    #[error(transparent)]
    Spam(#[from] SpamListError),
    #[error(transparent)]
    Sources(#[from] SourcesError),
    #[error(transparent)]
    Bots(#[from] BotListError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Salt(#[from] SaltError),
    #[error("cannot start the writer thread: {0}")]
    Thread(std::io::Error),
    #[error(transparent)]
    Users(#[from] UsersError),
    #[error("cannot start the query threads: {0}")]
    QueryThreads(#[from] rayon::ThreadPoolBuildError),
}

/// Makes every file and folder this process creates private to its user (umask
/// 077: the database holds today's salt next to today's pseudonyms, exports and
/// reports hold the numbers), whatever umask it was started with, and keeps the
/// process from dumping core (a core file would hold the salts); a panic reports
/// where it happened, not what a request or a file put in its message. Call first.
/// Returns why the process could not be made non-dumpable, if it could not.
pub fn guard_process() -> Option<String> {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "spoorloos: a thread panicked at {location}: {}",
            panic_message(info.payload())
        );
    }));
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior, umask};
        umask(rustix::fs::Mode::from_raw_mode(0o077));
        set_dumpable_behavior(DumpableBehavior::NotDumpable)
            .err()
            .map(|e| format!("cannot stop core dumps (prctl PR_SET_DUMPABLE): {e}"))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// A panic's message as a crash report may show it: a literal written in the code,
/// never a formatted one, which may carry what a request or a file held.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &'static str {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .unwrap_or("(message withheld: it may hold request data)")
}

/// Tightens the database's files that an earlier release (or another umask) left
/// readable by others: they hold today's salt next to today's pseudonyms.
fn tighten(database: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut wal = database.as_os_str().to_owned();
    wal.push(".wal");
    for path in [database.to_path_buf(), std::path::PathBuf::from(wal)] {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o700)) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "made private to the collector's user (was {:o})", mode & 0o777)
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "readable by others and cannot be made private: {e}")
                }
            }
        }
    }
}

/// What the start-up banner tells the person at the machine.
pub struct Started {
    /// While no dashboard user exists: the token of the one-time setup link.
    pub setup_token: Option<String>,
}

/// Runs the collector on `listener` until `shutdown` resolves; returns once every
/// accepted event is written. `ready` is called once the database is open and the
/// writer runs, just before requests are served: a start-up banner printed earlier
/// would announce a collector that may still fail (a full disk, a locked file).
pub async fn run(
    listener: TcpListener,
    config: Config,
    clock: Clock,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(Started),
) -> Result<(), AppError> {
    let geo = Geo::open(
        config.geoip.country.as_deref(),
        config.geoip.connection_type.as_deref(),
        config.geoip.city,
    )?;
    let spam = match &config.filters.referrer_spam_list {
        Some(path) => SpamList::load(path)?,
        None => SpamList::default(),
    };
    if let Some(path) = &config.known_sources {
        let sources = use_sources_file(path)?;
        tracing::info!(path = %path.display(), sources, "known sources loaded");
    }
    let bot_list = match &config.filters.bot_list {
        Some(path) => {
            let list = BotList::load(path)?;
            tracing::info!(
                path = %path.display(),
                patterns = list.len(),
                skipped = list.skipped(),
                "crawler list loaded"
            );
            Some(Arc::new(list))
        }
        None => None,
    };
    tighten(&config.database);
    let mut store =
        DuckDbStore::open_limited(&config.database, Resources::from_config(&config.store))?;
    let now = clock.now();
    let timeout = config.session_timeout();
    let salts = store.load_salts()?;
    let sessions = store.active_sessions((now - timeout).timestamp_micros())?;

    // The Stats API reads through the store's handle (compaction may swap the file).
    // Its queries are cancelled when their request's time is up; the sealer's, which
    // answer for a whole day at nice 10, are not.
    let deadline = std::time::Duration::from_secs(config.limits.request_timeout_secs);
    let api: Arc<dyn Backend> =
        Arc::new(DuckDbBackend::new(store.handle()).with_deadline(deadline));
    let backend: Arc<dyn Backend> = Arc::new(DuckDbBackend::new(store.handle()));
    // Which days' visits the lifecycle is still storing: queries over many of them
    // are refused at once instead of grouping their events.
    let backlog = Backlog::default();
    let stats = Engine::new(api, &config, clock)?.with_backlog(backlog.clone());

    let dashboard = Arc::new(Dashboard::new(&config)?);
    let metrics = Arc::new(Metrics::new());
    let writer_config = WriterConfig {
        queue_capacity: config.store.queue_capacity,
        batch_size: config.store.batch_size,
        flush_interval: config.flush_interval(),
    };
    let chores = LifecycleChores::new(
        Lifecycle {
            session_timeout: timeout,
            ..config.retention.lifecycle()
        },
        clock,
        Some(backend),
        metrics.clone(),
    )
    .with_backlog(backlog);
    let (queue, writer) = Writer::spawn(
        Box::new(store),
        Box::new(chores),
        writer_config,
        metrics.clone(),
    )
    .map_err(AppError::Thread)?;
    let salt_queue = queue.clone();
    let pseudonymiser = Pseudonymiser::new(
        salts,
        now,
        timeout,
        (config.privacy.ipv4_prefix, config.privacy.ipv6_prefix),
        Box::new(move |salts| salt_queue.persist_salts(salts)),
    )?
    .with_max_sessions(config.privacy.max_sessions);
    for session in sessions {
        pseudonymiser.sessions().restore(session);
    }
    let state = Arc::new(State {
        pipeline: match bot_list {
            Some(list) => Pipeline::new(&config, geo, spam, pseudonymiser).with_bot_list(list),
            None => Pipeline::new(&config, geo, spam, pseudonymiser),
        },
        queue,
        metrics,
        trusted_proxies: config.trusted_networks(),
        limits: config.limits.clone(),
        clock,
        stats,
        auth_guard: AuthGuard::default(),
        dashboard: dashboard.clone(),
        login_guard: AuthGuard::default(),
        body_budget: Arc::new(tokio::sync::Semaphore::new(
            config.limits.max_buffered_body_bytes,
        )),
    });

    // Midnight rotation, destruction of yesterday's salt, and session expiry happen
    // on time even when no hits arrive.
    let maintenance = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = state.pipeline.pseudonymiser().maintain(state.clock.now()) {
                    tracing::error!("salt maintenance failed: {e}");
                }
            }
        })
    };

    ready(Started {
        setup_token: dashboard.users.setup_token(),
    });
    receive::serve(listener, state, shutdown).await;
    maintenance.abort();
    tracing::info!("stopped accepting; writing what was accepted");
    tokio::task::spawn_blocking(move || writer.shutdown())
        .await
        .map_err(|e| AppError::Thread(std::io::Error::other(e.to_string())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_report_shows_literal_messages_only() {
        let literal = std::panic::catch_unwind(|| panic!("the writer thread stopped")).unwrap_err();
        assert_eq!(panic_message(&*literal), "the writer thread stopped");
        let path = "/checkout?email=someone@example.org";
        let formatted = std::panic::catch_unwind(|| panic!("bad page {path}")).unwrap_err();
        assert!(!panic_message(&*formatted).contains("someone"));
    }
}
