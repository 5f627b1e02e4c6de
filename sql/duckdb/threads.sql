-- DuckDB's worker threads for the whole database ($1): the writer's store raises
-- them while sealing, the roll-up or compaction runs (src/store/duckdb.rs).
SET threads = ?;
