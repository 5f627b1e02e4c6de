#!/usr/bin/env python3
"""Builds the request stream of the load benchmark (scripts/load.sh) for wrk.

    gen_requests.py BROWSERS_TXT OUT [--requests N] [--uas N] [--seed S]

A realistic day of traffic on https://smtware.com, as a collector behind a reverse
proxy on 127.0.0.1 sees it:

* visitors with real browser User-Agents: N of the isbot crate's ~166k
  fixtures/browsers.txt, drawn with Zipf-skewed popularity (a few very common),
  with the headers that browser sends (Accept-Language, Sec-Fetch-*, and
  Client Hints for Chromium), some with Sec-GPC: 1;
* visits of 1-8 pageviews over ~200 pages with Zipf popularity; the landing page
  carries the visit's referrer (search engines, social sites, newsletters, other
  sites, or none; some with utm_ parameters or click ids), later pages the
  previous page as referrer;
* pixel visitors (GET /p.gif?u=PAGE&r=REFERRER&d=smtware.com, or the snippet's
  /p.gif?d=smtware.com with the page in Referer) and script visitors (POST
  /api/event, text/plain JSON exactly as assets/s.js sends: pageview,
  engagement, custom events with props), about 70 % / 30 % of requests.

The visitor's address is not in the file: each line names a visitor slot and an
address family, and the Lua side (mix.lua) derives the X-Forwarded-For address from
the slot and how many times the stream has been replayed, so every replay brings new
visitors (as real traffic does) while both servers get the identical stream.

Output, one request a line, tab-separated:
    v4|v6 <TAB> slot <TAB> head up to "X-Forwarded-For: " <TAB> rest of the request
with CR LF written as the four characters \\r\\n.
"""

import argparse
import json
import random
import sys
from urllib.parse import quote

SITE = "smtware.com"
COLLECTOR_HOST = "stats.smtware.com"


def zipf_weights(n, s):
    return [1.0 / (rank + 1) ** s for rank in range(n)]


def pages(rng):
    """~200 paths: a few hubs, a blog, docs, products."""
    words = (
        "privacy analytics cookie consent gdpr tracking pixel dashboard funnel "
        "retention churn pricing startup saas growth metrics seo content launch "
        "rust duckdb postgres kubernetes docker api webhook billing invoice "
        "onboarding design marketing newsletter changelog roadmap security"
    ).split()
    out = ["/", "/pricing", "/about", "/contact", "/blog/", "/docs/", "/features",
           "/customers", "/careers", "/changelog", "/login", "/signup", "/security",
           "/privacy", "/terms", "/integrations", "/compare/google-analytics",
           "/compare/plausible", "/demo", "/partners"]
    seen = set(out)
    while len(out) < 140:
        slug = "-".join(rng.sample(words, rng.randint(2, 5)))
        path = f"/blog/{slug}"
        if path not in seen:
            seen.add(path)
            out.append(path)
    for section in ["getting-started", "tracking", "api", "self-hosting", "integrations"]:
        for topic in rng.sample(words, 10):
            out.append(f"/docs/{section}/{topic}")
    for product in ["analytics", "heatmaps", "forms", "ab-testing", "uptime"]:
        out.append(f"/products/{product}")
        out.append(f"/products/{product}/pricing")
    # Popularity order: hubs first, then a shuffled long tail.
    head, tail = out[:6], out[6:]
    rng.shuffle(tail)
    return head + tail


SEARCH = ["https://www.google.com/", "https://www.google.nl/", "https://www.google.de/",
          "https://www.google.co.uk/", "https://www.bing.com/", "https://duckduckgo.com/",
          "https://search.yahoo.com/", "https://www.ecosia.org/", "https://yandex.ru/",
          "https://search.brave.com/", "https://www.startpage.com/"]
SOCIAL = ["https://t.co/", "https://www.facebook.com/", "https://l.facebook.com/",
          "https://www.linkedin.com/", "https://lnkd.in/", "https://www.reddit.com/r/analytics/",
          "https://news.ycombinator.com/", "https://www.instagram.com/", "https://mastodon.social/",
          "https://www.youtube.com/", "https://old.reddit.com/r/privacy/"]
NEWSLETTER = ["https://mail.google.com/", "https://outlook.live.com/", "https://substack.com/",
              "https://newsletter.smtware.com/", "https://mail.yahoo.com/"]
OTHER = ["https://github.com/smtware/spoorloos", "https://stackoverflow.com/questions/4471",
         "https://medium.com/@someone/privacy-first-analytics-3f2", "https://dev.to/",
         "https://www.producthunt.com/", "https://alternativeto.net/software/google-analytics/",
         "https://chatgpt.com/", "https://en.wikipedia.org/wiki/Web_analytics"]
UTM = [("newsletter", "email", "spring_launch"), ("twitter", "social", "launch"),
       ("linkedin", "social", "b2b_q3"), ("google", "cpc", "brand"),
       ("producthunt", "referral", "launch_day"), ("bing", "cpc", "generic")]
LANGS = ["en-US,en;q=0.9", "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "de-DE,de;q=0.9,en;q=0.8",
         "en-GB,en;q=0.9", "fr-FR,fr;q=0.9,en;q=0.8", "es-ES,es;q=0.9", "pt-BR,pt;q=0.9,en;q=0.8"]
WIDTHS = [360, 375, 390, 393, 412, 414, 768, 820, 1024, 1280, 1366, 1440, 1536, 1920, 2560]
CUSTOM = [("Signup", {"plan": "free"}), ("Signup", {"plan": "pro"}),
          ("Download", {"file": "spoorloos-linux-x86_64.tar.gz"}),
          ("Outbound Link: Click", {"url": "https://github.com/smtware/spoorloos"}),
          ("File Download", {"url": "https://smtware.com/whitepaper.pdf"}),
          ("404", {"path": "/old-blog/post"}), ("Newsletter", {"source": "footer"}),
          ("Purchase", {"plan": "business", "seats": 5})]


def chromium_hints(ua):
    """Client Hints a Chromium-based browser sends to a cross-site subresource."""
    if "Chrome/" not in ua or "Edge/" in ua:
        return []
    try:
        major = int(ua.split("Chrome/", 1)[1].split(".", 1)[0])
    except ValueError:
        return []
    if major < 89:
        return []
    brand = "Microsoft Edge" if "Edg/" in ua else "Google Chrome"
    mobile = "?1" if "Mobile" in ua else "?0"
    if "Android" in ua:
        platform = "Android"
    elif "Windows" in ua:
        platform = "Windows"
    elif "Mac OS X" in ua:
        platform = "macOS"
    elif "CrOS" in ua:
        platform = "Chrome OS"
    else:
        platform = "Linux"
    return [
        ("sec-ch-ua", f'"Chromium";v="{major}", "{brand}";v="{major}", "Not=A?Brand";v="24"'),
        ("sec-ch-ua-mobile", mobile),
        ("sec-ch-ua-platform", f'"{platform}"'),
    ]


def referrer_for_landing(rng):
    r = rng.random()
    if r < 0.42:
        return None
    if r < 0.72:
        return rng.choice(SEARCH)
    if r < 0.85:
        return rng.choice(SOCIAL)
    if r < 0.91:
        return rng.choice(NEWSLETTER)
    return rng.choice(OTHER)


def landing_url(rng, path):
    host = "www." + SITE if rng.random() < 0.08 else SITE
    url = f"https://{host}{path}"
    r = rng.random()
    if r < 0.12:
        source, medium, campaign = rng.choice(UTM)
        url += f"?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
    elif r < 0.16:
        url += "?gclid=" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
    elif r < 0.18:
        url += "?fbclid=IwAR" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(20))
    return url


def request(method, target, headers, body=None):
    """Returns (head up to the X-Forwarded-For value, the rest), CRLF escaped."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {COLLECTOR_HOST}"]
    lines += [f"{k}: {v}" for k, v in headers]
    body_bytes = body.encode() if body is not None else b""
    if body is not None:
        lines.append(f"Content-Length: {len(body_bytes)}")
    lines.append("X-Forwarded-Proto: https")
    head = "\\r\\n".join(lines) + "\\r\\nX-Forwarded-For: "
    rest = "\\r\\n\\r\\n" + (body if body is not None else "")
    return head, rest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("browsers")
    ap.add_argument("out")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--uas", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20240917)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    with open(args.browsers, encoding="utf-8", errors="replace") as f:
        corpus = sorted({line.strip() for line in f
                         if line.strip() and all(32 <= ord(c) < 127 for c in line.strip())
                         and len(line.strip()) <= 512})
    uas = rng.sample(corpus, min(args.uas, len(corpus)))
    ua_weights = zipf_weights(len(uas), 1.05)
    paths = pages(rng)
    page_weights = zipf_weights(len(paths), 1.0)

    out = []
    stats = {"pixel": 0, "api": 0, "v6": 0, "gpc": 0, "utm": 0}
    slot = 0
    while len(out) < args.requests:
        slot += 1
        ua = rng.choices(uas, ua_weights)[0]
        family = "v6" if rng.random() < 0.15 else "v4"
        lang = rng.choice(LANGS)
        gpc = rng.random() < 0.04
        width = rng.choice(WIDTHS)
        pixel_visitor = rng.random() < 0.80
        hints = chromium_hints(ua)
        views = min(8, 1 + int(rng.expovariate(1 / 1.6)))
        referrer = referrer_for_landing(rng)
        previous = None
        for view in range(views):
            path = rng.choices(paths, page_weights)[0]
            if view == 0:
                url = landing_url(rng, path)
                ref = referrer
                stats["utm"] += "utm_" in url
            else:
                url = f"https://{SITE}{path}"
                ref = previous
            previous = url
            common = [("User-Agent", ua), ("Accept-Language", lang),
                      ("Accept-Encoding", "gzip, deflate, br")] + hints
            if gpc:
                common.append(("Sec-GPC", "1"))
            if pixel_visitor:
                if rng.random() < 0.65:
                    target = "/p.gif?u=" + quote(url, safe="")
                    if ref:
                        target += "&r=" + quote(ref, safe="")
                    target += "&d=" + SITE
                else:
                    target = "/p.gif?d=" + SITE  # the snippet's <noscript> pixel
                headers = common + [
                    ("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
                    ("Referer", url),
                    ("Sec-Fetch-Dest", "image"), ("Sec-Fetch-Mode", "no-cors"),
                    ("Sec-Fetch-Site", "same-site"),
                ]
                out.append((family, slot, *request("GET", target, headers)))
                stats["pixel"] += 1
                stats["v6"] += family == "v6"
                stats["gpc"] += gpc
                continue
            events = [{"n": "pageview", "u": url, "d": SITE, "r": ref, "w": width,
                       "c": rng.choice(["4g", "4g", "4g", "3g"])}]
            if rng.random() < 0.08:
                name, props = rng.choice(CUSTOM)
                events.append({"n": name, "u": url, "d": SITE, "r": ref, "w": width, "p": props})
            if rng.random() < 0.6:
                events.append({"n": "engagement", "u": url, "d": SITE,
                               "sd": rng.randint(10, 100), "e": rng.randint(800, 240000)})
            for event in events:
                stats["v6"] += family == "v6"
                stats["gpc"] += gpc
                if gpc:
                    event["g"] = 1
                body = json.dumps(event, separators=(",", ":"))
                headers = common + [
                    ("Accept", "*/*"), ("Content-Type", "text/plain;charset=UTF-8"),
                    ("Origin", f"https://{SITE}"), ("Referer", url),
                    ("Sec-Fetch-Dest", "empty"), ("Sec-Fetch-Mode", "no-cors"),
                    ("Sec-Fetch-Site", "same-site"),
                ]
                out.append((family, slot, *request("POST", "/api/event", headers, body)))
                stats["api"] += 1

    visits = slot

    # Interleave visits as concurrent visitors do, keeping each visit's order.
    by_slot = {}
    for item in out:
        by_slot.setdefault(item[1], []).append(item)
    queues = list(by_slot.values())
    rng.shuffle(queues)
    mixed, active = [], []
    while queues or active:
        while queues and len(active) < 400:
            active.append(queues.pop())
        i = rng.randrange(len(active))
        mixed.append(active[i].pop(0))
        if not active[i]:
            active[i] = active[-1]
            active.pop()
    with open(args.out, "w", encoding="ascii") as f:
        for family, visit, head, rest in mixed:
            assert "\t" not in head and "\t" not in rest and "\n" not in head + rest
            f.write(f"{family}\t{visit}\t{head}\t{rest}\n")
    n = len(mixed)
    print(f"requests: {n} ({stats['pixel'] * 100 // n} % pixel GET, "
          f"{stats['api'] * 100 // n} % /api/event POST) from {visits} visits, "
          f"{len(uas)} distinct UAs (Zipf), {len(paths)} pages (Zipf), "
          f"{stats['v6'] * 100 // n} % IPv6, {stats['gpc'] * 100 // n} % Sec-GPC, "
          f"{stats['utm']} landings with utm_", file=sys.stderr)


if __name__ == "__main__":
    main()
