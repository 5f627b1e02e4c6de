#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): installs what the browser
# test and the ClickHouse tests need (Chromium, npm packages, clickhouse-server),
# then format check, clippy and every test — all in the release profile,
# so the bundled DuckDB (~25 min on 2 cores) is compiled once, not per profile —
# then a short fuzz run of every target (scripts/fuzz.sh, 10 s each).
#
# The fuzz run builds a second, sanitizer-instrumented copy of the input readers
# (without DuckDB). From an empty cache the DuckDB build alone can take over an hour
# on 2 cores, so the fuzz step runs only while the whole command is inside its time
# budget (SPOORLOOS_TEST_BUDGET_MIN, default 60 minutes); otherwise it says it was
# skipped. A warm cache always reaches it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$(date +%s)

bash tests/browser/install.sh
bash scripts/clickhouse-cluster.sh install
cargo fmt --all -- --check
cargo clippy --release --locked --all-targets -- -D warnings
cargo test --release --locked

elapsed_min=$((($(date +%s) - started) / 60))
budget_min="${SPOORLOOS_TEST_BUDGET_MIN:-60}"
if ((elapsed_min < budget_min)); then
  bash scripts/fuzz.sh 10
else
  echo "== fuzz: SKIPPED, the build took ${elapsed_min} min of a ${budget_min} min budget" \
    "(cold cache); run 'bash scripts/fuzz.sh 10' or 'bash .ci/run' again"
fi
