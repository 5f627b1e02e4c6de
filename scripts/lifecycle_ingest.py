#!/usr/bin/env python3
"""Ingestion while the lifecycle works on a big store: starts the release binary on
a copy of a generated 10M-event store (benches/dashboard.rs with SPOORLOOS_BENCH_DB)
with its clock far enough on that most events expire, so the first lifecycle run
deletes them and compacts the file, and sends pixel hits at a steady rate from the
moment it listens until a few seconds after the lifecycle's log line. Prints how
long the lifecycle took, the hits' latency while it ran, and what /metrics says was
accepted, dropped and stored.

  python3 scripts/lifecycle_ingest.py --store /tmp/bench.duckdb [--rate 200]
"""
import argparse, concurrent.futures, http.client, os, random, re, shutil, subprocess
import tempfile, threading, time

SITE = "example.test"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


def sender(host, port, rate_per_thread, stop, latencies, errors):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    interval = 1.0 / rate_per_thread
    next_at = time.monotonic()
    while not stop.is_set():
        ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        started = time.monotonic()
        try:
            conn.request("GET", f"/p.gif?d={SITE}&u=https%3A%2F%2F{SITE}%2F",
                         headers={"User-Agent": UA, "X-Forwarded-For": ip})
            conn.getresponse().read()
            latencies.append((started, time.monotonic() - started))
        except (OSError, http.client.HTTPException):
            errors.append(started)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def metrics(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    keep = re.compile(r"^spoorloos_(hits_accepted_total|hits_dropped_total|events_stored_total)")
    return [l for l in text.splitlines() if keep.match(l)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/spoorloos-target")),
        "release", "spoorloos"))
    ap.add_argument("--rate", type=float, default=200, help="hits per second")
    ap.add_argument("--clock", default="2026-02-20T12:00:00Z")
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    store = os.path.join(work, "store.duckdb")
    shutil.copy(args.store, store)
    proc = subprocess.Popen([args.binary, "--site", SITE, "--trusted-proxy", "127.0.0.1",
                             "--database", store, "--listen", "127.0.0.1:0",
                             "--clock-start", args.clock],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    host = port = None
    log = []
    while port is None:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the collector stopped:\n" + "".join(log))
        log.append(line)
        m = re.search(r"listening on http://([\d.]+):(\d+)", line)
        if m:
            host, port = m.group(1), int(m.group(2))
    started = time.monotonic()
    stop = threading.Event()
    latencies, errors = [], []
    threads = 8
    pool = concurrent.futures.ThreadPoolExecutor(threads)
    for _ in range(threads):
        pool.submit(sender, host, port, args.rate / threads, stop, latencies, errors)
    done = None
    for line in proc.stdout:
        log.append(line)
        if "rolled up" in line or "roll-up or retention failed" in line:
            done = time.monotonic()
            break
    time.sleep(5)
    stop.set()
    pool.shutdown()
    time.sleep(2)
    counts = metrics(host, port)
    proc.terminate()
    proc.wait(timeout=120)
    during = sorted(l for t, l in latencies if done is None or t <= done)
    pick = lambda q: during[min(len(during) - 1, int(q * len(during)))] * 1000 if during else 0
    print(f"lifecycle: {((done or time.monotonic()) - started):.1f} s after listening")
    print(f"hits while it ran: {len(during)}, latency p50 {pick(0.5):.1f} ms, "
          f"p99 {pick(0.99):.1f} ms, max {pick(1.0):.1f} ms; failed requests {len(errors)}")
    for line in counts:
        print(line)
    for line in log:
        if "expired" in line or "compact" in line:
            print(line.rstrip())


main()
