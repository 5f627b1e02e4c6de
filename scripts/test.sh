#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): installs what the browser
# test needs, then format check, clippy and every test — all in the release profile,
# so the bundled DuckDB (~25 min on 2 cores) is compiled once, not per profile.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

bash tests/browser/install.sh
cargo fmt --all -- --check
cargo clippy --release --locked --all-targets -- -D warnings
cargo test --release --locked
