#!/usr/bin/env bash
# Fuzz every reader of outside input (docs/fuzzing.md): builds the cargo-fuzz targets
# in fuzz/ and runs each for SECONDS_PER_TARGET seconds (default 60) under
# AddressSanitizer, with a 512 MB RSS and malloc limit and a per-target max_len.
# Fails (exit 1) if any target crashes, leaks, times out or runs out of memory; the
# input that did it is in fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh                 # every target, 60 s each
#   bash scripts/fuzz.sh 10              # the short run CI does
#   bash scripts/fuzz.sh 600 payload     # some targets only
#
# The machine has stable Rust only: RUSTC_BOOTSTRAP=1 lets it take the -Z flags
# cargo-fuzz passes (sanitizer, coverage). Build output and the growing working
# corpus live outside the checkout ($SPOORLOOS_FUZZ_DIR, default
# ~/.cache/spoorloos-fuzz); the committed seeds in fuzz/corpus/ are only read.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-60}"
shift || true
ALL_TARGETS=(payload page_url referrer user_agent config geoip pipeline pipeline_raw)
if (($# > 0)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
ROOT="$PWD"

CARGO_FUZZ_VERSION=0.13.2
FUZZ_DIR="${SPOORLOOS_FUZZ_DIR:-$HOME/.cache/spoorloos-fuzz}"
TARGET_DIR="$FUZZ_DIR/target"
SANITIZER="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

max_len() {
  case "$1" in
    payload | config | pipeline | pipeline_raw) echo 16384 ;; # limits.max_body_bytes
    geoip) echo 65536 ;;
    *) echo 4096 ;; # URLs are refused over 2000 bytes, UAs cut at 512
  esac
}

dict() {
  case "$1" in
    payload | page_url | referrer | pipeline) echo "-dict=$ROOT/fuzz/dict/payload.dict" ;;
    user_agent) echo "-dict=$ROOT/fuzz/dict/user_agent.dict" ;;
    config) echo "-dict=$ROOT/fuzz/dict/config.dict" ;;
  esac
}

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

start=$(date +%s)
echo "== building the fuzz targets (sanitizer: $SANITIZER)"
cargo fuzz build --sanitizer "$SANITIZER" --target-dir "$TARGET_DIR"
echo "== built in $(($(date +%s) - start)) s"

failed=()
summary=()
for target in "${TARGETS[@]}"; do
  corpus="$FUZZ_DIR/corpus/$target"
  seeds=("$ROOT/fuzz/corpus/$target")
  artifacts="$ROOT/fuzz/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts" "${seeds[0]}"
  if [[ $target == geoip ]]; then
    # Seeds: the small MaxMind-DB test files (good and corrupt) in tests/data.
    extra="$FUZZ_DIR/seeds/geoip"
    mkdir -p "$extra"
    find "$ROOT/tests/data/mmdb" -name '*.mmdb' -size -64k -exec cp {} "$extra/" \; 2>/dev/null || true
    seeds+=("$extra")
  fi
  log="$FUZZ_DIR/$target.log"
  echo "== $target: ${SECONDS_PER_TARGET} s"
  # shellcheck disable=SC2046
  if cargo fuzz run --sanitizer "$SANITIZER" --target-dir "$TARGET_DIR" "$target" \
    "$corpus" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -len_control=10 \
    -rss_limit_mb=512 -malloc_limit_mb=512 -max_len="$(max_len "$target")" \
    -artifact_prefix="$artifacts" -print_final_stats=1 \
    $(dict "$target") >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed+=("$target")
    tail -n 60 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  units=$(find "$corpus" -type f | wc -l)
  summary+=("$(printf '%-13s %-7s %12s execs %8s/s  corpus %6s' \
    "$target" "$result" "${execs:-?}" "${speed:-?}" "$units")")
done

echo "== summary (${SECONDS_PER_TARGET} s per target, $(($(date +%s) - start)) s in all)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "FAILED: ${failed[*]}; inputs in fuzz/artifacts/<target>/, logs in $FUZZ_DIR/<target>.log"
  exit 1
fi
echo "no crash, leak, timeout or out-of-memory in ${#TARGETS[@]} targets"
