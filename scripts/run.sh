#!/usr/bin/env bash
# Runs the collector (README's first command): release build, embedded DuckDB file
# ./spoorloos.duckdb, http://127.0.0.1:8080 — extra arguments go to `spoorloos`.
# Shares its build with scripts/test.sh, so DuckDB is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
exec cargo run --release --locked --bin spoorloos -- "$@"
