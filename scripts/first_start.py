#!/usr/bin/env python3
"""How soon dashboard views are fast after the collector's first start on an
imported store: a copy of a generated 10M-event store (benches/dashboard.rs with
SPOORLOOS_BENCH_DB) with everything the lifecycle derives removed (aggregates,
visits, partials, pairs, sealed days), as after an import. Starts the release binary on it
with its clock on the day after the data, then asks a 30d dashboard view (ten
queries, six in flight) unfiltered and with one filter every few seconds, and
prints how long each took, from the first start and again after a restart.

  python3 scripts/first_start.py --store /tmp/bench.duckdb [--binary PATH]

Needs the Python duckdb package of the bundled DuckDB's version (2.0.0).
"""
import argparse, concurrent.futures, json, os, re, shutil, subprocess, sys, tempfile, time
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
    return time.monotonic() - started, max(t for _, t in answers), bad


def run(binary, store, config, seconds, label):
    env = dict(os.environ, SPOORLOOS_CLOCK_START="2026-01-31T12:00:00Z")
    proc = subprocess.Popen([binary, "--config", config, "--database", store,
                             "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started = time.monotonic()
    url = None
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1).rstrip("/")
            break
    print(f"{label}: serving after {time.monotonic() - started:.1f} s")
    views = [("none", None), ("device", ["is", "visit:device", ["Desktop"]])]
    while time.monotonic() - started < seconds:
        for name, filt in views:
            wall, slowest, bad = ask_view(url, view("30d", filt))
            print(f"{label}: t={time.monotonic() - started:6.1f} s  30d {name:<7} view "
                  f"{wall * 1000:6.0f} ms, slowest query {slowest * 1000:6.0f} ms"
                  + (f", not 200: {bad}" if bad else ""), flush=True)
        time.sleep(3)
    proc.terminate()
    proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, help="a store made by benches/dashboard.rs")
    ap.add_argument("--binary", default=os.path.expanduser(
        "~/.cache/spoorloos-target/release/spoorloos"))
    ap.add_argument("--seconds", type=float, default=150)
    args = ap.parse_args()
    import duckdb
    work = tempfile.mkdtemp()
    store = os.path.join(work, "imported.duckdb")
    shutil.copy(args.store, store)
    con = duckdb.connect(store)
    for table in ["visits", "visit_partials", "sealed_days", "daily_aggregates",
                  "rolled_up_days", "daily_pairs", "paired_days", "exact_pairs_days"]:
        con.execute(f"DELETE FROM {table}")
    con.execute("CHECKPOINT")
    con.close()
    key_hash = subprocess.run([args.binary, "hash-key", "--stdin"], input=KEY, text=True,
                              capture_output=True, check=True).stdout.split()[-1]
    config = os.path.join(work, "spoorloos.toml")
    with open(config, "w") as f:
        f.write(f'sites = ["{SITE}"]\n\n[[api_keys]]\nname = "bench"\nhash = "{key_hash}"\n')
    run(args.binary, store, config, args.seconds, "first start")
    run(args.binary, store, config, 20, "restart")
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
