#!/usr/bin/env bash
# Writes the English names of countries and of their subdivisions that the Stats
# API's visit:country_name and visit:region_name give (src/query/places.rs), from
# two npm packages:
#
#   assets/places/countries.tsv  ISO 3166-1 alpha-2 code, name (Unicode CLDR,
#                                cldr-localenames-full: Unicode License v3)
#   assets/places/regions.tsv    ISO 3166-2 code, name (iso-3166 by Titus Wormer,
#                                from Wikipedia: MIT)
#
# Usage: scripts/place-names.sh   (run again to take newer releases)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent cldr-localenames-full iso-3166 >/dev/null)
for f in "$work"/*.tgz; do mkdir -p "$f.d" && tar xzf "$f" -C "$f.d"; done
cldr="$(ls -d "$work"/cldr-localenames-full-*.tgz.d/package)"
iso="$(ls -d "$work"/iso-3166-*.tgz.d/package)"
cp "$cldr/LICENSE" assets/places/LICENSE-cldr
cp "$iso/license" assets/places/LICENSE-iso-3166
CLDR="$cldr" ISO="$iso" node --input-type=module - <<'JS'
import fs from 'node:fs';
const territories = JSON.parse(fs.readFileSync(`${process.env.CLDR}/main/en/territories.json`, 'utf8'))
  .main.en.localeDisplayNames.territories;
const { iso31662 } = await import(`${process.env.ISO}/2.js`);
const clean = (s) => s.replace(/[\t\r\n]/g, ' ');
const countries = Object.entries(territories).filter(([code]) => /^[A-Z]{2}$/.test(code))
  .sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, name]) => `${code}\t${clean(name)}`);
const regions = iso31662.map((r) => [r.code, r.name]).sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([code, name]) => `${code}\t${clean(name)}`);
fs.writeFileSync('assets/places/countries.tsv', countries.join('\n') + '\n');
fs.writeFileSync('assets/places/regions.tsv', regions.join('\n') + '\n');
console.log(`countries: ${countries.length}, regions: ${regions.length}`);
JS
