#!/usr/bin/env python3
"""Peak memory of the collector under hostile connections: up to the connection cap
(`limits.max_connections`, 4096 by default), every connection announces a full-size
event body (`limits.max_body_bytes`) and sends it half, then one byte a second, so
each holds a body buffer as long as the request timeout allows. Starts the release
binary on a fresh database, holds the connections, and prints the server's resident
memory (VmRSS) idle, at its peak (VmHWM) and after the senders are gone, with the
share of connections answered 503 at once (past `limits.max_buffered_body_bytes`).

  python3 scripts/slow_senders.py [--binary PATH] [--connections 4096] [--seconds 12]
"""
import argparse, asyncio, os, re, resource, subprocess, tempfile, time

SITE = "example.test"


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) // 1024
    return fields


async def slow_sender(host, port, body_bytes, seconds, answers):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        answers["refused"] += 1
        return
    head = (f"POST /api/event HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0\r\n"
            f"Content-Length: {body_bytes}\r\n\r\n")
    try:
        writer.write(head.encode() + b" " * (body_bytes // 2))
        await writer.drain()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            # An early answer (503: the body budget is spent) ends the sender.
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=1.0)
                if line:
                    code = line.split()[1].decode() if len(line.split()) > 1 else "?"
                    answers[code] = answers.get(code, 0) + 1
                    return
                answers["closed"] += 1
                return
            except asyncio.TimeoutError:
                writer.write(b" ")
                await writer.drain()
        answers["held"] += 1
    except (ConnectionError, OSError):
        answers["closed"] += 1
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/spoorloos-target")),
        "release", "spoorloos"))
    ap.add_argument("--connections", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--body-bytes", type=int, default=16 * 1024)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    work = tempfile.mkdtemp()
    proc = subprocess.Popen([args.binary, "--site", SITE, "--database",
                             os.path.join(work, "slow.duckdb"), "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    while url is None:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the collector stopped before listening")
        m = re.search(r"listening on http://([\d.]+):(\d+)", line)
        if m:
            host, port = m.group(1), int(m.group(2))
            url = True
    time.sleep(1)
    idle = status(proc.pid)
    answers = {"held": 0, "closed": 0, "refused": 0}
    senders = [slow_sender(host, port, args.body_bytes, args.seconds, answers)
               for _ in range(args.connections)]
    await asyncio.gather(*senders)
    peak = status(proc.pid)
    time.sleep(2)
    after = status(proc.pid)
    proc.terminate()
    proc.wait(timeout=30)
    print(f"{args.connections} slow senders of {args.body_bytes} B bodies for {args.seconds:.0f} s")
    print(f"answers: {answers}")
    print(f"VmRSS idle {idle.get('VmRSS')} MiB, peak (VmHWM) {peak.get('VmHWM')} MiB, "
          f"after {after.get('VmRSS')} MiB")


asyncio.run(main())
