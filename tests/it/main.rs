//! One integration-test binary (fast to link, easy to extend). Every test starts the
//! real `spoorloos` binary on port 0; see `support` for the helper vocabulary.

mod bot_corpus;
mod bot_holdout;
mod browser;
mod cli;
mod clickhouse;
mod collector;
mod dashboard;
mod faults;
mod lifecycle;
mod limits;
mod props;
mod rollup_queries;
mod stats;
mod support;
