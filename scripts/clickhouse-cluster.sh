#!/usr/bin/env bash
# A two-shard ClickHouse cluster on this machine, for the tests and benchmarks of
# the ClickHouse store: two clickhouse-server processes (Debian's package) with
# their own ports and data folders, each knowing both as the cluster `spoorloos`.
#
#   scripts/clickhouse-cluster.sh install     installs clickhouse-server from apt if
#                                             missing (the test command does it first)
#   scripts/clickhouse-cluster.sh start DIR   installs clickhouse-server from apt if
#                                             missing, writes the configs under DIR,
#                                             starts both, waits until they answer
#   scripts/clickhouse-cluster.sh stop DIR    stops both (SIGTERM, then SIGKILL)
#   scripts/clickhouse-cluster.sh stop-node DIR N / start-node DIR N
#                                             one shard down and up again
#
# Ports: HTTP 18123 and 18124, native 19000 and 19001 (CLICKHOUSE_PORT_BASE moves
# them). User `spoorloos`, password in DIR/password (made at the first start).
# Prints the HTTP URLs, one per line, once both answer.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[ "$cmd" = install ] || [ -n "$dir" ] || { echo "usage: $0 install | start|stop|start-node|stop-node DIR [N]" >&2; exit 2; }
base="${CLICKHOUSE_PORT_BASE:-18123}"
http_port() { echo $((base + $1 - 1)); }
tcp_port() { echo $((base + 877 + $1 - 1)); }
inter_port() { echo $((base + 889 + $1 - 1)); }

install() {
    command -v clickhouse-server >/dev/null && return
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "clickhouse-cluster.sh: installing clickhouse-server with apt-get" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clickhouse-server >/dev/null
}

configure() {
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ -s "$dir/password" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/password"
    chmod 600 "$dir/password"
    local password hash
    password="$(cat "$dir/password")"
    hash="$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)"
    cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>in_order</load_balancing>
        </default>
    </profiles>
    <users>
        <spoorloos>
            <password_sha256_hex>$hash</password_sha256_hex>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </spoorloos>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
XML
    local shards=""
    for n in 1 2; do
        shards="$shards<shard><replica><host>127.0.0.1</host><port>$(tcp_port $n)</port><user>spoorloos</user><password>$password</password></replica></shard>"
    done
    for n in 1 2; do
        local node="$dir/node$n"
        mkdir -p "$node/data" "$node/tmp" "$node/user_files" "$node/log"
        cat > "$node/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$node/log/server.log</log>
        <errorlog>$node/log/error.log</errorlog>
        <size>10M</size>
        <count>2</count>
    </logger>
    <http_port>$(http_port $n)</http_port>
    <tcp_port>$(tcp_port $n)</tcp_port>
    <interserver_http_port>$(inter_port $n)</interserver_http_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$node/data/</path>
    <tmp_path>$node/tmp/</tmp_path>
    <user_files_path>$node/user_files/</user_files_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <umask>077</umask>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>64</max_concurrent_queries>
    <remote_servers><spoorloos>$shards</spoorloos></remote_servers>
</yandex>
XML
        chmod 600 "$node/config.xml"
    done
}

start_node() {
    local n="$1" node="$dir/node$1"
    if [ -s "$node/pid" ] && kill -0 "$(cat "$node/pid")" 2>/dev/null; then return; fi
    # Nothing of this script's own output is held by the server: a caller reading
    # it to the end would wait for the server to stop.
    (cd "$node" && exec setsid clickhouse-server --config-file="$node/config.xml") \
        >"$node/log/stdout.log" 2>&1 </dev/null &
    echo $! > "$node/pid"
}

wait_node() {
    local n="$1"
    for _ in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$(http_port "$n")/ping" >/dev/null 2>&1; then
            echo "http://127.0.0.1:$(http_port "$n")"
            return
        fi
        sleep 0.1
    done
    echo "clickhouse node $n did not answer; its log: $dir/node$n/log" >&2
    tail -20 "$dir/node$n/log/stdout.log" "$dir/node$n/log/error.log" >&2 2>/dev/null || true
    exit 1
}

stop_node() {
    local pidfile="$dir/node$1/pid"
    [ -s "$pidfile" ] || return 0
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

case "$cmd" in
    install)
        install
        ;;
    start)
        install
        configure
        start_node 1
        start_node 2
        wait_node 1
        wait_node 2
        ;;
    start-node)
        dir="$(cd "$dir" && pwd)"
        start_node "$3"
        wait_node "$3"
        ;;
    stop-node)
        stop_node "$3"
        ;;
    stop)
        stop_node 1
        stop_node 2
        ;;
    *)
        echo "usage: $0 start|stop|start-node|stop-node DIR [N]" >&2
        exit 2
        ;;
esac
