#!/usr/bin/env bash
# Runs the collector (README's first command): release build, embedded DuckDB file
# ./spoorloos.duckdb, http://127.0.0.1:8080; extra arguments go to `spoorloos`
# (e.g. `./scripts/run.sh snippet --site smtware.com --endpoint https://stats.example.org`).
#
# It builds --all-targets on purpose: the same feature set as scripts/test.sh, so the
# two share one build and the bundled DuckDB is compiled once, not twice.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
cargo build --manifest-path "$repo/Cargo.toml" --release --locked --all-targets >&2
exec "$CARGO_TARGET_DIR/release/spoorloos" "$@"
