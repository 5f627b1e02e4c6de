-- The ClickHouse store's tables, applied on every node at start-up: there is no
-- ON CLUSTER without ZooKeeper, and a node whose tables differ from the others'
-- is refused (src/store/clickhouse.rs compares system.columns). {db} is the
-- configured database and {cluster} the configured cluster, both checked to be
-- plain names: nothing else is put into this text. Written for 18.16 (Debian's
-- package) and current releases alike: no DateTime64, TTL, LowCardinality, window
-- functions, CTEs or query parameters.
CREATE DATABASE IF NOT EXISTS {db};

-- One row per accepted hit, as the DuckDB store keeps it: no column can hold an
-- IP address, a User-Agent or a full URL, and visitor_id is a keyed hash under a salt
-- destroyed daily. A day is a partition, so retention drops whole days on every
-- node, and a dropped or merged part's files go within seconds (not the default
-- eight minutes). `batch` names the insert a row came with: a retry after an ambiguous
-- failure first counts the batch's rows, so none is inserted twice (MergeTree
-- keeps duplicate inserts).
CREATE TABLE IF NOT EXISTS {db}.events_local (
    ts              DateTime('UTC'),
    ts_us           UInt32,
    day             Date,
    site            String,
    name            String,
    hostname        String,
    pathname        String,
    visitor_id      Nullable(UInt64),
    session_id      Nullable(UInt64),
    visit_day       Date,
    referrer        Nullable(String),
    source          Nullable(String),
    channel         String,
    utm_source      Nullable(String),
    utm_medium      Nullable(String),
    utm_campaign    Nullable(String),
    utm_content     Nullable(String),
    utm_term        Nullable(String),
    country         Nullable(String),
    region          Nullable(String),
    city            Nullable(String),
    browser         String,
    browser_version String,
    os              String,
    os_version      String,
    device          String,
    screen          Nullable(String),
    connection_type Nullable(String),
    save_data       UInt8,
    props           Nullable(String),
    scroll_depth    Nullable(UInt8),
    engaged_ms      Nullable(UInt32),
    interactive     UInt8,
    batch           String
) ENGINE = MergeTree() PARTITION BY day ORDER BY (site, ts)
    SETTINGS index_granularity = 8192, old_parts_lifetime = 1, cleanup_delay_period = 1;

-- Every node's events, for queries. A collector inserts into the shard its key
-- picks (the same key % shards as this table's), so one visitor's events, and
-- therefore visits, are on one shard, and nothing waits in Distributed queue files.
CREATE TABLE IF NOT EXISTS {db}.events AS {db}.events_local
    ENGINE = Distributed({cluster}, {db}, events_local, ifNull(visitor_id, ifNull(session_id, 0)));

-- Each day's salt proposals, on every node: every collector proposes one, writes it
-- to every node it reaches, and uses the day's lowest proposal it can read once
-- that is two seconds old (`proposed`, by the node's clock), so all converge on one. A day is a partition, dropped when the salt is destroyed, and the
-- dropped parts' files go within seconds, not the default eight minutes.
CREATE TABLE IF NOT EXISTS {db}.salts (
    day      Date,
    proposal UInt64,
    salt     String,
    proposed DateTime DEFAULT now()
) ENGINE = MergeTree() PARTITION BY day ORDER BY (day, proposal)
    SETTINGS index_granularity = 8192, old_parts_lifetime = 1, cleanup_delay_period = 1;
