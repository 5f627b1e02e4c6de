#!/usr/bin/env bash
# Fetches public User-Agent corpora from the package registries (npm, PyPI) into a
# folder and measures the bot filter on them (tests/it/bot_holdout.rs):
#
#   crawlers-monperrus.txt   crawler-user-agents (npm): every pattern's instances
#   crawlers-matomo.txt      device_detector (PyPI): Matomo DeviceDetector's bots.yml
#   crawlers-crawlerdetect.txt  crawlerdetect (PyPI sdist): CrawlerDetect's crawlers
#   browsers-matomo.txt      device_detector: the device fixtures whose client is a browser
#   apps-matomo.txt          device_detector: the fixtures whose client is a mobile app
#   browsers-intoli.txt      user-agents (npm): recent real browser User-Agents
#   browsers-crawlerdetect.txt  crawlerdetect: CrawlerDetect's devices
#   browsers-topua.txt       top-user-agents (npm): today's most common browser User-Agents
#   browsers-fakeua.txt      fake-useragent (PyPI): recent real browser User-Agents
#
# In-app browsers and desktop web apps (Instagram, Facebook, Electron) listed as
# crawlers are people's browsers here and are left out of the crawler files.
#
# Usage: scripts/bot-corpora.sh [folder]   (default: a fresh temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

(cd "$work" && npm pack --silent crawler-user-agents user-agents top-user-agents >/dev/null)
(cd "$work" && python3 -m pip download --quiet --no-deps device_detector fake-useragent -d . \
    && python3 -m pip download --quiet --no-deps --no-binary :all: crawlerdetect -d .)
for f in "$work"/*.tgz; do mkdir -p "$f.d" && tar xzf "$f" -C "$f.d"; done
for f in "$work"/*.whl; do mkdir -p "$f.d" && (cd "$f.d" && python3 -m zipfile -e "$f" .); done
for f in "$work"/*.tar.gz; do mkdir -p "$f.d" && tar xzf "$f" -C "$f.d"; done

WORK="$work" OUT="$out" python3 - <<'PY'
import glob, json, os, re

work, out = os.environ["WORK"], os.environ["OUT"]
people = re.compile(r"Instagram|FBAN/|FBAV/|MetaIAB|Electron/")

def write(name, uas):
    uas = sorted({u.strip() for u in uas if u and u.strip()})
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write("\n".join(uas) + "\n")
    print(f"{name}: {len(uas)}")

def one(pattern):
    found = sorted(glob.glob(os.path.join(work, pattern), recursive=True))
    if not found:
        raise SystemExit(f"not found: {pattern}")
    return found[-1]

def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return json.loads(v)
    return v

def yaml_entries(path):
    """(user_agent, client type) of each entry of a DeviceDetector fixture."""
    entry, in_client = {}, False
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("-"):
            if entry:
                yield entry.get("ua"), entry.get("type")
            entry, in_client = {}, False
            line = " " + line[1:]
        m = re.match(r"^\s{1,2}user_agent:\s*(.*)$", line)
        if m:
            entry["ua"] = unquote(m.group(1))
        if re.match(r"^\s{1,2}client:", line):
            in_client = True
        elif re.match(r"^\s{1,2}\S", line):
            in_client = False
        m = re.match(r"^\s{3,4}type:\s*(.*)$", line)
        if m and in_client:
            entry["type"] = unquote(m.group(1))
    if entry:
        yield entry.get("ua"), entry.get("type")

crawlers = json.load(open(one("crawler-user-agents*/package/crawler-user-agents.json")))
write("crawlers-monperrus.txt",
      [i for e in crawlers for i in e.get("instances", []) if not people.search(i)])

fixtures = os.path.dirname(one("device_detector*/**/tests/fixtures/upstream/bots.yml"))
write("crawlers-matomo.txt",
      [ua for ua, _ in yaml_entries(os.path.join(fixtures, "bots.yml")) if ua and not people.search(ua)])
browsers, apps = [], []
for path in glob.glob(os.path.join(fixtures, "*.yml")):
    if path.endswith("bots.yml"):
        continue
    for ua, kind in yaml_entries(path):
        if kind == "browser":
            browsers.append(ua)
        elif kind == "mobile app":
            apps.append(ua)
write("browsers-matomo.txt", browsers)
write("apps-matomo.txt", apps)

agents = json.load(open(one("user-agents*/package/dist/user-agents.json")))
write("browsers-intoli.txt", [a["userAgent"] for a in agents])

cd = os.path.dirname(one("crawlerdetect*/**/tests/fixtures/user_agent/crawlers.txt"))
write("crawlers-crawlerdetect.txt",
      [l for l in open(os.path.join(cd, "crawlers.txt"), encoding="utf-8", errors="replace")
       if not people.search(l)])
write("browsers-crawlerdetect.txt",
      open(os.path.join(cd, "devices.txt"), encoding="utf-8", errors="replace").read().splitlines())

top = os.path.dirname(one("top-user-agents*/package/src/index.json"))
write("browsers-topua.txt",
      [ua for name in ("index", "desktop", "mobile") for ua in json.load(open(os.path.join(top, name + ".json")))])
write("browsers-fakeua.txt",
      [json.loads(l)["useragent"] for l in open(one("fake_useragent*/**/data/browsers.jsonl"))])
PY

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spoorloos-target}"
SPOORLOOS_BOT_CORPORA="$out" cargo test --release --test it bot_holdout -- --nocapture 2>&1 \
    | grep -E '\.txt:'
echo "corpora and misses (*.missed): $out"
