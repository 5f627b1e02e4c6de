"""Stats API client for `scripts/load.sh --queries`: asks two v2 queries back to
back (a filtered source breakdown, and a page breakdown cross-filtered by country
and device, as an analyst clicking through a dashboard would) for SECS seconds, then prints one line:

    QUERIES answered=N mean_s=X max_s=Y errors=E

Usage: ask.py URL BEARER_KEY SITE SECS
"""

import json
import sys
import time
import urllib.error
import urllib.request

url, key, site, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
RANGE = ["2026-01-01", "2026-01-30"]
BODIES = [
    {"site_id": site, "date_range": RANGE, "metrics": ["visitors", "visits", "bounce_rate"],
     "dimensions": ["visit:source"],
     "filters": [["is", "visit:source", ["Google", "Bing", "DuckDuckGo"]]]},
    {"site_id": site, "date_range": RANGE, "metrics": ["visitors", "pageviews"],
     "dimensions": ["event:page"],
     "filters": [["is", "visit:country", ["NL"]], ["is", "visit:device", ["Mobile"]]],
     "pagination": {"limit": 10}},
]

times, errors = [], 0
deadline = time.monotonic() + secs
i = 0
while time.monotonic() < deadline:
    body = json.dumps(BODIES[i % len(BODIES)]).encode()
    i += 1
    request = urllib.request.Request(
        url + "/api/v2/query", data=body,
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
        times.append(time.monotonic() - started)
    except (urllib.error.URLError, OSError) as e:
        errors += 1
        print(f"ask.py: {e}", file=sys.stderr)
        time.sleep(0.5)
mean = sum(times) / len(times) if times else 0.0
print(f"QUERIES answered={len(times)} mean_s={mean:.2f} max_s={max(times, default=0.0):.2f} errors={errors}")
