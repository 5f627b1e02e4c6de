#!/usr/bin/env bash
# Allocations per request (figures in docs/load.md). Replays the load benchmark's request mix
# (scripts/load/gen_requests.py, wrk with mix.lua) against bare_gif and Spoorloos,
# and counts glibc malloc and realloc calls per request on each server thread with
# uprobes (`perf probe` on libc, `perf stat --per-thread`). Uprobes slow a server
# several times over, so this counts, it does not time: throughput is load.sh's.
#
#   scripts/allocs.sh [--seconds N] [--geoip PATH|none] [--no-build]
#
# Needs perf with uprobe support and the rights to add probes (root); probes it
# adds are removed afterwards. Server on CPU 0, wrk on CPU 1, as load.sh.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
seconds=5
geoip="${SPOORLOOS_LOAD_GEOIP:-}"
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --geoip) geoip="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
        *) echo "allocs.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$seconds" in '' | *[!0-9]*) echo "allocs.sh: $seconds is not a whole number" >&2; exit 2 ;; esac
say() { echo "allocs.sh: $*" >&2; }
for tool in perf wrk taskset python3; do
    command -v "$tool" >/dev/null || { say "needs $tool (wrk: see scripts/load.sh)"; exit 2; }
done
if [ -z "$geoip" ]; then
    geoip="$repo/tests/data/mmdb/maxmind-test/GeoIP2-City-Test.mmdb"
fi
geo_args=()
[ "$geoip" = none ] || geo_args=(--geoip-country "$geoip")

if [ "$build" = 1 ]; then
    cargo build --manifest-path "$repo/Cargo.toml" --release --locked --all-targets >&2
fi
spoorloos="$CARGO_TARGET_DIR/release/spoorloos"
bare="$CARGO_TARGET_DIR/release/examples/bare_gif"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spoorloos-allocs.XXXXXX")"
server_pid=""
added=()
cleanup() {
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
    for probe in "${added[@]}"; do perf probe -q --del "probe_libc:$probe" || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

libc="$(ldd "$spoorloos" | awk '/libc\.so\.6/ {print $3}')"
for probe in malloc realloc; do
    if ! perf probe -l 2>/dev/null | grep -q "probe_libc:$probe "; then
        perf probe -q -x "$libc" --add "$probe" || { say "cannot add a uprobe on $libc (root?)"; exit 2; }
        added+=("$probe")
    fi
done

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
browsers="$(ls -d "$cargo_home"/registry/src/*/isbot-*/fixtures/browsers.txt 2>/dev/null | sort -V | tail -n1 || true)"
python3 "$repo/scripts/load/gen_requests.py" "$browsers" "$tmp/requests.tsv" --requests 20000 2>/dev/null

wrk_run() { # wrk_run SECONDS URL
    taskset -c 1 wrk -t1 -c64 -d"$1s" -s "$repo/scripts/load/mix.lua" "$2" -- "$tmp/requests.tsv" 1 0 0
}

# count NAME PREFIX COMMAND...: starts a server, warms it up, counts, prints a line per thread.
count() {
    local name="$1" prefix="$2" url=""
    shift 2
    (cd "$tmp" && exec taskset -c 0 "$@") >"$tmp/$name.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        url="$(sed -n "s|^$prefix\(http://[^ ]*\).*|\1|p" "$tmp/$name.log" | head -n1)"
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { say "$name did not start"; cat "$tmp/$name.log" >&2; exit 1; }
    wrk_run 2 "$url" >/dev/null
    perf stat -e probe_libc:malloc,probe_libc:realloc --per-thread -p "$server_pid" \
        -o "$tmp/$name.perf" -- sleep "$((seconds + 1))" &
    local stat_pid=$!
    sleep 0.3
    wrk_run "$seconds" "$url" >"$tmp/$name.wrk"
    wait "$stat_pid"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    local requests
    requests="$(awk '/requests in/ {print $1}' "$tmp/$name.wrk")"
    # Lines: "THREAD-TID  COUNT  probe_libc:EVENT"; threads of one name are summed.
    awk -v name="$name" -v n="$requests" '
        $3 ~ /^probe_libc:/ && $2 ~ /^[0-9]+$/ {
            thread = $1; sub(/-[0-9]+$/, "", thread); ev = substr($3, 12)
            c[thread, ev] += $2; threads[thread] = 1
        }
        END {
            for (t in threads) if (c[t, "malloc"] + c[t, "realloc"] > n / 100)
                printf "%-10s %-18s %7.1f malloc %6.1f realloc per request (%d requests)\n",
                    name, t, c[t, "malloc"] / n, c[t, "realloc"] / n, n
        }' "$tmp/$name.perf" | sort
}

count bare_gif "listening on " "$bare" 127.0.0.1:0
count spoorloos "Spoorloos listening on " env RUST_LOG=warn "$spoorloos" serve \
    --listen 127.0.0.1:0 --database "$tmp/allocs.duckdb" --site smtware.com \
    --trusted-proxy 127.0.0.1 --trusted-proxy ::1 "${geo_args[@]}"
