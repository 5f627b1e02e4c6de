//! Query: the Stats API engine, Plausible-compatible (v2 `POST /api/v2/query` and the
//! v1 `GET /api/v1/stats/*` endpoints) over the stored events.
//!
//! A request flows through four steps, one file each:
//! [`request`] parses and validates JSON (v2) or query-string (v1, [`v1`]) input into a
//! typed [`Query`]; [`plan`] renders `sql/query/*.sql` from allow-listed fragments
//! with every user value as a bound parameter; a [`Backend`] ([`duckdb`]) executes it;
//! [`api`] shapes the response and checks the API key ([`keys`]).
//!
//! Counting rules (recorded on issue 4):
//! - a visit is a session; its attributes (source, channel, UTM tags, country, device,
//!   browser, OS, screen, connection, entry and exit page) are those of its first event
//!   in the queried range, as in the `sessions` view;
//! - an event without a visitor id (a privacy-signal hit) counts as one visitor and one
//!   visit of its own;
//! - `engagement` events feed only `time_on_page` and `scroll_depth`;
//! - goals are custom event names (everything but `pageview` and `engagement`).

pub mod aggregates;
pub mod api;
pub mod combine;
pub mod duckdb;
pub mod guard;
pub mod keys;
pub mod partials;
pub mod plan;
pub mod pool;
pub mod request;
pub mod v1;

use chrono::{NaiveDate, NaiveDateTime};

/// Why a query is refused. The Display text is the `error` of the response.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
    #[error("Missing API key. Please use a valid API key as a Bearer Token.")]
    MissingKey,
    #[error("Invalid API key.")]
    BadKey,
    #[error("The API key may not read site `{0}`.")]
    Forbidden(String),
    #[error("the query failed; see the collector's log")]
    Backend(String),
    #[error("Too many stats queries are waiting; try again shortly.")]
    Busy,
}

impl QueryError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// The HTTP status for this error, decided in one place.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::MissingKey | Self::BadKey => 401,
            Self::Forbidden(_) => 403,
            Self::Backend(_) => 500,
            Self::Busy => 503,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
    Events,
    Percentage,
    TimeOnPage,
    ScrollDepth,
    ConversionRate,
    // Internal sums (not in [`Metric::ALL`], so no request can name them): the parts
    // [`combine`] needs to fold rows into `(other)` and to add events to aggregates.
    /// Visits in the group's visit metrics (`sm.sessions`).
    Sessions,
    /// Bouncing visits among them.
    Bounces,
    /// Their summed duration, seconds.
    Duration,
    /// Their summed pageviews.
    SessionPageviews,
    /// Visitors of the whole answer (the `percentage` denominator).
    TotalVisitors,
    /// Summed engaged milliseconds (`time_on_page` numerator).
    EngagedMs,
    /// Visitors with engagement (`time_on_page` denominator).
    EngagedVisitors,
}

impl Metric {
    pub const ALL: &[Metric] = &[
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::Events,
        Metric::Percentage,
        Metric::TimeOnPage,
        Metric::ScrollDepth,
        Metric::ConversionRate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::Percentage => "percentage",
            Metric::TimeOnPage => "time_on_page",
            Metric::ScrollDepth => "scroll_depth",
            Metric::ConversionRate => "conversion_rate",
            Metric::Sessions => "_sessions",
            Metric::Bounces => "_bounces",
            Metric::Duration => "_duration",
            Metric::SessionPageviews => "_session_pageviews",
            Metric::TotalVisitors => "_total_visitors",
            Metric::EngagedMs => "_engaged_ms",
            Metric::EngagedVisitors => "_engaged_visitors",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// Computed from visits (sessions), not events: Plausible's "session metrics".
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Metric::BounceRate
                | Metric::VisitDuration
                | Metric::ViewsPerVisit
                | Metric::Sessions
                | Metric::Bounces
                | Metric::Duration
                | Metric::SessionPageviews
        )
    }

    /// Answered as a decimal number; the others are integers.
    pub fn is_float(self) -> bool {
        matches!(
            self,
            Metric::ViewsPerVisit | Metric::Percentage | Metric::ConversionRate
        )
    }
}

/// A property that can be a dimension or a filter: its API name and the fixed SQL
/// expression it reads. Visit properties read the visit's first event (`v_*`).
#[derive(Debug, PartialEq, Eq)]
pub struct Prop {
    pub name: &'static str,
    /// Over a row of `ev`/`matched` (event plus its visit's attributes).
    pub expr: &'static str,
    /// Over a row of `sess`, for visit metrics; `None` for event-only properties.
    pub session_expr: Option<&'static str>,
}

macro_rules! visit_prop {
    ($name:literal, $expr:literal) => {
        Prop {
            name: $name,
            expr: $expr,
            session_expr: Some($expr),
        }
    };
}

/// The allow-list: every property a query may name, and the only SQL it can produce.
pub static PROPS: &[Prop] = &[
    Prop {
        name: "event:page",
        expr: "pathname",
        // A page's visit metrics are those of the visits that entered on it (Plausible).
        session_expr: Some("coalesce(v_entry_page, '(none)')"),
    },
    Prop {
        name: "event:hostname",
        expr: "hostname",
        session_expr: None,
    },
    Prop {
        name: "event:name",
        expr: "name",
        session_expr: None,
    },
    Prop {
        name: "event:goal",
        expr: "CASE WHEN name NOT IN ('pageview', 'engagement') THEN name END",
        session_expr: None,
    },
    visit_prop!("visit:entry_page", "coalesce(v_entry_page, '(none)')"),
    visit_prop!("visit:exit_page", "coalesce(v_exit_page, '(none)')"),
    visit_prop!("visit:source", "coalesce(v_source, 'Direct / None')"),
    visit_prop!("visit:referrer", "coalesce(v_referrer, 'Direct / None')"),
    visit_prop!("visit:channel", "v_channel"),
    visit_prop!("visit:utm_source", "coalesce(v_utm_source, '(none)')"),
    visit_prop!("visit:utm_medium", "coalesce(v_utm_medium, '(none)')"),
    visit_prop!("visit:utm_campaign", "coalesce(v_utm_campaign, '(none)')"),
    visit_prop!("visit:utm_content", "coalesce(v_utm_content, '(none)')"),
    visit_prop!("visit:utm_term", "coalesce(v_utm_term, '(none)')"),
    visit_prop!("visit:country", "coalesce(v_country, '(none)')"),
    visit_prop!("visit:device", "v_device"),
    visit_prop!("visit:browser", "v_browser"),
    visit_prop!("visit:browser_version", "v_browser_version"),
    visit_prop!("visit:os", "v_os"),
    visit_prop!("visit:os_version", "v_os_version"),
    visit_prop!(
        "visit:connection_type",
        "coalesce(v_connection_type, '(none)')"
    ),
    visit_prop!("visit:screen", "coalesce(v_screen, '(none)')"),
];

impl Prop {
    pub fn parse(name: &str) -> Option<&'static Prop> {
        PROPS.iter().find(|p| p.name == name)
    }

    pub fn is_event(&self) -> bool {
        self.name.starts_with("event:")
    }

    pub fn is_goal_or_name(&self) -> bool {
        matches!(self.name, "event:goal" | "event:name")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Prop(&'static Prop),
    Time(Granularity),
}

impl Dimension {
    pub fn is_time(self) -> bool {
        matches!(self, Dimension::Time(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Is,
    IsNot,
    Contains,
    ContainsNot,
    Matches,
    MatchesNot,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Leaf {
        op: Op,
        prop: &'static Prop,
        values: Vec<String>,
        case_sensitive: bool,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    /// Every property the filter reads, at any depth.
    pub fn props(&self, out: &mut Vec<&'static Prop>) {
        match self {
            Filter::Leaf { prop, .. } => out.push(prop),
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| f.props(out)),
            Filter::Not(f) => f.props(out),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKey {
    Metric(usize),
    Dimension(usize),
}

/// A UTC offset that applies from `from_micros` (UTC) on; the first segment starts at
/// the beginning of time. One segment for UTC, a few per year with daylight saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSegment {
    pub from_micros: i64,
    pub offset_secs: i32,
}

/// A validated query, ready to plan. Times are UTC, `to` exclusive.
#[derive(Debug, Clone)]
pub struct Query {
    pub site: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub metrics: Vec<Metric>,
    pub dimensions: Vec<Dimension>,
    /// Top-level filters, all of which must hold.
    pub filters: Vec<Filter>,
    pub order_by: Vec<(OrderKey, bool)>,
    pub limit: u64,
    pub offset: u64,
    pub offsets: Vec<OffsetSegment>,
    /// Which visits the query reads, by the day they began.
    pub visits: VisitDays,
}

/// A restriction of a [`Query`] to visits by the UTC day they began (inclusive
/// bounds). Visit partials are the engine's answers over `Only` one day's visits;
/// a query that reads partials for some days asks the events for `Except` those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VisitDays {
    #[default]
    All,
    Only(NaiveDate, NaiveDate),
    Except(NaiveDate, NaiveDate),
}

/// One result row: dimension labels and metric values in the query's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub dimensions: Vec<String>,
    pub metrics: Vec<serde_json::Value>,
}

/// The narrow read interface: DuckDB today ([`duckdb::DuckDbBackend`]), another store
/// later. Blocking; the engine calls it on its query threads ([`pool`]).
pub trait Backend: Send + Sync + 'static {
    fn run(&self, query: &Query) -> Result<Vec<Row>, QueryError>;
    /// The first day with an event or a daily aggregate for the site (for
    /// `date_range: "all"`), UTC.
    fn first_event(&self, site: &str) -> Result<Option<NaiveDateTime>, QueryError>;
    /// Sums over the anonymous daily aggregates ([`aggregates`]).
    fn run_aggregates(
        &self,
        query: &aggregates::AggQuery,
    ) -> Result<Vec<combine::Bases>, QueryError>;
    /// Sums over the visit partials of sealed days ([`partials`]).
    fn run_partials(
        &self,
        query: &partials::PartialQuery,
    ) -> Result<Vec<combine::Bases>, QueryError>;
    /// The sealed visit days in `[from, to)`, in order, each with the day of its
    /// visits' last event.
    fn sealed_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, NaiveDate)>, QueryError>;
}
