#!/usr/bin/env python3
"""Peak memory of the collector under hostile connections: up to the connection cap
(`limits.max_connections`, 4096 by default), every connection announces a full-size
event body (`limits.max_body_bytes`) and sends it half, then one byte a second, so
each holds a body buffer as long as the request timeout allows. Starts the release
binary on a fresh database, holds the connections, and prints the server's resident
memory (VmRSS) idle, at its peak (VmHWM) and after the senders are gone, with the
share of connections answered 503 at once (past `limits.max_buffered_body_bytes`).
With `--http2`, each connection speaks HTTP/2 (cleartext, prior knowledge) and opens
`--streams` such requests at once (`limits.max_streams_per_connection` is 16): the
same body budget holds for every stream. Needs the `h2` package (`pip install h2`).

  python3 scripts/slow_senders.py [--binary PATH] [--connections 4096] [--seconds 12]
  python3 scripts/slow_senders.py --http2 --connections 1024 --streams 16
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


async def slow_h2_sender(host, port, body_bytes, seconds, streams, answers):
    """One HTTP/2 connection with `streams` slow request bodies at once; counts each
    stream's answer like `slow_sender` counts a connection's."""
    import h2.config, h2.connection, h2.events
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        answers["refused"] += streams
        return
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    open_ids = set()
    for _ in range(streams):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [
            (":method", "POST"), (":path", "/api/event"), (":scheme", "http"),
            (":authority", host), ("content-type", "application/json"),
            ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"),
            ("content-length", str(body_bytes))])
        open_ids.add(sid)
    sent = {sid: 0 for sid in open_ids}

    def feed(limit):
        # Up to `limit` bytes more per stream, as far as flow control lets.
        for sid in list(open_ids):
            n = min(limit, body_bytes - 1 - sent[sid], conn.local_flow_control_window(sid))
            if n > 0:
                conn.send_data(sid, b" " * n)
                sent[sid] += n

    try:
        feed(body_bytes // 2)
        writer.write(conn.data_to_send())
        await writer.drain()
        end = time.monotonic() + seconds
        while open_ids and time.monotonic() < end:
            try:
                data = await asyncio.wait_for(reader.read(65536), timeout=1.0)
                if not data:
                    answers["closed"] += len(open_ids)
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        code = dict(event.headers).get(b":status", b"?").decode()
                        answers[code] = answers.get(code, 0) + 1
                        open_ids.discard(event.stream_id)
                    elif isinstance(event, h2.events.StreamReset):
                        answers["reset"] = answers.get("reset", 0) + 1
                        open_ids.discard(event.stream_id)
            except asyncio.TimeoutError:
                feed(1)
            writer.write(conn.data_to_send())
            await writer.drain()
        answers["held"] += len(open_ids)
    except (ConnectionError, OSError):
        answers["closed"] += len(open_ids)
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
    ap.add_argument("--http2", action="store_true")
    ap.add_argument("--streams", type=int, default=16)
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
    if args.http2:
        senders = [slow_h2_sender(host, port, args.body_bytes, args.seconds, args.streams,
                                  answers) for _ in range(args.connections)]
    else:
        senders = [slow_sender(host, port, args.body_bytes, args.seconds, answers)
                   for _ in range(args.connections)]
    await asyncio.gather(*senders)
    peak = status(proc.pid)
    time.sleep(2)
    after = status(proc.pid)
    proc.terminate()
    proc.wait(timeout=30)
    kind = f"HTTP/2 connections of {args.streams} streams" if args.http2 else "slow senders"
    print(f"{args.connections} {kind} of {args.body_bytes} B bodies for {args.seconds:.0f} s")
    print(f"answers: {answers}")
    print(f"VmRSS idle {idle.get('VmRSS')} MiB, peak (VmHWM) {peak.get('VmHWM')} MiB, "
          f"after {after.get('VmRSS')} MiB")


asyncio.run(main())
