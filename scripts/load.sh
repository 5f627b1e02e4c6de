#!/usr/bin/env bash
# Load benchmark (method and figures in docs/load.md).
#
# Replays a realistic mix of pixel hits and Events API posts (scripts/load/
# gen_requests.py, replayed by wrk with scripts/load/mix.lua) against the release
# binary and, under the identical stream, against a bare hyper server that only
# answers the GIF (examples/bare_gif.rs), then against Spoorloos at a fixed rate of
# half its measured peak. Prints requests/s, latency percentiles, peak RSS, CPU, and
# Spoorloos' accepted vs stored events (from /metrics, and rows in the DuckDB file
# after a clean SIGTERM shutdown).
#
#   scripts/load.sh [--duration SECS] [--warmup SECS] [--connections N]
#                   [--threads N] [--rate REQ_PER_S] [--requests N]
#                   [--per-connection N]
#                   [--server-cpus LIST] [--client-cpus LIST] [--geoip PATH|none]
#                   [--browsers PATH] [--renice-writer] [--perf] [--queries]
#                   [--history-events N] [--no-build] [--keep] [--out FILE]
#
# Defaults suit a 2-core machine: the server under test pinned to CPU 0, wrk with
# one thread pinned to CPU 1 (taskset), 64 connections, 20 s per phase after 3 s of
# warm-up. GeoIP: --geoip, else $SPOORLOOS_LOAD_GEOIP, else MaxMind's small test
# database in tests/data (a real country file, such as DB-IP's, makes the lookups
# a little dearer).
# --per-connection N closes each connection after N requests on average (wrk
# sends `Connection: close` on every N-th request and reconnects), for both
# servers: a browser sends a hit or two per page view, so a collector facing
# visitors directly sees few requests per connection; behind a reverse proxy that
# keeps its upstream connections, it sees the default (connections stay open).
# wrk's connects cost the client most of its core, so compare per server CPU-second.
# --renice-writer is a diagnostic, not the product's behaviour: it sets nice 19 on
# every Spoorloos thread but the tokio worker (the DuckDB writer and DuckDB's own
# threads), to show what the writer's competition for the core costs.
# --perf records each Spoorloos phase's measured run with `perf record -g` (needs
# perf; implies --keep) into TMP/NAME.perf.data, to see where the time goes.
# --queries adds two phases: Spoorloos at the half-peak rate on a database that
# already holds --history-events (2,000,000) generated events over 30 days
# (sql/duckdb/bench/generate_events.sql, site example.test; rolled up and sealed once
# beforehand, with the clock on the 31st, so the phases start with nothing left to
# do), first alone, then while scripts/load/ask.py asks Stats API queries back to
# back from the client CPUs: what an analyst's dashboard costs the pixel.
# Exits 1 when an accepted event is missing from the database file.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"

duration=20
warmup=3
connections=64
threads=1
rate=""
requests=20000
per_connection=0
server_cpus=0
client_cpus=1
geoip="${SPOORLOOS_LOAD_GEOIP:-}"
browsers=""
build=1
keep=0
out=""
renice_writer=0
perf=0
queries=0
history_events=2000000

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --requests) requests="$2"; shift 2 ;;
        --per-connection) per_connection="$2"; shift 2 ;;
        --server-cpus) server_cpus="$2"; shift 2 ;;
        --client-cpus) client_cpus="$2"; shift 2 ;;
        --geoip) geoip="$2"; shift 2 ;;
        --browsers) browsers="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --renice-writer) renice_writer=1; shift ;;
        --keep) keep=1; shift ;;
        --perf) perf=1; keep=1; shift ;;
        --queries) queries=1; shift ;;
        --history-events) history_events="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h | --help) usage ;;
        *) echo "load.sh: unknown argument $1" >&2; usage ;;
    esac
done
for n in "$duration" "$warmup" "$connections" "$threads" "$requests" "$per_connection" "$history_events" ${rate:+"$rate"}; do
    case "$n" in '' | *[!0-9]*) echo "load.sh: $n is not a whole number" >&2; exit 2 ;; esac
done
if [ "$connections" -lt "$threads" ]; then
    echo "load.sh: --connections must be at least --threads" >&2
    exit 2
fi

say() { echo "load.sh: $*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    say "installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >&2
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >&2
    fi
fi
for tool in taskset curl python3; do
    command -v "$tool" >/dev/null || { say "needs $tool"; exit 2; }
done

if [ -z "$geoip" ]; then
    geoip="$repo/tests/data/mmdb/maxmind-test/GeoIP2-City-Test.mmdb"
fi
geo_args=()
if [ "$geoip" != none ]; then
    [ -f "$geoip" ] || { say "GeoIP database $geoip not found"; exit 2; }
    geoip="$(cd "$(dirname "$geoip")" && pwd)/$(basename "$geoip")"
    geo_args=(--geoip-country "$geoip")
fi

if [ -z "$browsers" ]; then
    # As tests/it/bot_corpus.rs: the isbot crate's fixtures in the cargo registry.
    cargo_home="${CARGO_HOME:-$HOME/.cargo}"
    browsers="$(ls -d "$cargo_home"/registry/src/*/isbot-*/fixtures/browsers.txt 2>/dev/null | sort -V | tail -n1 || true)"
fi

# --- build -------------------------------------------------------------------
if [ "$build" = 1 ]; then
    say "building (release, --all-targets: shares scripts/run.sh's build)"
    cargo build --manifest-path "$repo/Cargo.toml" --release --locked --all-targets >&2
fi
spoorloos="$CARGO_TARGET_DIR/release/spoorloos"
bare="$CARGO_TARGET_DIR/release/examples/bare_gif"
for bin in "$spoorloos" "$bare"; do
    [ -x "$bin" ] || { say "$bin is missing (build first, or drop --no-build)"; exit 2; }
done
if [ -z "$browsers" ] || [ ! -f "$browsers" ]; then
    say "isbot's fixtures/browsers.txt not found in the cargo registry; pass --browsers PATH"
    exit 2
fi

# --- workspace and clean-up ----------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/spoorloos-load.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

reqs="$tmp/requests.tsv"
say "generating $requests requests"
python3 "$repo/scripts/load/gen_requests.py" "$browsers" "$reqs" --requests "$requests" 2>"$tmp/gen.txt"
mix_desc="$(cat "$tmp/gen.txt")"
say "$mix_desc"

clk_tck="$(getconf CLK_TCK)"

# Starts a server pinned to the server CPUs; sets server_pid and url.
# start_server NAME LISTENING_PREFIX COMMAND...
start_server() {
    local name="$1" prefix="$2"
    shift 2
    (cd "$tmp" && exec taskset -c "$server_cpus" "$@") >"$tmp/$name.log" 2>&1 &
    server_pid=$!
    url=""
    for _ in $(seq 1 600); do
        url="$(sed -n "s|^$prefix\(http://[^ ]*\).*|\1|p" "$tmp/$name.log" | head -n1)"
        [ -n "$url" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    say "$name did not start:"
    cat "$tmp/$name.log" >&2
    exit 1
}

# Stops the server with SIGTERM and waits; sets stop_status to its exit status.
stop_server() {
    stop_status=0
    kill -TERM "$server_pid"
    wait "$server_pid" || stop_status=$?
    server_pid=""
}

proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
vm_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# "busy idle" jiffies of one CPU (busy: user nice system irq softirq steal).
cpu_jiffies() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
first_cpu() { echo "$1" | sed 's/[-,].*//'; }
# "requests writer other" CPU ticks of a server's threads: tokio's workers (the
# request path), Spoorloos' writer (DuckDB appends and checkpoints), the rest.
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s %s\n' "$(tr ' ' _ <"$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
    done | awk '$2 != "" {
        if ($1 ~ /^tokio/) r += $2; else if ($1 ~ /^spoorloos-writ/) w += $2; else o += $2
    } END {print r + 0, w + 0, o + 0}'
}

# run_wrk NAME SECONDS RATE REPLAY_BASE: one wrk run; leaves $tmp/NAME.wrk and
# $tmp/NAME.time ("user sys" CPU seconds of wrk).
run_wrk() {
    local name="$1" secs="$2" r="$3" base="$4"
    local TIMEFORMAT="%U %S"
    { time taskset -c "$client_cpus" wrk -t"$threads" -c"$connections" -d"${secs}s" \
        --timeout 5s --latency -s "$repo/scripts/load/mix.lua" "$url" \
        -- "$reqs" "$threads" "$r" "$base" "$per_connection" >"$tmp/$name.wrk" 2>&1; } 2>"$tmp/$name.time"
    if ! grep -q '^MIX ' "$tmp/$name.wrk"; then
        say "wrk failed ($name):"
        cat "$tmp/$name.wrk" >&2
        exit 1
    fi
}

# field NAME KEY: a value from the MIX line of $tmp/NAME.wrk.
field() { sed -n "s/^MIX .*\b$2=\([^ ]*\).*/\1/p" "$tmp/$1.wrk"; }

metric() { # metric TEXT_FILE NAME: sum of the samples of a metric
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $NF} END {printf "%d\n", s}' "$1"
}

# measure NAME RATE: warm-up, then the measured run, with CPU and memory figures
# written to $tmp/NAME.figures (shell assignments).
measure() {
    local name="$1" r="$2"
    if [ "$warmup" -gt 0 ]; then run_wrk "$name-warmup" "$warmup" "$r" 0; fi
    local t0 s0 c0 t1 s1 c1 th0 th1
    t0="$(date +%s.%N)"
    s0="$(proc_ticks "$server_pid")"
    read -r -a th0 <<<"$(thread_ticks "$server_pid")"
    read -r -a c0 <<<"$(cpu_jiffies "$(first_cpu "$server_cpus")") $(cpu_jiffies "$(first_cpu "$client_cpus")")"
    local recorder=""
    if [ "$perf" = 1 ] && [ "$name" != "${name#spoorloos}" ]; then
        perf record -q -F 999 -g -p "$server_pid" -o "$tmp/$name.perf.data" -- sleep "$duration" \
            >/dev/null 2>&1 &
        recorder=$!
    fi
    run_wrk "$name" "$duration" "$r" 1000
    if [ -n "$recorder" ]; then wait "$recorder" || true; fi
    t1="$(date +%s.%N)"
    s1="$(proc_ticks "$server_pid")"
    read -r -a th1 <<<"$(thread_ticks "$server_pid")"
    read -r -a c1 <<<"$(cpu_jiffies "$(first_cpu "$server_cpus")") $(cpu_jiffies "$(first_cpu "$client_cpus")")"
    local wrk_user wrk_sys
    read -r wrk_user wrk_sys <"$tmp/$name.time"
    {
        echo "rps=$(field "$name" rps)"
        echo "p50=$(field "$name" p50_ms) p90=$(field "$name" p90_ms) p99=$(field "$name" p99_ms) p999=$(field "$name" p999_ms) pmax=$(field "$name" max_ms)"
        echo "requests=$(field "$name" requests) late=$(field "$name" late) late_max=$(field "$name" late_max_ms)"
        echo "errors=$(($(field "$name" connect_errors) + $(field "$name" read_errors) + $(field "$name" write_errors) + $(field "$name" timeouts)))"
        echo "status_errors=$(field "$name" status_errors)"
        echo "hwm_mib=$(awk -v k="$(vm_hwm_kib "$server_pid")" 'BEGIN {printf "%.1f", k / 1024}')"
        # CPU per request by thread, in µs: where a change moved the cost, which
        # requests/s alone hides (a 20 s phase holds few checkpoints).
        echo "cpu_us=$(awk -v n="$(field "$name" requests)" -v hz="$clk_tck" \
            -v r="$((th1[0] - th0[0]))" -v w="$((th1[1] - th0[1]))" -v o="$((th1[2] - th0[2]))" \
            'BEGIN {f = (n > 0 ? 1e6 / hz / n : 0); printf "%.1f/%.1f/%.1f", r * f, w * f, o * f}')"
        awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v hz="$clk_tck" \
            -v wu="$wrk_user" -v ws="$wrk_sys" -v d="$duration" \
            -v b0="${c0[0]}" -v i0="${c0[1]}" -v b1="${c1[0]}" -v i1="${c1[1]}" \
            -v cb0="${c0[2]}" -v ci0="${c0[3]}" -v cb1="${c1[2]}" -v ci1="${c1[3]}" 'BEGIN {
                secs = t1 - t0
                printf "server_cpu=%.0f\n", 100 * (s1 - s0) / hz / secs
                printf "wrk_cpu=%.0f\n", 100 * (wu + ws) / (secs > d ? secs : d)
                printf "core_s=%.0f\n", 100 * (b1 - b0) / ((b1 - b0) + (i1 - i0) + 1e-9)
                printf "core_c=%.0f\n", 100 * (cb1 - cb0) / ((cb1 - cb0) + (ci1 - ci0) + 1e-9)
            }'
    } >"$tmp/$name.figures"
}

# After wrk: waits (up to 120 s) until the writer has stored every accepted event
# (accepted is final once wrk has stopped), snapshots /metrics, stops with
# SIGTERM, and counts the rows in the file.
settle_and_count() {
    local name="$1" db="$2" base="${3:-0}" started accepted stored depth
    started="$(date +%s.%N)"
    for _ in $(seq 1 600); do
        curl -fsS "$url/metrics" >"$tmp/$name.metrics"
        accepted="$(metric "$tmp/$name.metrics" spoorloos_hits_accepted_total)"
        stored="$(metric "$tmp/$name.metrics" spoorloos_events_stored_total)"
        depth="$(metric "$tmp/$name.metrics" spoorloos_queue_depth)"
        [ "$depth" = 0 ] && [ "$stored" = "$accepted" ] && break
        sleep 0.2
    done
    echo "settle_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')" >>"$tmp/$name.figures"
    local hwm
    hwm="$(awk -v k="$(vm_hwm_kib "$server_pid")" 'BEGIN {printf "%.1f", k / 1024}')"
    stop_server
    local rows
    if python3 -c 'import duckdb' 2>/dev/null; then
        rows="$(python3 -c 'import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM events").fetchone()[0] - int(sys.argv[2]))' "$db" "$base")"
    else
        rows="unchecked (python3 has no duckdb module)"
    fi
    {
        echo "hwm_mib=$hwm"
        echo "accepted=$(metric "$tmp/$name.metrics" spoorloos_hits_accepted_total)"
        echo "stored=$(metric "$tmp/$name.metrics" spoorloos_events_stored_total)"
        echo "invalid=$(metric "$tmp/$name.metrics" spoorloos_requests_invalid_total)"
        echo "dropped='$(awk -F'[{}"= ]+' '/^spoorloos_hits_dropped_total\{/ && $NF > 0 {printf "%s%s %d", sep, $3, $NF; sep=", "}
            END {if (sep == "") printf "none"}' "$tmp/$name.metrics")'"
        echo "rows='$rows'"
        echo "exit_status=$stop_status"
    } >>"$tmp/$name.figures"
}

# --renice-writer: nice 19 for every thread but the tokio worker(s), once the
# writer thread exists (it starts after the banner).
renice_background() {
    local t
    for _ in $(seq 1 100); do
        grep -qx spoorloos-write /proc/"$server_pid"/task/*/comm 2>/dev/null && break
        sleep 0.1
    done
    for t in /proc/"$server_pid"/task/*; do
        if [ "$(cat "$t/comm")" != tokio-rt-worker ]; then
            renice -n 19 -p "${t##*/}" >/dev/null
        fi
    done
}

run_bare() {
    local name="$1" r="$2"
    say "phase $name: bare_gif, ${duration}s at ${r:-peak}${r:+ req/s}"
    start_server "$name" "listening on " "$bare" 127.0.0.1:0
    measure "$name" "${r:-0}"
    stop_server
}

run_spoorloos() {
    local name="$1" r="$2"
    say "phase $name: spoorloos, ${duration}s at ${r:-peak}${r:+ req/s}"
    local db="$tmp/$name.duckdb"
    start_server "$name" "Spoorloos listening on " \
        env RUST_LOG="${RUST_LOG:-info}" "$spoorloos" serve --listen 127.0.0.1:0 --database "$db" \
        --site smtware.com --trusted-proxy 127.0.0.1 --trusted-proxy ::1 "${geo_args[@]}"
    if [ "$renice_writer" = 1 ]; then renice_background; fi
    measure "$name" "${r:-0}"
    settle_and_count "$name" "$db"
}

# --- --queries: ingestion while the Stats API answers ---------------------------
history_db="$tmp/history.duckdb"
history_clock=2026-01-31T00:10:00Z
load_key="load-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# The history: the schema from Spoorloos itself, then the generated events.
prepare_history() {
    say "generating $history_events events of history (sql/duckdb/bench/generate_events.sql)"
    python3 -c 'import duckdb' 2>/dev/null || { say "--queries needs python3's duckdb module"; exit 2; }
    start_server history "Spoorloos listening on " "$spoorloos" serve --listen 127.0.0.1:0 \
        --database "$history_db" --site example.test
    stop_server
    python3 -c 'import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute(open(sys.argv[2]).read(), [int(sys.argv[3])])
con.execute("CHECKPOINT")' "$history_db" "$repo/sql/duckdb/bench/generate_events.sql" "$history_events"
    # Events kept 60 days, so that no day of the history expires (and every query
    # reads events and partials, not the aggregates).
    printf '[[api_keys]]\nname = "load.sh"\nhash = "%s"\n[retention]\nevent_days = 60\n' \
        "$(printf %s "$load_key" | "$spoorloos" hash-key --stdin)" >"$tmp/queries.toml"
    # Roll up and seal the history once, here, with no load: each phase starts
    # from a copy with nothing left to do.
    say "rolling up and sealing the history"
    start_server history-sealing "Spoorloos listening on " "$spoorloos" serve \
        --config "$tmp/queries.toml" --listen 127.0.0.1:0 --database "$history_db" \
        --site example.test --clock-start "$history_clock"
    await_sealing
    stop_server
}

# Waits (at most 900 s) until the sealed-days count has held still for 20 s
# (sealing a day of the history takes a few seconds).
await_sealing() {
    local last=-1 same=0 now
    for _ in $(seq 1 900); do
        now="$(curl -fsS "$url/metrics" | awk '$1 == "spoorloos_visit_days_sealed_total" {print $2}')"
        if [ "${now:-0}" = "$last" ] && [ "$now" != 0 ]; then
            same=$((same + 1))
            [ "$same" -ge 20 ] && return 0
        else
            same=0
        fi
        last="${now:-0}"
        sleep 1
    done
}

# run_history NAME RATE ASK: a fixed-rate phase on a copy of the history; with
# ASK=1 the query client runs on the client CPUs for the whole phase.
run_history() {
    local name="$1" r="$2" ask="$3"
    say "phase $name: spoorloos on $history_events events of history, ${duration}s at $r req/s$([ "$ask" = 1 ] && echo ', with queries')"
    local db="$tmp/$name.duckdb"
    cp "$history_db" "$db"
    start_server "$name" "Spoorloos listening on " \
        env RUST_LOG="${RUST_LOG:-info}" "$spoorloos" serve --config "$tmp/queries.toml" \
        --listen 127.0.0.1:0 --database "$db" --site smtware.com --site example.test \
        --trusted-proxy 127.0.0.1 --trusted-proxy ::1 "${geo_args[@]}" \
        --clock-start "$history_clock"
    local asker=""
    if [ "$ask" = 1 ]; then
        taskset -c "$client_cpus" python3 "$repo/scripts/load/ask.py" "$url" "$load_key" example.test \
            "$((warmup + duration))" >"$tmp/$name.ask" 2>"$tmp/$name.ask.log" &
        asker=$!
    fi
    measure "$name" "$r"
    if [ -n "$asker" ]; then
        wait "$asker" || true
        sed -n 's/^QUERIES answered=\([0-9]*\) mean_s=\([^ ]*\) max_s=\([^ ]*\) errors=\([0-9]*\)/asked=\1 ask_mean=\2 ask_max=\3 ask_errors=\4/p' \
            "$tmp/$name.ask" >>"$tmp/$name.figures"
    fi
    settle_and_count "$name" "$db" "$history_events"
}

run_bare bare_peak ""
run_spoorloos spoorloos_peak ""
peak="$(. "$tmp/spoorloos_peak.figures" && echo "$rps")"
half="${rate:-$(awk -v p="$peak" 'BEGIN {printf "%d", p / 2}')}"
run_spoorloos spoorloos_rate "$half"
run_bare bare_rate "$half"
if [ "$queries" = 1 ]; then
    prepare_history
    run_history history_rate "$half" 0
    run_history history_ask "$half" 1
fi

# --- report --------------------------------------------------------------------
get() { (. "$tmp/$1.figures" && eval "echo \"\$$2\""); }
# CPU the rest of the machine took from the two cores: core busy minus our process.
others() {
    (. "$tmp/$1.figures" && awk -v a="$core_s" -v b="$server_cpu" -v c="$core_c" -v d="$wrk_cpu" \
        'BEGIN {x = a - b; y = c - d; printf "%d/%d %%", (x < 0 ? 0 : x), (y < 0 ? 0 : y)}')
}
fail=0
{
    echo "Spoorloos load benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'))"
    echo "stream: $mix_desc"
    echo "wrk -t$threads -c$connections on CPU $client_cpus, server on CPU $server_cpus; ${warmup}s warm-up + ${duration}s per phase; GeoIP: ${geoip##*/}"
    if [ "$per_connection" -gt 0 ]; then echo "connections closed after $per_connection request(s) on average (--per-connection)"; fi
    if [ "$renice_writer" = 1 ]; then echo "DIAGNOSTIC: Spoorloos' writer and DuckDB threads at nice 19 (--renice-writer)"; fi
    echo
    printf '%-34s %14s %14s %8s\n' "peak (closed loop)" bare_gif spoorloos ratio
    printf '%-34s %14.0f %14.0f %7.1f%%\n' "requests/s" "$(get bare_peak rps)" "$(get spoorloos_peak rps)" \
        "$(awk -v a="$(get spoorloos_peak rps)" -v b="$(get bare_peak rps)" 'BEGIN {print 100 * a / b}')"
    per_cpu_bare="$(awk -v r="$(get bare_peak rps)" -v c="$(get bare_peak server_cpu)" 'BEGIN {printf "%.0f", (c > 0 ? 100 * r / c : 0)}')"
    per_cpu_spoorloos="$(awk -v r="$(get spoorloos_peak rps)" -v c="$(get spoorloos_peak server_cpu)" 'BEGIN {printf "%.0f", (c > 0 ? 100 * r / c : 0)}')"
    printf '%-34s %14s %14s %7.1f%%\n' "requests per server CPU-second" "$per_cpu_bare" "$per_cpu_spoorloos" \
        "$(awk -v a="$per_cpu_spoorloos" -v b="$per_cpu_bare" 'BEGIN {print (b > 0 ? 100 * a / b : 0)}')"
    for p in p50 p90 p99 p999 pmax; do
        printf '%-34s %14s %14s\n' "latency $p (ms)" "$(get bare_peak $p)" "$(get spoorloos_peak $p)"
    done
    printf '%-34s %14s %14s\n' "peak RSS, VmHWM (MiB)" "$(get bare_peak hwm_mib)" "$(get spoorloos_peak hwm_mib)"
    printf '%-34s %14s %14s\n' "server CPU (% of one core)" "$(get bare_peak server_cpu)" "$(get spoorloos_peak server_cpu)"
    printf '%-34s %14s %14s\n' "CPU µs/request: tokio/writer/other" "$(get bare_peak cpu_us)" "$(get spoorloos_peak cpu_us)"
    printf '%-34s %14s %14s\n' "wrk CPU (% of one core)" "$(get bare_peak wrk_cpu)" "$(get spoorloos_peak wrk_cpu)"
    printf '%-34s %14s %14s\n' "other processes, server/client core" "$(others bare_peak)" "$(others spoorloos_peak)"
    printf '%-34s %14s %14s\n' "socket errors / non-2xx" \
        "$(get bare_peak errors) / $(get bare_peak status_errors)" "$(get spoorloos_peak errors) / $(get spoorloos_peak status_errors)"
    for phase in bare_peak spoorloos_peak; do
        if [ "$(get $phase wrk_cpu)" -ge 90 ]; then
            echo "note: wrk used $(get $phase wrk_cpu) % of its core in $phase: the client is (near) its limit, so that requests/s is a lower bound; compare per server CPU-second"
        fi
    done
    echo
    printf '%-34s %14s %14s\n' "fixed rate $half req/s (half peak)" bare_gif spoorloos
    printf '%-34s %14.0f %14.0f\n' "achieved requests/s" "$(get bare_rate rps)" "$(get spoorloos_rate rps)"
    for p in p50 p90 p99 p999 pmax; do
        printf '%-34s %14s %14s\n' "latency $p (ms)" "$(get bare_rate $p)" "$(get spoorloos_rate $p)"
    done
    printf '%-34s %14s %14s\n' "sent >1 ms after its slot (max ms)" \
        "$(get bare_rate late) ($(get bare_rate late_max))" "$(get spoorloos_rate late) ($(get spoorloos_rate late_max))"
    printf '%-34s %14s %14s\n' "peak RSS, VmHWM (MiB)" "$(get bare_rate hwm_mib)" "$(get spoorloos_rate hwm_mib)"
    printf '%-34s %14s %14s\n' "server CPU (% of one core)" "$(get bare_rate server_cpu)" "$(get spoorloos_rate server_cpu)"
    printf '%-34s %14s %14s\n' "CPU µs/request: tokio/writer/other" "$(get bare_rate cpu_us)" "$(get spoorloos_rate cpu_us)"
    printf '%-34s %14s %14s\n' "other processes, server/client core" "$(others bare_rate)" "$(others spoorloos_rate)"
    printf '%-34s %14s %14s\n' "socket errors / non-2xx" \
        "$(get bare_rate errors) / $(get bare_rate status_errors)" "$(get spoorloos_rate errors) / $(get spoorloos_rate status_errors)"
    if [ "$queries" = 1 ]; then
        echo
        printf '%-34s %14s %14s\n' "$half req/s on $history_events events" alone "with queries"
        for p in p50 p90 p99 p999 pmax; do
            printf '%-34s %14s %14s\n' "latency $p (ms)" "$(get history_rate $p)" "$(get history_ask $p)"
        done
        printf '%-34s %14s %14s\n' "sent >1 ms after its slot (max ms)" \
            "$(get history_rate late) ($(get history_rate late_max))" "$(get history_ask late) ($(get history_ask late_max))"
        printf '%-34s %14s %14s\n' "peak RSS, VmHWM (MiB)" "$(get history_rate hwm_mib)" "$(get history_ask hwm_mib)"
        printf '%-34s %14s %14s\n' "server CPU (% of one core)" "$(get history_rate server_cpu)" "$(get history_ask server_cpu)"
        printf '%-34s %14s %14s\n' "queries answered (mean / max s)" "-" \
            "$(get history_ask asked) ($(get history_ask ask_mean) / $(get history_ask ask_max))"
        printf '%-34s %14s %14s\n' "query errors" "-" "$(get history_ask ask_errors)"
    fi
    echo
    phases="spoorloos_peak spoorloos_rate"
    if [ "$queries" = 1 ]; then phases="$phases history_rate history_ask"; fi
    for phase in $phases; do
        accepted="$(get $phase accepted)"
        rows="$(get $phase rows)"
        echo "$phase events (warm-up included): accepted $accepted, stored $(get $phase stored) (/metrics, $(get $phase settle_s) s after wrk stopped), rows in the file after SIGTERM $rows (exit status $(get $phase exit_status)); dropped: $(get $phase dropped); invalid requests: $(get $phase invalid)"
        case "$rows" in unchecked*) rows="$(get $phase stored)" ;; esac
        if [ "$rows" != "$accepted" ] || [ "$(get $phase exit_status)" != 0 ]; then
            echo "  FAIL: an accepted event is not stored"
            fail=1
        fi
    done
    ratio="$(awk -v a="$(get spoorloos_peak rps)" -v b="$(get bare_peak rps)" 'BEGIN {printf "%.1f", 100 * a / b}')"
    # A client at its limit caps both servers' requests/s alike: the target counts
    # as met only when the ratio per server CPU-second is there too.
    ratio_cpu="$(awk -v a="$per_cpu_spoorloos" -v b="$per_cpu_bare" 'BEGIN {printf "%.1f", (b > 0 ? 100 * a / b : 0)}')"
    echo
    echo "target: spoorloos/bare >= 80 %: $ratio % of requests/s, $ratio_cpu % per server CPU-second ($(awk -v r="$ratio" -v c="$ratio_cpu" 'BEGIN {print (r >= 80 && c >= 80 ? "met" : "NOT met")}'))"
    echo "target: p99 < 2 ms at half peak: $(get spoorloos_rate p99) ms ($(awk -v p="$(get spoorloos_rate p99)" 'BEGIN {print (p < 2 ? "met" : "NOT met")}'))"
} >"$tmp/report.txt"
cat "$tmp/report.txt"
if [ -n "$out" ]; then cp "$tmp/report.txt" "$out"; fi
exit "$fail"
