// Projects Natural Earth's 1:110m countries (public domain, via the world-atlas npm
// package) once into SVG path data keyed by ISO 3166-1 alpha-2 code, the code
// Spoorloos stores for a visit's country:
//
//   cd assets/dashboard/build && npm ci && npm run world
//
// Writes ../world.json: {"width", "height", "countries": {"DE": "M…Z", …}}.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { geoEqualEarth, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import countries from 'i18n-iso-countries';

const require = createRequire(import.meta.url);
const topo = require('world-atlas/countries-110m.json');
const world = feature(topo, topo.objects.countries);
const width = 960, height = 470;
const projection = geoEqualEarth().fitExtent([[4, 4], [width - 4, height - 4]], world);
// One decimal is a tenth of a pixel at full width: enough, and half the bytes.
const path = geoPath(projection).digits(1);
const out = {};
for (const f of world.features) {
  if (f.properties.name === 'Antarctica') continue;
  const code = countries.numericToAlpha2(String(f.id).padStart(3, '0'))
    || { Kosovo: 'XK', 'N. Cyprus': 'CY', Somaliland: 'SO' }[f.properties.name];
  const d = path(f);
  if (!code || !d) continue;
  out[code] = out[code] ? out[code] + d : d;
}
fs.writeFileSync(new URL('../world.json', import.meta.url),
  JSON.stringify({ source: 'Natural Earth 1:110m countries (public domain), via world-atlas 2.0.2 (ISC)', width, height, countries: out }) + '\n');
console.log(`world.json: ${Object.keys(out).length} countries`);
