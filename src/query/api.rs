//! API: the [`Engine`] the HTTP routes call. It checks the key, resolves the site's
//! time zone and "today", parses the request, runs it on a query thread
//! ([`pool`](super::pool): DuckDB calls block, and ingestion comes first), and shapes
//! the JSON answer: `{results, meta, query}` for v2, the v1 shapes in [`v1`](super::v1),
//! and `{"error": …}` with the status from [`QueryError`] (and its `code`, if any).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::backlog::Backlog;
use super::keys::Keys;
use super::pool::Pool;
use super::request;
use super::site::Site;
use super::{Backend, Dimension, Granularity, Query, QueryError, Row, combine, places, v1};
use crate::clock::Clock;
use crate::config::Lifecycle;
use crate::config::{Config, normalise_site};

/// An HTTP answer: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    fn ok(body: &Value) -> Self {
        Self {
            status: 200,
            body: body.to_string(),
        }
    }

    fn error(e: &QueryError) -> Self {
        if let QueryError::Backend(detail) = e {
            // Escaped: a backend message may quote a filter value (a regex, say), and a
            // line break in it must not forge a log line.
            tracing::error!("stats query failed: {}", detail.escape_debug());
        }
        let body = match e.code() {
            Some(code) => json!({ "error": e.to_string(), "code": code }),
            None => json!({ "error": e.to_string() }),
        };
        Self {
            status: e.status(),
            body: body.to_string(),
        }
    }
}

impl Engine {
    /// The refusal of a Stats API request whose `Authorization` is no key at all,
    /// decided before its body is read (see [`super::guard::AuthGuard::attempt`]).
    pub fn refuse_key(&self, authorization: Option<&str>) -> Option<Answer> {
        self.keys
            .check(authorization)
            .err()
            .map(|e| Answer::error(&e))
    }
}

/// Who asks, as the HTTP edge established it: the typed entry point below
/// authentication. The engine checks that the asker may read the site.
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    /// A Stats API client: the `Authorization` header it sent, checked here.
    Key(Option<&'a str>),
    /// A signed-in dashboard user or a shared link: the only sites it may read.
    Sites(&'a [String]),
    /// Every configured site: the CLI reading its own database file, or a dashboard
    /// user without a site list.
    All,
}

pub struct Engine {
    backend: Arc<dyn Backend>,
    keys: Keys,
    sites: Vec<String>,
    zones: HashMap<String, Tz>,
    clock: Clock,
    lifecycle: Lifecycle,
    pool: Pool,
    backlog: Backlog,
}

/// At most this many rows are counted for `include.total_rows` and compared with.
const ALL_ROWS: u64 = 100_000;

/// Runs a parsed v2 query with what its `include` asks for.
fn v2_answer(site: &Site, v2: request::V2) -> Result<Value, QueryError> {
    let request::V2 {
        query,
        range,
        include,
        echo,
    } = v2;
    let mut meta = Map::new();
    let rows = if include.total_rows {
        let all = site.run(&Query {
            limit: ALL_ROWS,
            offset: 0,
            ..query.clone()
        })?;
        meta.insert("total_rows".into(), json!(all.len()));
        let skip = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(query.limit).unwrap_or(usize::MAX);
        all.into_iter().skip(skip).take(take).collect()
    } else {
        site.run(&query)?
    };
    let time = query
        .dimensions
        .iter()
        .enumerate()
        .find_map(|(i, d)| match d {
            Dimension::Time(g) => Some((i, *g)),
            Dimension::Prop(_) => None,
        });
    if include.time_labels
        && let Some((_, g)) = time
    {
        meta.insert(
            "time_labels".into(),
            json!(request::time_labels(&range, g, site.tz)),
        );
    }
    // A comparison the stored data cannot answer (a filter combined with a
    // breakdown, before the event retention) leaves the main answer standing: the
    // rows come without `comparison`, and `meta` says why.
    let compared = match include.comparison {
        Some(other) => match compare(site, &query, &range, &other, time) {
            Ok(c) => Some(c),
            Err(QueryError::Invalid(why) | QueryError::PastEvents(why)) => {
                meta.insert("comparison_unavailable".into(), json!(why));
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if let Some(why) = combine::approximation(&query, site.events_from, site.min_crowd) {
        meta.insert("approximate".into(), json!(why));
    }
    let results: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut entry = json!({"dimensions": r.dimensions, "metrics": r.metrics});
            if let Some(c) = &compared {
                entry["comparison"] = c.against(&query, &r);
            }
            entry
        })
        .collect();
    Ok(json!({"results": results, "meta": meta, "query": echo}))
}

/// The comparison period's rows, keyed by their dimensions, with the time buckets of
/// the main period mapped to the comparison period's bucket at the same position.
struct Compared {
    rows: HashMap<Vec<String>, Vec<Value>>,
    time: Option<(usize, HashMap<String, String>)>,
}

fn compare(
    site: &Site,
    query: &Query,
    range: &request::Range,
    other: &request::Range,
    time: Option<(usize, Granularity)>,
) -> Result<Compared, QueryError> {
    let rows = site.run(&Query {
        from: other.from,
        to: other.to,
        offsets: request::offsets(site.tz, other.from, other.to),
        limit: ALL_ROWS,
        offset: 0,
        ..query.clone()
    })?;
    let time = time.map(|(i, g)| {
        let map = request::time_labels(range, g, site.tz)
            .into_iter()
            .zip(request::time_labels(other, g, site.tz))
            .collect();
        (i, map)
    });
    Ok(Compared {
        rows: rows
            .into_iter()
            .map(|r| (r.dimensions, r.metrics))
            .collect(),
        time,
    })
}

impl Compared {
    /// `{"dimensions", "metrics", "change"}` of the row's counterpart; zeros when
    /// the comparison period has none.
    fn against(&self, query: &Query, row: &Row) -> Value {
        let mut key = row.dimensions.clone();
        if let Some((i, map)) = &self.time
            && let Some(label) = key.get_mut(*i)
        {
            *label = map.get(label.as_str()).cloned().unwrap_or_default();
        }
        let metrics = self
            .rows
            .get(&key)
            .cloned()
            .unwrap_or_else(|| vec![json!(0); query.metrics.len()]);
        let change: Vec<Value> = query
            .metrics
            .iter()
            .zip(row.metrics.iter().zip(&metrics))
            .map(|(m, (now, before))| v1::change(*m, now, before))
            .collect();
        json!({"dimensions": key, "metrics": metrics, "change": change})
    }
}

impl Engine {
    /// Starts the query threads (`store.query_threads` of them).
    pub fn new(
        backend: Arc<dyn Backend>,
        config: &Config,
        clock: Clock,
    ) -> Result<Self, rayon::ThreadPoolBuildError> {
        let zones = config
            .sites
            .iter()
            .map(|s| (s.clone(), config.site_timezone(s)))
            .collect();
        Ok(Self {
            backend,
            keys: Keys::new(&config.api_keys),
            sites: config.sites.clone(),
            zones,
            clock,
            lifecycle: config.retention.lifecycle(),
            pool: Pool::new(usize::try_from(config.store.query_threads()).unwrap_or(1))?,
            backlog: Backlog::default(),
        })
    }

    /// Refuses queries over many days whose visits `backlog` says are still to be
    /// stored ([`Backlog`]).
    #[must_use]
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = backlog;
        self
    }

    /// The configured sites, in the config's order.
    pub fn sites(&self) -> &[String] {
        &self.sites
    }

    /// `GET /api/v1/sites`: the sites `authorization` may read, with their time zones
    /// (the key itself was checked before).
    pub fn sites_for_key(&self, authorization: Option<&str>) -> Answer {
        let sites: Vec<Value> = self
            .sites
            .iter()
            .filter(|s| self.keys.authorize(authorization, s).is_ok())
            .map(|s| json!({"domain": s, "timezone": self.timezone(s).name()}))
            .collect();
        Answer::ok(&json!({ "sites": sites }))
    }

    /// The collector's clock, UTC, to the second (RFC 3339).
    pub fn now(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Today in the site's time zone.
    pub fn today(&self, site: &str) -> NaiveDate {
        self.clock
            .now()
            .with_timezone(&self.timezone(site))
            .date_naive()
    }

    /// The site's time zone (UTC unless `[site_timezones]` names one).
    pub fn timezone(&self, site: &str) -> chrono_tz::Tz {
        self.zones.get(site).copied().unwrap_or(chrono_tz::UTC)
    }

    /// The first UTC day whose events are kept: before it, only anonymous daily
    /// aggregates answer.
    pub fn events_from(&self) -> NaiveDate {
        self.lifecycle.events_from(self.clock.now().date_naive())
    }

    /// Authorises `site_id` and builds its context.
    fn site(&self, access: Access<'_>, site_id: &str) -> Result<Site, QueryError> {
        let name = normalise_site(site_id).unwrap_or_else(|| site_id.to_owned());
        match access {
            Access::Key(authorization) => self.keys.authorize(authorization, &name)?,
            Access::Sites(sites) if !sites.contains(&name) => {
                return Err(QueryError::Forbidden(name));
            }
            Access::Sites(_) | Access::All => {}
        }
        if !self.sites.contains(&name) {
            return Err(QueryError::invalid(format!(
                "Site `{site_id}` is not configured on this collector."
            )));
        }
        let tz = self.timezone(&name);
        let now = self.clock.now();
        Ok(Site {
            backend: self.backend.clone(),
            today: now.with_timezone(&tz).date_naive(),
            now: now.naive_utc(),
            events_from: self.lifecycle.events_from(now.date_naive()),
            min_crowd: self.lifecycle.min_crowd,
            backlog: self.backlog.clone(),
            name,
            tz,
        })
    }

    async fn on_query_thread(
        &self,
        job: impl FnOnce() -> Result<Value, QueryError> + Send + 'static,
    ) -> Answer {
        match self.pool.run(job).await {
            Ok(body) => Answer::ok(&body),
            Err(e) => Answer::error(&e),
        }
    }

    /// `POST /api/v2/query`.
    pub async fn v2(&self, access: Access<'_>, body: &[u8]) -> Answer {
        let parsed: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Answer::error(&QueryError::invalid(format!("Invalid request body: {e}.")));
            }
        };
        let site = match request::site_id(&parsed).and_then(|s| self.site(access, s)) {
            Ok(site) => site,
            Err(e) => return Answer::error(&e),
        };
        let (parsed, named) = match places::rewrite(&parsed) {
            Ok(Some((asked, named))) => (asked, Some(named)),
            Ok(None) => (parsed, None),
            Err(e) => return Answer::error(&e),
        };
        self.on_query_thread(move || {
            let first_day = || site.first_day();
            let v2 = request::parse_v2(&parsed, &site.ctx(&first_day))?;
            let mut answer = v2_answer(&site, v2)?;
            if let Some(named) = named {
                named.relabel(&mut answer);
            }
            Ok(answer)
        })
        .await
    }

    /// `GET /api/v1/stats/{aggregate,timeseries,breakdown,realtime/visitors}`.
    pub async fn v1(&self, endpoint: &str, access: Access<'_>, query: &str) -> Answer {
        let params = v1::Params::parse(query);
        let site = match params
            .get("site_id")
            .ok_or_else(|| QueryError::invalid("Missing site ID. Please provide the required site_id parameter with your request."))
            .and_then(|s| self.site(access, s))
        {
            Ok(site) => site,
            Err(e) => return Answer::error(&e),
        };
        let endpoint = endpoint.to_owned();
        self.on_query_thread(move || v1::answer(&endpoint, &params, &site))
            .await
    }
}
