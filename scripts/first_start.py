#!/usr/bin/env python3
"""How soon dashboard views are fast after the collector's first start on an
imported store: a copy of a generated 10M-event store (benches/dashboard.rs with
SPOORLOOS_BENCH_DB) with everything the lifecycle derives removed (aggregates,
visits, partials, pairs, sealed days), as after an import. Starts the release binary on it
with its clock on the day after the data, then asks a 30d dashboard view (ten
queries, six in flight) unfiltered and with one filter every few seconds, and
prints how long each took, from the first start and again after a restart. With
--hits N, pixel hits stream in at N a second meanwhile (random addresses through a
trusted proxy header); each phase then ends with what /metrics says became of them.

  python3 scripts/first_start.py --store /tmp/bench.duckdb [--binary PATH] [--hits 100]
      [--restart-only --restart-seconds 120] [--log collector.log]

Needs the Python duckdb package of the bundled DuckDB's version (2.0.0).
"""
import argparse, concurrent.futures, http.client, json, os, random, re, shutil, subprocess
import sys, tempfile, threading, time
import urllib.request

SITE = "example.test"
KEY = "first-start-bench-key"


def view(period, filt):
    def breakdown(dim, metrics):
        return {"site_id": SITE, "date_range": period, "metrics": metrics,
                "dimensions": [dim], "order_by": [["visitors", "desc"]],
                "pagination": {"limit": 9}}
    qs = [
        {"site_id": SITE, "date_range": period,
         "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {"site_id": SITE, "date_range": period, "metrics": ["visitors"],
         "dimensions": ["time:day"]},
        breakdown("event:page", ["visitors", "pageviews"]),
        breakdown("visit:entry_page", ["visitors", "visits"]),
        breakdown("visit:source", ["visitors"]),
        breakdown("visit:channel", ["visitors"]),
        breakdown("visit:country", ["visitors"]),
        breakdown("visit:device", ["visitors", "percentage"]),
        breakdown("visit:browser", ["visitors", "percentage"]),
        breakdown("visit:os", ["visitors", "percentage"]),
    ]
    if filt:
        for q in qs:
            q["filters"] = [filt]
    return qs


def ask(url, body):
    req = urllib.request.Request(url + "/api/v2/query", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + KEY,
                                          "Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.monotonic() - started


def ask_view(url, qs):
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda q: ask(url, q), qs))
    bad = [s for s, _ in answers if s != 200]
    slowest = max(range(len(answers)), key=lambda i: answers[i][1])
    return time.monotonic() - started, answers[slowest][1], asked(qs[slowest]), bad


def asked(q):
    """A query's short name: its first dimension, else its first metric."""
    return (q.get("dimensions") or q["metrics"])[0]


UA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


def stream(url, rate, stop):
    """Sends pixel hits at `rate` a second until `stop` is set."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    next_at = time.monotonic()
    while not stop.is_set():
        ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        page = random.choice(["/", "/pricing", "/blog/duckdb", "/contact"])
        try:
            conn.request("GET", f"/p.gif?d={SITE}&u=https%3A%2F%2F{SITE}{page}",
                         headers={"User-Agent": UA, "X-Forwarded-For": ip})
            conn.getresponse().read()
        except OSError:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
        next_at += 1.0 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))


def hits_metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    wanted = ("spoorloos_hits_accepted_total", "spoorloos_events_stored_total",
              'spoorloos_hits_dropped_total{reason="overload"}')
    return {line.split(" ")[0]: line.split(" ")[-1] for line in text.splitlines()
            if line.startswith(wanted)}


def keep_log(lines, path, label, started):
    """Appends the collector's log to `path`, each line with the seconds since start."""
    with open(path, "a") as out:
        for line in lines:
            out.write(f"{label} t={time.monotonic() - started:6.1f} s  {line}")
            out.flush()


def run(binary, store, config, seconds, label, hits, log=None):
    env = dict(os.environ, SPOORLOOS_CLOCK_START="2026-01-31T12:00:00Z")
    proc = subprocess.Popen([binary, "--config", config, "--database", store,
                             "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE if log else subprocess.DEVNULL, text=True)
    started = time.monotonic()
    url = None
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1).rstrip("/")
            break
    print(f"{label}: serving after {time.monotonic() - started:.1f} s")
    # Pipes are drained: a full one would hold up the collector.
    threading.Thread(target=keep_log, args=(proc.stdout, os.devnull, label, started),
                     daemon=True).start()
    if log:
        threading.Thread(target=keep_log, args=(proc.stderr, log, label, started),
                         daemon=True).start()
    stop = threading.Event()
    streamer = None
    if hits:
        streamer = threading.Thread(target=stream, args=(url, hits, stop), daemon=True)
        streamer.start()
    views = [("none", None), ("device", ["is", "visit:device", ["Desktop"]])]
    while time.monotonic() - started < seconds:
        for name, filt in views:
            wall, slowest, which, bad = ask_view(url, view("30d", filt))
            print(f"{label}: t={time.monotonic() - started:6.1f} s  30d {name:<7} view "
                  f"{wall * 1000:6.0f} ms, slowest query {slowest * 1000:6.0f} ms ({which})"
                  + (f", not 200: {bad}" if bad else ""), flush=True)
        time.sleep(3)
    if streamer:
        stop.set()
        streamer.join()
        # Accepted hits may wait in the queue behind a sealing step (seconds).
        waited = time.monotonic()
        while True:
            time.sleep(1)
            counts = hits_metrics(url)
            stored = int(counts.get("spoorloos_events_stored_total", "0"))
            if stored >= int(counts.get("spoorloos_hits_accepted_total", "0")) \
                    or time.monotonic() - waited > 60:
                break
        print(f"{label}: hits at {hits}/s, {time.monotonic() - waited:.0f} s after the "
              f"last: {counts}")
    proc.terminate()
    proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, help="a store made by benches/dashboard.rs")
    ap.add_argument("--binary", default=os.path.expanduser(
        "~/.cache/spoorloos-target/release/spoorloos"))
    ap.add_argument("--seconds", type=float, default=150)
    ap.add_argument("--restart-seconds", type=float, default=20)
    ap.add_argument("--hits", type=float, default=0, help="pixel hits a second meanwhile")
    ap.add_argument("--log", help="append the collector's log here, with seconds since start")
    ap.add_argument("--restart-only", action="store_true",
                    help="keep what the lifecycle derived: a restart of a sealed store")
    args = ap.parse_args()
    import duckdb
    work = tempfile.mkdtemp()
    store = os.path.join(work, "imported.duckdb")
    shutil.copy(args.store, store)
    con = duckdb.connect(store)
    derived = ["visits", "visit_partials", "sealed_days", "daily_aggregates", "rolled_up_days",
               "daily_pairs", "paired_days", "exact_pairs_days"]
    for table in [] if args.restart_only else derived:
        con.execute(f"DELETE FROM {table}")
    con.execute("CHECKPOINT")
    con.close()
    key_hash = subprocess.run([args.binary, "hash-key", "--stdin"], input=KEY, text=True,
                              capture_output=True, check=True).stdout.split()[-1]
    config = os.path.join(work, "spoorloos.toml")
    with open(config, "w") as f:
        f.write(f'sites = ["{SITE}"]\ntrusted_proxies = ["127.0.0.1/32"]\n\n'
                f'[[api_keys]]\nname = "bench"\nhash = "{key_hash}"\n')
    if not args.restart_only:
        run(args.binary, store, config, args.seconds, "first start", args.hits, args.log)
    run(args.binary, store, config, args.restart_seconds, "restart", args.hits, args.log)
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
