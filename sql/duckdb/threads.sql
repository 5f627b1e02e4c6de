-- DuckDB's worker threads for the whole database ($1): the writer's store raises
-- them while a query, sealing or the roll-up runs (src/store/duckdb.rs).
SET threads = ?;
