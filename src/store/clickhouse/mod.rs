//! The ClickHouse store's foundations: many stateless collectors in front of a
//! cluster, coordinating only through it. Only this room knows ClickHouse.
//!
//! - **Nodes** are reached over the HTTP interface (blocking, from the writer's
//!   thread, like DuckDB), the password in a header, never in a URL or the log.
//!   The server's version is read first: 18.16 (Debian's package) and later.
//! - **Schema** (`sql/clickhouse/schema.sql`) is applied on every node, and a node
//!   whose tables differ from the first's is refused: inserts into drifted shards
//!   fail, or worse, land in the wrong columns.
//! - **Inserts** go to the shard the visitor's key picks (`key % shards`, the
//!   `events` Distributed table's own rule), as one `JSONEachRow` block that carries
//!   its batch's id. After an ambiguous failure (the request was sent, no answer
//!   came) the batch's rows are counted on that shard before anything is sent
//!   again, so a retry never inserts twice: MergeTree keeps duplicate inserts, and
//!   one block is inserted whole or not at all.
//! - **Salts** are shared through the cluster: each collector proposes a random
//!   salt for a day, writes the proposal to every node it reaches, then uses the
//!   lowest proposal it can read. Collectors that reach a common node agree; one cut
//!   off from every node another wrote to uses its own until it reaches them again
//!   (see `docs/clickhouse.md`). The salt travels in request bodies and answers,
//!   never in query text (which query logs keep). A day's salts are destroyed by
//!   dropping the day's partition on every node; the table's parts are deleted
//!   within seconds.

use std::io::Read as _;
use std::time::Duration;

use chrono::NaiveDate;

use super::StoreError;

pub mod spool;
use crate::event::EventView;
use crate::pseudonymise::salt::Salt;

const SCHEMA: &str = include_str!("../../../sql/clickhouse/schema.sql");

/// How old a salt proposal must be before a collector uses it: longer than any
/// collector takes from finding no proposal to writing its own.
const SETTLE: Duration = Duration::from_secs(2);

/// The oldest release this store is written for (Debian 12's package).
const OLDEST: (u32, u32) = (18, 16);

#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    #[error("ClickHouse at {node} cannot be reached: {message}")]
    Unreachable { node: String, message: String },
    /// The request was sent and no answer came: it may or may not have been done.
    #[error("ClickHouse at {node} did not answer: {message}")]
    NoAnswer { node: String, message: String },
    #[error("ClickHouse at {node} refused: {message}")]
    Refused { node: String, message: String },
    #[error("ClickHouse at {node} is release {version}; Spoorloos needs 18.16 or later")]
    TooOld { node: String, version: String },
    #[error("the tables on {node} differ from those on {first}: {difference}")]
    Drift {
        node: String,
        first: String,
        difference: String,
    },
    #[error("{0}")]
    Config(String),
    #[error("no ClickHouse node answered")]
    NoNode,
    #[error(transparent)]
    Spool(#[from] spool::SpoolError),
}

impl From<ClickHouseError> for StoreError {
    fn from(e: ClickHouseError) -> Self {
        StoreError::ClickHouse(e.to_string())
    }
}

/// Where the cluster is and how to sign in. The password comes from a file or an
/// environment variable (the configuration names which), never from the file
/// itself, and is never logged.
#[derive(Clone)]
pub struct ClusterSpec {
    /// Each node's HTTP address, e.g. `http://10.0.0.5:8123`, one per shard.
    pub nodes: Vec<String>,
    pub database: String,
    /// The cluster's name in the servers' `remote_servers`.
    pub cluster: String,
    pub user: String,
    pub password: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for ClusterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSpec")
            .field("nodes", &self.nodes)
            .field("database", &self.database)
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("password", &"<secret>")
            .finish()
    }
}

impl ClusterSpec {
    /// The cluster of `[clickhouse]`, its password read from where the config says.
    pub fn from_config(config: &crate::config::ClickHouseConfig) -> Result<Self, ClickHouseError> {
        if config.nodes.is_empty() {
            return Err(ClickHouseError::Config(
                "no ClickHouse cluster configured: set `[clickhouse] nodes` (and its \
                 password_file or password_env)"
                    .into(),
            ));
        }
        Ok(Self {
            nodes: config.nodes.clone(),
            database: config.database.clone(),
            cluster: config.cluster.clone(),
            user: config.user.clone(),
            password: config
                .password()
                .map_err(|e| ClickHouseError::Config(e.to_string()))?,
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
        })
    }
}

/// A name put into SQL text: letters, digits and `_`, not starting with a digit.
fn plain_name(what: &str, name: &str) -> Result<(), ClickHouseError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ClickHouseError::Config(format!(
            "{what} {name:?} is not a plain name (letters, digits and _)"
        )))
    }
}

/// One node over HTTP.
struct Node {
    url: String,
    agent: ureq::Agent,
    user: String,
    password: String,
}

impl Node {
    fn new(url: &str, spec: &ClusterSpec) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(spec.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            url: url.trim_end_matches('/').to_owned(),
            agent,
            user: spec.user.clone(),
            password: spec.password.clone(),
        }
    }

    /// Runs `sql` (its data, if any, in `body`; under `query_id`, if given, which
    /// the server refuses a second time while the first still runs); the answer's
    /// text.
    fn run(
        &self,
        sql: &str,
        body: Option<&[u8]>,
        query_id: Option<&str>,
    ) -> Result<String, ClickHouseError> {
        let id = query_id.map_or(String::new(), |id| format!("query_id={}&", encode(id)));
        let (target, payload): (String, &[u8]) = match body {
            // The statement in the URL, the data in the body: the data is never
            // part of the query text that logs keep.
            Some(data) => (format!("{}/?{id}query={}", self.url, encode(sql)), data),
            None => (format!("{}/?{id}", self.url), sql.as_bytes()),
        };
        let sent = self
            .agent
            .post(&target)
            .header("X-ClickHouse-User", &self.user)
            .header("X-ClickHouse-Key", &self.password)
            .send(payload);
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                let message = e.to_string();
                // Refused before anything was sent: nothing can have been done.
                return Err(
                    if matches!(e, ureq::Error::ConnectionFailed | ureq::Error::HostNotFound)
                        || message.contains("onnection refused")
                    {
                        ClickHouseError::Unreachable {
                            node: self.url.clone(),
                            message,
                        }
                    } else {
                        ClickHouseError::NoAnswer {
                            node: self.url.clone(),
                            message,
                        }
                    },
                );
            }
        };
        let status = response.status();
        let mut text = String::new();
        response
            .body_mut()
            .as_reader()
            .read_to_string(&mut text)
            .map_err(|e| ClickHouseError::NoAnswer {
                node: self.url.clone(),
                message: e.to_string(),
            })?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(ClickHouseError::Refused {
                node: self.url.clone(),
                message: text.trim().chars().take(500).collect(),
            })
        }
    }
}

fn encode(sql: &str) -> String {
    percent_encoding::utf8_percent_encode(sql, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The statements of a SQL file: split on `;`, comments-only pieces left out.
fn statements(text: &str) -> impl Iterator<Item = &str> {
    text.split(';').filter(|s| {
        s.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    })
}

/// The cluster, as a collector uses it.
pub struct Cluster {
    nodes: Vec<Node>,
    database: String,
}

impl Cluster {
    /// Checks every node's release, applies the schema on every node, and refuses
    /// nodes whose tables differ. Every node must answer.
    pub fn connect(spec: &ClusterSpec) -> Result<Self, ClickHouseError> {
        plain_name("database", &spec.database)?;
        plain_name("cluster", &spec.cluster)?;
        if spec.nodes.is_empty() {
            return Err(ClickHouseError::Config("no ClickHouse node given".into()));
        }
        let nodes: Vec<Node> = spec.nodes.iter().map(|u| Node::new(u, spec)).collect();
        let schema = SCHEMA
            .replace("{db}", &spec.database)
            .replace("{cluster}", &spec.cluster);
        let mut first: Option<(String, String)> = None;
        for node in &nodes {
            let version = node.run("SELECT version()", None, None)?.trim().to_owned();
            if release(&version) < OLDEST {
                return Err(ClickHouseError::TooOld {
                    node: node.url.clone(),
                    version,
                });
            }
            for statement in statements(&schema) {
                node.run(statement, None, None)?;
            }
            let columns = node.run(
                &format!(
                    "SELECT table, name, type FROM system.columns WHERE database = '{}' \
                     ORDER BY table, name FORMAT TabSeparated",
                    spec.database
                ),
                None,
                None,
            )?;
            match &first {
                None => first = Some((node.url.clone(), columns)),
                Some((url, expected)) if *expected != columns => {
                    return Err(ClickHouseError::Drift {
                        node: node.url.clone(),
                        first: url.clone(),
                        difference: difference(expected, &columns),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Self {
            nodes,
            database: spec.database.clone(),
        })
    }

    /// The shard (node) a row with this visitor (or, without one, session) goes to.
    fn shard(&self, visitor: Option<u64>, session: Option<u64>) -> usize {
        let key = visitor.or(session).unwrap_or(0);
        usize::try_from(key % self.nodes.len() as u64).unwrap_or(0)
    }

    /// Lays a batch of events out as one block per shard (each event on its
    /// visitor's shard), carrying `batch`, the batch's id (unique per collector and
    /// batch: hex digits and `-`).
    pub fn prepare(
        &self,
        batch: &str,
        events: &mut dyn Iterator<Item = EventView<'_>>,
    ) -> Prepared {
        // The id the rows carry is the one a count looks for.
        let batch = batch_literal(batch);
        let batch = batch.as_str();
        let mut parts: Vec<Part> = (0..self.nodes.len())
            .map(|shard| Part {
                shard,
                rows: 0,
                days: Vec::new(),
                body: Vec::new(),
            })
            .collect();
        for e in events {
            let part = &mut parts[self.shard(e.visitor_id, e.session_id)];
            let day = row(e, batch, &mut part.body);
            part.rows += 1;
            if !part.days.contains(&day) {
                part.days.push(day);
            }
        }
        parts.retain(|p| p.rows > 0);
        Prepared {
            id: batch.to_owned(),
            parts,
        }
    }

    /// Inserts a batch of events exactly once (see [`Cluster::prepare`]).
    pub fn insert(
        &self,
        batch: &str,
        events: &mut dyn Iterator<Item = EventView<'_>>,
    ) -> Result<u64, ClickHouseError> {
        self.send(&self.prepare(batch, events), false)
    }

    /// Sends a prepared batch, shard by shard. A shard that did not answer is asked
    /// how many of the batch's rows it has before its block is sent again; with
    /// `again` (a batch that may have reached some shards before: from the spool),
    /// every shard is asked first.
    pub fn send(&self, batch: &Prepared, again: bool) -> Result<u64, ClickHouseError> {
        let sql = format!(
            "INSERT INTO {}.events_local FORMAT JSONEachRow",
            self.database
        );
        let mut written = 0;
        for part in &batch.parts {
            let node = self.nodes.get(part.shard).ok_or_else(|| {
                ClickHouseError::Config(format!(
                    "batch {} was laid out for {} shards or more, the cluster has {}",
                    batch.id,
                    part.shard + 1,
                    self.nodes.len()
                ))
            })?;
            let landed = if again {
                self.count_batch(node, &batch.id, &part.days)?
            } else {
                0
            };
            let query_id = format!("{}-{:x}", batch.id, part.shard);
            if landed == 0 {
                match node.run(&sql, Some(&part.body), Some(&query_id)) {
                    Ok(_) => {}
                    Err(ClickHouseError::NoAnswer { .. }) => {
                        // It may have been inserted, or still be running: once it
                        // is not, count before sending it again.
                        self.wait_for(node, &query_id)?;
                        if self.count_batch(node, &batch.id, &part.days)? == 0 {
                            node.run(&sql, Some(&part.body), Some(&query_id))?;
                        }
                    }
                    Err(e) => return Err(e),
                }
            } else if landed != part.rows {
                return Err(ClickHouseError::Refused {
                    node: node.url.clone(),
                    message: format!("batch {}: {landed} of {} rows landed", batch.id, part.rows),
                });
            }
            written += part.rows;
        }
        Ok(written)
    }

    /// Waits (a few request timeouts at most) until the query `id` no longer runs.
    fn wait_for(&self, node: &Node, id: &str) -> Result<(), ClickHouseError> {
        let sql = format!(
            "SELECT count() FROM system.processes WHERE query_id = '{}'",
            batch_literal(id)
        );
        for _ in 0..150 {
            if node.run(&sql, None, None)?.trim() == "0" {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(ClickHouseError::NoAnswer {
            node: node.url.clone(),
            message: format!("insert {id} still runs"),
        })
    }

    fn count_batch(
        &self,
        node: &Node,
        batch: &str,
        days: &[NaiveDate],
    ) -> Result<u64, ClickHouseError> {
        let days: Vec<String> = days.iter().map(|d| format!("'{d}'")).collect();
        let sql = format!(
            "SELECT count() FROM {}.events_local WHERE day IN ({}) AND batch = '{}'",
            self.database,
            days.join(", "),
            batch_literal(batch)
        );
        node.run(&sql, None, None)?
            .trim()
            .parse()
            .map_err(|_| ClickHouseError::Refused {
                node: node.url.clone(),
                message: "a count that is no number".into(),
            })
    }

    /// The rows of `batch` on every shard (tests, and after a restart).
    pub fn batch_rows(&self, batch: &str, day: NaiveDate) -> Result<u64, ClickHouseError> {
        let mut total = 0;
        for node in &self.nodes {
            total += self.count_batch(node, batch, &[day])?;
        }
        Ok(total)
    }

    /// The day's salt every collector agrees on: the lowest proposal on the nodes
    /// this one reaches, after adding its own proposal if there was none. A
    /// proposal is used only once it is [`SETTLE`] old: a collector that looked a
    /// moment earlier and found none may still be writing a lower one.
    pub fn salt(&self, day: NaiveDate) -> Result<Salt, ClickHouseError> {
        for _ in 0..5 {
            match self.lowest_proposal(day)? {
                Some((salt, age)) if age >= SETTLE => return Ok(salt),
                Some((_, age)) => std::thread::sleep(SETTLE - age),
                None => {
                    self.propose(day)?;
                    std::thread::sleep(SETTLE);
                }
            }
        }
        self.lowest_proposal(day)?
            .map(|(salt, _)| salt)
            .ok_or(ClickHouseError::NoNode)
    }

    /// Writes a fresh proposal for `day` to every node that answers.
    fn propose(&self, day: NaiveDate) -> Result<(), ClickHouseError> {
        let mine = Salt::generate(day).map_err(|e| ClickHouseError::Config(e.to_string()))?;
        let mut proposal = [0u8; 8];
        getrandom::fill(&mut proposal).map_err(|e| ClickHouseError::Config(e.to_string()))?;
        let line = format!(
            "{day}\t{}\t{}\n",
            u64::from_le_bytes(proposal),
            hex(&mine.key)
        );
        let sql = format!(
            "INSERT INTO {}.salts (day, proposal, salt) FORMAT TabSeparated",
            self.database
        );
        let written = self
            .nodes
            .iter()
            .filter(|node| node.run(&sql, Some(line.as_bytes()), None).is_ok())
            .count();
        if written == 0 {
            return Err(ClickHouseError::NoNode);
        }
        Ok(())
    }

    /// The lowest proposal for `day` on the nodes that answer, and how long ago it
    /// was written (by the clock of the node that holds it); an error only when no
    /// node answers.
    fn lowest_proposal(&self, day: NaiveDate) -> Result<Option<(Salt, Duration)>, ClickHouseError> {
        let sql = format!(
            "SELECT proposal, salt, now() - proposed FROM {}.salts WHERE day = '{day}' \
             ORDER BY proposal LIMIT 1 FORMAT TabSeparated",
            self.database
        );
        let mut answered = false;
        let mut best: Option<(u64, [u8; 32], u64)> = None;
        for node in &self.nodes {
            let Ok(text) = node.run(&sql, None, None) else {
                continue;
            };
            answered = true;
            let mut fields = text.trim().split('\t');
            let (Some(proposal), Some(key), Some(age)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let (Ok(proposal), Some(key)) = (proposal.parse::<u64>(), unhex(key)) else {
                continue;
            };
            let age = age.parse::<i64>().unwrap_or(0).max(0).unsigned_abs();
            if best.is_none_or(|(b, _, _)| proposal < b) {
                best = Some((proposal, key, age));
            }
        }
        if !answered {
            return Err(ClickHouseError::NoNode);
        }
        Ok(best.map(|(_, key, age)| (Salt { day, key }, Duration::from_secs(age))))
    }

    /// Retention: drops the event partitions (UTC days) before `day` on every node;
    /// the rows' files go as the salts' do. Nodes that do not answer are named in
    /// the error; call again until it succeeds.
    pub fn drop_events_before(&self, day: NaiveDate) -> Result<(), ClickHouseError> {
        self.drop_partitions_before("events_local", day)
    }

    /// Destroys the salts of the days before `day` on every node: their
    /// partitions are dropped, and their files go within seconds. Nodes that do not
    /// answer are named in the error; call again until it succeeds.
    pub fn destroy_salts_before(&self, day: NaiveDate) -> Result<(), ClickHouseError> {
        self.drop_partitions_before("salts", day)
    }

    /// Drops `table`'s day partitions before `day` on every node (`table` is one of
    /// the schema's own names).
    fn drop_partitions_before(&self, table: &str, day: NaiveDate) -> Result<(), ClickHouseError> {
        let list = format!(
            "SELECT DISTINCT partition FROM system.parts WHERE database = '{}' AND table = '{table}' \
             AND active AND partition < '{day}' FORMAT TabSeparated",
            self.database
        );
        let mut failed = None;
        for node in &self.nodes {
            let dropped = node.run(&list, None, None).and_then(|text| {
                for partition in text.lines().filter(|l| is_date(l)) {
                    node.run(
                        &format!(
                            "ALTER TABLE {}.{table} DROP PARTITION '{partition}'",
                            self.database
                        ),
                        None,
                        None,
                    )?;
                }
                Ok(())
            });
            if let Err(e) = dropped {
                failed = Some(e);
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// What became of a batch written through [`Ingest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The cluster confirmed these rows.
    Sent(u64),
    /// Kept in the spool, to be sent once the cluster answers.
    Spooled(u64),
    /// The spool was full: these rows are lost (the caller counts them).
    Dropped(u64),
}

/// The cluster with its spool: batches go straight to the cluster while nothing
/// waits, and into the spool, in order behind what waits, when the cluster does
/// not take them.
pub struct Ingest {
    pub cluster: Cluster,
    pub spool: spool::Spool,
}

impl Ingest {
    pub fn write(
        &mut self,
        batch: &str,
        events: &mut dyn Iterator<Item = EventView<'_>>,
    ) -> Result<Written, ClickHouseError> {
        let prepared = self.cluster.prepare(batch, events);
        let rows = prepared.rows();
        if self.spool.is_empty() {
            match self.cluster.send(&prepared, false) {
                Ok(sent) => return Ok(Written::Sent(sent)),
                Err(e) => tracing::warn!("spooling batch {}: {e}", prepared.id),
            }
        }
        if !self.spool.push(&prepared)? {
            return Ok(Written::Dropped(rows));
        }
        // Behind older batches: the spool goes first, in order.
        if let Err(e) = self.replay() {
            tracing::debug!("the spool waits: {e}");
        }
        Ok(Written::Spooled(rows))
    }

    /// Sends the spooled batches, oldest first, until none waits or the cluster
    /// fails; the rows sent. Each shard is asked first how many of a batch's rows
    /// it has, so a batch that reached some shards before is not doubled there.
    pub fn replay(&mut self) -> Result<u64, ClickHouseError> {
        let mut sent = 0;
        while let Some(batch) = self.spool.oldest()? {
            sent += self.cluster.send(&batch, true)?;
            self.spool.confirm_oldest()?;
        }
        Ok(sent)
    }
}

/// A batch laid out for the shards, ready to send or to spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub id: String,
    pub parts: Vec<Part>,
}

/// One shard's block of a batch: `JSONEachRow` lines, each carrying the batch's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub shard: usize,
    pub rows: u64,
    /// The UTC days of its rows (a count of the batch on the shard reads only them).
    pub days: Vec<NaiveDate>,
    pub body: Vec<u8>,
}

impl Prepared {
    pub fn rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }
}

/// `18.16.1` → (18, 16).
fn release(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn is_date(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// A batch id inside a string literal: ids are made of hex digits and `-`, and
/// anything else is dropped rather than escaped.
fn batch_literal(batch: &str) -> String {
    batch
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect()
}

fn difference(expected: &str, got: &str) -> String {
    let missing: Vec<&str> = expected
        .lines()
        .filter(|l| !got.contains(l))
        .take(3)
        .collect();
    let extra: Vec<&str> = got
        .lines()
        .filter(|l| !expected.contains(l))
        .take(3)
        .collect();
    format!("missing {missing:?}, unexpected {extra:?}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// One event as ClickHouse takes it in `JSONEachRow`.
#[derive(serde::Serialize)]
struct Row<'a> {
    ts: String,
    ts_us: u32,
    day: String,
    site: &'a str,
    name: &'a str,
    hostname: &'a str,
    pathname: &'a str,
    visitor_id: Option<u64>,
    session_id: Option<u64>,
    visit_day: String,
    referrer: Option<&'a str>,
    source: Option<&'a str>,
    channel: &'a str,
    utm_source: Option<&'a str>,
    utm_medium: Option<&'a str>,
    utm_campaign: Option<&'a str>,
    utm_content: Option<&'a str>,
    utm_term: Option<&'a str>,
    country: Option<&'a str>,
    region: Option<&'a str>,
    city: Option<&'a str>,
    browser: &'a str,
    browser_version: &'a str,
    os: &'a str,
    os_version: &'a str,
    device: &'a str,
    screen: Option<&'a str>,
    connection_type: Option<&'a str>,
    save_data: u8,
    props: Option<&'a str>,
    scroll_depth: Option<u8>,
    engaged_ms: Option<u32>,
    interactive: u8,
    batch: &'a str,
}

/// One event as a `JSONEachRow` line; its UTC day.
fn row(e: EventView<'_>, batch: &str, out: &mut Vec<u8>) -> NaiveDate {
    let ts = chrono::DateTime::from_timestamp_micros(e.ts_micros).unwrap_or_default();
    let day = ts.date_naive();
    let row = Row {
        ts: ts.format("%Y-%m-%d %H:%M:%S").to_string(),
        ts_us: ts.timestamp_subsec_micros(),
        day: day.to_string(),
        site: e.site,
        name: e.name,
        hostname: e.hostname,
        pathname: e.pathname,
        visitor_id: e.visitor_id,
        session_id: e.session_id,
        visit_day: NaiveDate::from_num_days_from_ce_opt(e.visit_day + 719_163)
            .unwrap_or(day)
            .to_string(),
        referrer: e.referrer,
        source: e.source,
        channel: e.channel,
        utm_source: e.utm_source,
        utm_medium: e.utm_medium,
        utm_campaign: e.utm_campaign,
        utm_content: e.utm_content,
        utm_term: e.utm_term,
        country: e.country,
        region: e.region,
        city: e.city,
        browser: e.browser,
        browser_version: e.browser_version,
        os: e.os,
        os_version: e.os_version,
        device: e.device,
        screen: e.screen,
        connection_type: e.connection_type,
        save_data: u8::from(e.save_data),
        props: e.props,
        scroll_depth: e.scroll_depth,
        engaged_ms: e.engaged_ms,
        interactive: u8::from(e.interactive),
        batch,
    };
    // Plain values and strings always serialise.
    let _ = serde_json::to_writer(&mut *out, &row);
    out.push(b'\n');
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_sql_text_are_plain_and_salts_travel_as_hex() {
        assert!(plain_name("database", "spoorloos_1").is_ok());
        for bad in ["", "1db", "db; DROP TABLE x", "db.x", "d b"] {
            assert!(plain_name("database", bad).is_err(), "{bad}");
        }
        assert_eq!(batch_literal("ab-12' OR 1=1"), "ab-1211");
        let key = [7u8; 32];
        assert_eq!(unhex(&hex(&key)), Some(key));
        assert_eq!(unhex("zz"), None);
        assert_eq!(release("18.16.1"), (18, 16));
        assert!(release("1.1.54380") < OLDEST);
        assert!(release("24.8.4.13") >= OLDEST);
    }
}
