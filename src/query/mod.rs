//! Query: the Stats API engine, Plausible-compatible (v2 `POST /api/v2/query` and the
//! v1 `GET /api/v1/stats/*` endpoints) over the stored events.
//!
//! A request flows through four steps, one file each:
//! [`request`] parses and validates JSON (v2) or query-string (v1, [`v1`]) input into a
//! typed [`Query`]; [`plan`] renders `sql/duckdb/query/*.sql` from allow-listed fragments
//! with every user value as a bound parameter; a [`Backend`] ([`duckdb`]) executes it;
//! [`api`] shapes the response and checks the API key ([`keys`]).
//!
//! Counting rules:
//! - a visit is a session; its attributes (source, channel, UTM tags, country, device,
//!   browser, OS, screen, connection, entry and exit page) are those of its first event
//!   in the queried range, as in the `sessions` view;
//! - an event without a visitor id (a privacy-signal hit) counts as one visitor and one
//!   visit of its own (its session id is its own);
//! - `engagement` events feed only `time_on_page` and `scroll_depth`;
//! - goals are custom event names (everything but `pageview` and `engagement`).

pub mod aggregates;
pub mod api;
pub mod backlog;
pub mod combine;
pub mod duckdb;
pub mod guard;
pub mod keys;
pub mod partials;
pub mod places;
pub mod pool;
pub mod request;
pub mod site;
pub mod v1;

use chrono::{NaiveDate, NaiveDateTime};

/// Why a query is refused. The Display text is the `error` of the response.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
    /// A question the daily aggregates cannot answer for the days before the event
    /// retention: `code` [`PAST_EVENTS`] in the answer, so a client can ask again
    /// with what they keep.
    #[error("{0}")]
    PastEvents(String),
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
    #[error(
        "The query took longer than {0} seconds and was stopped; ask for a shorter \
         period or fewer breakdowns."
    )]
    TimedOut(u64),
    /// The period reaches this many ended days whose visits the collector is still
    /// storing (after an import or a long stop): `code` [`PREPARING`].
    #[error(
        "The collector is still preparing the visits of {0} days in this period (after an \
         import or a long stop, a few seconds a day); ask again in a minute."
    )]
    Preparing(usize),
}

/// The `code` of a [`QueryError::PastEvents`] answer.
pub const PAST_EVENTS: &str = "past_event_retention";

/// The `code` of a [`QueryError::Preparing`] answer.
pub const PREPARING: &str = "preparing";

impl QueryError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// A stable, machine-readable name for the refusals a client may act on.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::PastEvents(_) => Some(PAST_EVENTS),
            Self::Preparing(_) => Some(PREPARING),
            _ => None,
        }
    }

    /// The HTTP status for this error, decided in one place.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) | Self::PastEvents(_) => 400,
            Self::MissingKey | Self::BadKey => 401,
            Self::Forbidden(_) => 403,
            Self::Backend(_) => 500,
            Self::Busy | Self::TimedOut(_) | Self::Preparing(_) => 503,
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

/// How a visit takes a property's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// It does not: each event has its own (an event property).
    PerEvent,
    /// Each event has its own: the event's name where it is a goal (neither
    /// `pageview` nor `engagement`), else none.
    Goal,
    /// From the visit's first event.
    First,
    /// The path of the visit's first pageview.
    Entry,
    /// The path of the visit's last pageview.
    Exit,
    /// Each event has its own: a custom property (`event:props:<key>`) from the
    /// event's `props`, the key being the query's [`Query::custom_keys`] at this slot.
    Custom(u8),
}

/// A property that can be a dimension or a filter. This table is the one place a
/// property is described: the query engine, the roll-up, the CLI's `--by` and the
/// stored columns are derived from it or checked against it (adding a property is
/// one entry here plus its migration).
#[derive(Debug, PartialEq, Eq)]
pub struct Prop {
    /// The Stats API name.
    pub name: &'static str,
    /// `spoorloos report --by` name, if the CLI offers it.
    pub cli: Option<&'static str>,
    /// The `events` column it is read from; for visit properties taken from the
    /// first event, also the `visits` column that keeps it.
    pub column: &'static str,
    pub taken: Taken,
    /// The label of a missing value, if one can be missing.
    pub none: Option<&'static str>,
    /// Where a breakdown by it finds its visit metrics, if not in its own visits: a
    /// page's are those of the visits that entered on it (as Plausible counts).
    pub visits_by: Option<&'static str>,
    /// The `daily_aggregates` dimension it is rolled up into, if it is.
    pub rollup: Option<&'static str>,
}

/// A visit property taken from the visit's first event.
macro_rules! first {
    ($name:literal, $cli:expr, $column:literal, $none:expr, $rollup:expr) => {
        Prop {
            name: $name,
            cli: $cli,
            column: $column,
            taken: Taken::First,
            none: $none,
            visits_by: None,
            rollup: $rollup,
        }
    };
}

/// A custom property's slot in [`PROPS`]: its key is the query's.
macro_rules! custom {
    ($name:literal, $slot:literal) => {
        Prop {
            name: $name,
            cli: None,
            column: "props",
            taken: Taken::Custom($slot),
            none: NONE,
            visits_by: None,
            rollup: None,
        }
    };
}

const NONE: Option<&str> = Some("(none)");

/// Custom properties one query may name (`event:props:<key>`), each in a slot.
pub const MAX_CUSTOM: usize = 4;
const DIRECT: Option<&str> = Some("Direct / None");

/// The allow-list: every property a query may name.
pub static PROPS: &[Prop] = &[
    Prop {
        name: "event:page",
        cli: Some("page"),
        column: "pathname",
        taken: Taken::PerEvent,
        none: None,
        visits_by: Some("visit:entry_page"),
        rollup: Some("page"),
    },
    Prop {
        name: "event:hostname",
        cli: Some("hostname"),
        column: "hostname",
        taken: Taken::PerEvent,
        none: None,
        visits_by: None,
        rollup: Some("hostname"),
    },
    Prop {
        name: "event:name",
        cli: None,
        column: "name",
        taken: Taken::PerEvent,
        none: None,
        visits_by: None,
        rollup: Some("name"),
    },
    Prop {
        name: "event:goal",
        cli: Some("goal"),
        column: "name",
        taken: Taken::Goal,
        none: None,
        visits_by: None,
        rollup: Some("name"),
    },
    Prop {
        name: "visit:entry_page",
        cli: Some("entry_page"),
        column: "pathname",
        taken: Taken::Entry,
        none: NONE,
        visits_by: None,
        rollup: Some("entry_page"),
    },
    Prop {
        name: "visit:exit_page",
        cli: Some("exit_page"),
        column: "pathname",
        taken: Taken::Exit,
        none: NONE,
        visits_by: None,
        rollup: Some("exit_page"),
    },
    first!(
        "visit:source",
        Some("source"),
        "source",
        DIRECT,
        Some("source")
    ),
    first!(
        "visit:referrer",
        Some("referrer"),
        "referrer",
        DIRECT,
        Some("referrer")
    ),
    first!(
        "visit:channel",
        Some("channel"),
        "channel",
        None,
        Some("channel")
    ),
    first!(
        "visit:utm_source",
        Some("utm_source"),
        "utm_source",
        NONE,
        Some("utm_source")
    ),
    first!(
        "visit:utm_medium",
        Some("utm_medium"),
        "utm_medium",
        NONE,
        Some("utm_medium")
    ),
    first!(
        "visit:utm_campaign",
        Some("utm_campaign"),
        "utm_campaign",
        NONE,
        Some("utm_campaign")
    ),
    first!(
        "visit:utm_content",
        None,
        "utm_content",
        NONE,
        Some("utm_content")
    ),
    first!("visit:utm_term", None, "utm_term", NONE, Some("utm_term")),
    first!(
        "visit:country",
        Some("country"),
        "country",
        NONE,
        Some("country")
    ),
    first!(
        "visit:device",
        Some("device"),
        "device",
        None,
        Some("device")
    ),
    first!(
        "visit:browser",
        Some("browser"),
        "browser",
        None,
        Some("browser")
    ),
    // The roll-up keeps versions joined with their browser or OS name, which groups
    // differently from the API's bare version: not rolled up as such.
    first!("visit:browser_version", None, "browser_version", None, None),
    first!("visit:os", Some("os"), "os", None, Some("os")),
    first!("visit:os_version", None, "os_version", None, None),
    // Kept only where the configuration keeps them (geoip.city); the region is an
    // ISO 3166-2 code (`GB-ENG`), the city its English name.
    first!("visit:region", Some("region"), "region", NONE, None),
    first!("visit:city", Some("city"), "city", NONE, None),
    first!(
        "visit:connection_type",
        Some("connection"),
        "connection_type",
        NONE,
        Some("connection_type")
    ),
    first!(
        "visit:screen",
        Some("screen"),
        "screen",
        NONE,
        Some("screen")
    ),
    // Slots for `event:props:<key>`: requests never name these, the parser maps a
    // key to a slot (request::parse_prop).
    custom!("event:props:#0", 0),
    custom!("event:props:#1", 1),
    custom!("event:props:#2", 2),
    custom!("event:props:#3", 3),
];

/// Visit properties that follow from the IP address and User-Agent, the inputs of
/// the pseudonym: the same on every visit of a visitor, which the stored `steady`
/// mark confirms per visitor (sql/duckdb/migrations/0010_visit_times.sql).
const STEADY: &[&str] = &[
    "country",
    "region",
    "city",
    "device",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "screen",
    "connection_type",
];

/// The stored mark of a visitor's first visit with each other visit property's value.
const FIRST_BY: &[(&str, &str)] = &[
    ("referrer", "first_by_referrer"),
    ("source", "first_by_source"),
    ("channel", "first_by_channel"),
    ("utm_source", "first_by_utm_source"),
    ("utm_medium", "first_by_utm_medium"),
    ("utm_campaign", "first_by_utm_campaign"),
    ("utm_content", "first_by_utm_content"),
    ("utm_term", "first_by_utm_term"),
];

impl Prop {
    pub fn parse(name: &str) -> Option<&'static Prop> {
        PROPS.iter().find(|p| p.name == name)
    }

    /// Whether it is a visit property every visit of a visitor shares (see [`STEADY`]).
    pub fn steady(&self) -> bool {
        self.taken == Taken::First && STEADY.contains(&self.column)
    }

    /// The `visits` column marking a visitor's first visit with this property's
    /// value, for visit properties that are not [`Prop::steady`].
    pub fn first_by(&self) -> Option<&'static str> {
        match self.taken {
            Taken::Entry => Some("first_by_entry_page"),
            Taken::Exit => Some("first_by_exit_page"),
            Taken::First => FIRST_BY
                .iter()
                .find(|(column, _)| *column == self.column)
                .map(|(_, mark)| *mark),
            Taken::PerEvent | Taken::Goal | Taken::Custom(_) => None,
        }
    }

    pub fn is_event(&self) -> bool {
        matches!(self.taken, Taken::PerEvent | Taken::Goal | Taken::Custom(_))
    }

    /// The custom-property slot `slot` (below [`MAX_CUSTOM`]).
    pub fn custom(slot: usize) -> Option<&'static Prop> {
        PROPS
            .iter()
            .find(|p| matches!(p.taken, Taken::Custom(s) if usize::from(s) == slot))
    }

    pub fn is_custom(&self) -> bool {
        matches!(self.taken, Taken::Custom(_))
    }

    /// The property given by its `spoorloos report --by` name.
    pub fn by_cli(name: &str) -> Option<&'static Prop> {
        PROPS.iter().find(|p| p.cli == Some(name))
    }

    pub fn is_goal_or_name(&self) -> bool {
        self.is_event() && self.column == "name"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// Minutes: for a short date-time range (a live view of the last half hour).
    Minute,
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
    /// The keys of the custom properties the query names, by slot
    /// ([`Taken::Custom`]).
    pub custom_keys: Vec<String>,
    /// Visit days (inclusive) whose visits are read from the stored `visits` rather
    /// than grouped from their events: sealed days whose visits lie wholly inside
    /// the range, so that both give the same numbers.
    pub stored_visits: Option<(NaiveDate, NaiveDate)>,
}

impl Query {
    /// The query's one filter, if it is an `is` filter matched exactly: its property
    /// and values.
    pub fn exact_is_filter(&self) -> Option<(&'static Prop, &[String])> {
        match self.filters.as_slice() {
            [
                Filter::Leaf {
                    op: Op::Is,
                    prop,
                    values,
                    case_sensitive: true,
                },
            ] => Some((*prop, values.as_slice())),
            _ => None,
        }
    }
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
    /// Hits dropped for the site from `first` to `last` (UTC days, inclusive), by
    /// reason.
    fn quality(
        &self,
        site: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<(String, i64)>, QueryError>;
    /// The custom-property keys of the site's events in `[from, to)` (UTC), the most
    /// used first.
    fn prop_keys(
        &self,
        site: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<String>, QueryError>;
    /// The sealed visit days in `[from, to)`, in order.
    fn sealed_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SealedDay>, QueryError>;
}

/// A visit day whose visits have all ended and are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedDay {
    pub day: NaiveDate,
    /// The day of its visits' last event.
    pub last_day: NaiveDate,
    /// Whether its visit partials are stored too (they follow the visits).
    pub partials: bool,
    /// Whether its daily pairs are exact (stored with its visits, until its events
    /// expire).
    pub pairs: bool,
    /// Whether those pairs have the pages' own rows (the visit figures of the visits
    /// with each page).
    pub page_visits: bool,
    /// Whether they have the event names' own rows too.
    pub name_visits: bool,
}
