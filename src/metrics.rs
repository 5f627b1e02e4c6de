//! Telemetry: every hit is counted once, as accepted or as dropped with its reason,
//! and the writer reports its queue and flushes. `/metrics` renders these in the
//! Prometheus/OpenMetrics text format. Nothing here ever carries visitor data.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Why a hit was not stored. Each reason is a label value of `hits_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Crawler, monitor, headless/automation browser, HTTP library or empty UA.
    Bot,
    /// The domain is not a configured site.
    UnknownSite,
    /// The referrer is on the referrer-spam list.
    SpamReferrer,
    /// A prefetch or prerender, not a view.
    Prefetch,
    /// GPC/DNT under the `drop` policy.
    PrivacySignal,
    /// The writer's queue was full.
    Overload,
    /// The store failed and the retry buffer was full.
    StoreError,
}

impl DropReason {
    pub const ALL: [DropReason; 7] = [
        Self::Bot,
        Self::UnknownSite,
        Self::SpamReferrer,
        Self::Prefetch,
        Self::PrivacySignal,
        Self::Overload,
        Self::StoreError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::UnknownSite => "unknown_site",
            Self::SpamReferrer => "spam_referrer",
            Self::Prefetch => "prefetch",
            Self::PrivacySignal => "privacy_signal",
            Self::Overload => "overload",
            Self::StoreError => "store_error",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    accepted: Counter,
    dropped: Family<ReasonLabel, Counter>,
    bots: Family<KindLabel, Counter>,
    stored: Counter,
    invalid: Counter,
    queue_depth: Gauge,
    flush_seconds: Histogram,
    write_errors: Counter,
    retry_pending: Gauge,
    destruction_pending: Gauge,
    auth_failures: Counter,
    auth_limited: Counter,
    sealed: Counter,
    rolled_up: Counter,
    lifecycle_errors: Counter,
    /// Hits dropped per configured site, UTC day and reason, not yet written to the
    /// store (the writer takes them every flush; the dashboard shows them by period).
    site_drops: std::sync::Mutex<SiteDrops>,
    /// When the writer last went round its loop, in milliseconds since `origin`.
    writer_beat: std::sync::atomic::AtomicU64,
    /// The writer thread has ended (stopped, or panicked).
    writer_gone: std::sync::atomic::AtomicBool,
    origin: std::time::Instant,
}

/// How the writer thread is doing, for `/healthz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterState {
    /// It went round its loop this long ago.
    Running(std::time::Duration),
    /// Its thread has ended: nothing accepted is written any more.
    Gone,
}

/// Dropped hits by (site, UTC day, reason): anonymous counts.
pub type SiteDrops =
    std::collections::HashMap<(std::sync::Arc<str>, chrono::NaiveDate, DropReason), u64>;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("spoorloos");
        let accepted = Counter::default();
        let dropped = Family::<ReasonLabel, Counter>::default();
        let bots = Family::<KindLabel, Counter>::default();
        let stored = Counter::default();
        let invalid = Counter::default();
        let queue_depth = Gauge::default();
        // 100 µs … ~3 s.
        let flush_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let write_errors = Counter::default();
        let retry_pending = Gauge::default();
        let destruction_pending = Gauge::default();
        let auth_failures = Counter::default();
        let auth_limited = Counter::default();
        let sealed = Counter::default();
        let rolled_up = Counter::default();
        let lifecycle_errors = Counter::default();
        registry.register(
            "store_write_errors",
            "Batch writes the store refused (full disk, I/O error); the batch is retried",
            write_errors.clone(),
        );
        registry.register(
            "store_retry_pending",
            "Events held by the writer after a failed write, waiting for a retry",
            retry_pending.clone(),
        );
        registry.register(
            "salt_destruction_pending",
            "1 while a destroyed salt's bytes are still in the database file because \
             compacting it failed (retried at every start and lifecycle run)",
            destruction_pending.clone(),
        );
        registry.register(
            "api_auth_failures",
            "Stats API requests with a missing or wrong key",
            auth_failures.clone(),
        );
        registry.register(
            "api_auth_limited",
            "Stats API requests refused (429) after too many wrong keys from one client",
            auth_limited.clone(),
        );
        registry.register(
            "hits_accepted",
            "Hits accepted for storage",
            accepted.clone(),
        );
        registry.register(
            "hits_dropped",
            "Hits answered but not stored, by reason",
            dropped.clone(),
        );
        registry.register(
            "bots_dropped",
            "Hits dropped as bots, by what gave them away (they add up to \
             hits_dropped{reason=\"bot\"})",
            bots.clone(),
        );
        registry.register(
            "events_stored",
            "Events written to the store",
            stored.clone(),
        );
        registry.register(
            "requests_invalid",
            "Requests rejected as malformed (4xx)",
            invalid.clone(),
        );
        registry.register(
            "queue_depth",
            "Events waiting for the writer",
            queue_depth.clone(),
        );
        registry.register(
            "batch_flush_seconds",
            "Time to append and commit one batch",
            flush_seconds.clone(),
        );
        registry.register(
            "visit_days_sealed",
            "Visit days whose partials were stored (queries read them instead of events)",
            sealed.clone(),
        );
        registry.register(
            "days_rolled_up",
            "Ended days rolled up into the anonymous daily aggregates",
            rolled_up.clone(),
        );
        registry.register(
            "lifecycle_errors",
            "Roll-up, retention or sealing runs that failed (retried every 10 minutes; \
             retention runs even when a roll-up fails)",
            lifecycle_errors.clone(),
        );
        // Every reason is present from the start, so a dashboard sees zeros, not gaps.
        for reason in DropReason::ALL {
            let _ = dropped.get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            });
        }
        Self {
            registry,
            accepted,
            dropped,
            bots,
            stored,
            invalid,
            queue_depth,
            flush_seconds,
            write_errors,
            retry_pending,
            destruction_pending,
            auth_failures,
            auth_limited,
            sealed,
            rolled_up,
            lifecycle_errors,
            site_drops: std::sync::Mutex::default(),
            writer_beat: std::sync::atomic::AtomicU64::new(0),
            writer_gone: std::sync::atomic::AtomicBool::new(false),
            origin: std::time::Instant::now(),
        }
    }

    /// The writer goes round its loop (at least every flush interval unless a step
    /// of work holds it).
    pub fn writer_beat(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.writer_beat
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// The writer thread has ended.
    pub fn writer_gone(&self) {
        self.writer_gone
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn writer_state(&self) -> WriterState {
        if self.writer_gone.load(std::sync::atomic::Ordering::Relaxed) {
            return WriterState::Gone;
        }
        let beat = self.writer_beat.load(std::sync::atomic::Ordering::Relaxed);
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        WriterState::Running(std::time::Duration::from_millis(now.saturating_sub(beat)))
    }

    /// A batch write failed; `pending` events wait for the retry.
    pub fn write_failed(&self, pending: usize) {
        self.write_errors.inc();
        self.retry_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// Whether a destroyed salt's compaction is still owed after a failure.
    pub fn destruction_pending(&self, pending: bool) {
        self.destruction_pending.set(i64::from(pending));
    }

    /// Events the writer holds after a failed write (0 while writes succeed).
    pub fn retry_pending(&self) -> i64 {
        self.retry_pending.get()
    }

    /// The writer holds no failed batch any more.
    pub fn write_recovered(&self) {
        self.retry_pending.set(0);
    }

    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    pub fn auth_limited(&self) {
        self.auth_limited.inc();
    }

    pub fn sealed(&self) {
        self.sealed.inc();
    }

    pub fn rolled_up(&self, days: usize) {
        self.rolled_up
            .inc_by(u64::try_from(days).unwrap_or(u64::MAX));
    }

    pub fn lifecycle_failed(&self) {
        self.lifecycle_errors.inc();
    }

    pub fn accepted(&self) {
        self.accepted.inc();
    }

    pub fn dropped(&self, reason: DropReason) {
        self.dropped_n(reason, 1);
    }

    /// A hit dropped as a bot, by `kind` (empty, crawler, http_client, …), beside
    /// [`Self::dropped`].
    pub fn bot_dropped(&self, kind: &'static str) {
        self.bots.get_or_create(&KindLabel { kind }).inc();
    }

    /// One hit for `site` dropped on `day` (UTC) for `reason`, beside [`Self::dropped`].
    pub fn dropped_for(
        &self,
        site: &std::sync::Arc<str>,
        day: chrono::NaiveDate,
        reason: DropReason,
    ) {
        let mut drops = self.site_drops.lock().unwrap_or_else(|p| p.into_inner());
        *drops.entry((site.clone(), day, reason)).or_default() += 1;
    }

    /// The per-site counts gathered since the last call.
    pub fn take_site_drops(&self) -> SiteDrops {
        std::mem::take(&mut *self.site_drops.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Gives counts back that could not be written, to be written with the next.
    pub fn return_site_drops(&self, back: SiteDrops) {
        let mut drops = self.site_drops.lock().unwrap_or_else(|p| p.into_inner());
        for (key, n) in back {
            *drops.entry(key).or_default() += n;
        }
    }

    pub fn dropped_n(&self, reason: DropReason, n: u64) {
        self.dropped
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .inc_by(n);
    }

    pub fn invalid(&self) {
        self.invalid.inc();
    }

    pub fn stored(&self, n: u64) {
        self.stored.inc_by(n);
    }

    pub fn flushed(&self, seconds: f64) {
        self.flush_seconds.observe(seconds);
    }

    pub fn accepted_total(&self) -> u64 {
        self.accepted.get()
    }

    /// Hits dropped for `reason` since start.
    pub fn dropped_total(&self, reason: DropReason) -> u64 {
        self.dropped
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .get()
    }

    pub fn stored_total(&self) -> u64 {
        self.stored.get()
    }

    /// Renders the text exposition with the current queue depth.
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
