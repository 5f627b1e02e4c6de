#!/usr/bin/env node
// How fast the dashboard draws in real Chromium on a big store: from navigation to
// the last panel drawn, for the first view of 30 days, a view filtered by one
// country and by one source, and a period switch; each query's time too, so the
// slowest panel shows; and the first view's transfer size.
//
//   node tests/browser/bench.mjs --store /tmp/bench.duckdb [--binary PATH] [--runs 5]
//
// The store is the one benches/dashboard.rs generates (SPOORLOOS_BENCH_DB: 10M
// events of example.test over the 30 days from 2026-01-01); it is copied first, and
// the collector runs on the copy with its clock on 2026-01-31 12:00 UTC.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const store = args.store;
if (!store) { console.error('usage: bench.mjs --store FILE [--binary PATH] [--runs N]'); process.exit(2); }
const runs = Number(args.runs || 5);
const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/spoorloos-target');
const binary = args.binary || path.join(target, 'release/spoorloos');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spoorloos-dash-bench-'));
const db = path.join(dir, 'bench.duckdb');
fs.copyFileSync(store, db);

const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--database', db, '--site', 'example.test',
  '--clock-start', '2026-01-31T12:00:00Z'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
let out = '';
const started = new Promise((resolve) => child.stdout.on('data', (d) => {
  out += d;
  const url = /listening on (\S+)/.exec(out);
  const token = /setup\?token=([0-9a-f]+)/.exec(out);
  if (url && token) resolve([url[1], token[1]]);
}));
const [base, token] = await started;

const setup = await fetch(base + '/setup', {
  method: 'POST', redirect: 'manual',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: `token=${token}&name=bench&password=bench-password-1`,
});
const cookie = /spoorloos_session=([0-9a-f]+)/.exec(setup.headers.get('set-cookie') || '')[1];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
await context.addCookies([{ name: 'spoorloos_session', value: cookie, url: base }]);
const page = await context.newPage();

const queries = [];
page.on('requestfinished', (r) => {
  if (!r.url().endsWith('/dashboard/api/query')) return;
  const body = r.postDataJSON() || {};
  const t = r.timing();
  const what = (body.dimensions || ['top figures'])[0] + (body.include && body.include.comparisons ? ' +comparison' : '');
  queries.push({ what, ms: t.responseEnd });
});

async function drawn() {
  await page.waitForFunction(() => document.querySelectorAll('.panel .loading').length === 0
    && document.querySelectorAll('#top .figure').length > 0
    && document.querySelector('#graph svg, #graph .notice'), null, { timeout: 120000, polling: 10 });
  return page.evaluate(() => performance.now());
}

async function view(url) {
  queries.length = 0;
  await page.goto(base + url);
  const ms = await drawn();
  return { ms, queries: queries.slice() };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const results = {};
const views = {
  'first view, 30 days': '/',
  'filtered by country DE, 30 days': '/?f=is%7Cvisit%3Acountry%7CDE',
  'filtered by source Google, 30 days': '/?f=is%7Cvisit%3Asource%7CGoogle',
};
// One warm-up: the first queries after start open DuckDB's caches.
await view('/');
for (const [name, url] of Object.entries(views)) {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await view(url));
  const panels = {};
  for (const r of all) for (const q of r.queries) (panels[q.what] ||= []).push(q.ms);
  results[name] = {
    median_ms: Math.round(median(all.map((r) => r.ms))),
    max_ms: Math.round(Math.max(...all.map((r) => r.ms))),
    // Each panel's query, median from request to response, slowest first.
    panels_ms: Object.fromEntries(Object.entries(panels).map(([k, v]) => [k, Math.round(median(v))])
      .sort((a, b) => b[1] - a[1])),
  };
}
{
  const all = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(base + '/');
    await drawn();
    const t0 = await page.evaluate(() => performance.now());
    await page.selectOption('#period', i % 2 ? '7d' : 'month');
    const t1 = await drawn();
    all.push(t1 - t0);
  }
  results['switching the period (30 days to 7 days or this month)'] = { median_ms: Math.round(median(all)), max_ms: Math.round(Math.max(...all)) };
}
{
  // Transfer of the first view: bytes on the wire (headers and bodies as sent,
  // gzipped where the collector gzips), and the bodies decoded.
  let wire = 0, decoded = 0;
  const fresh = await browser.newContext({ locale: 'en-GB' });
  await fresh.addCookies([{ name: 'spoorloos_session', value: cookie, url: base }]);
  const p = await fresh.newPage();
  const done = [];
  p.on('requestfinished', (r) => done.push(r));
  await p.goto(base + '/');
  await p.waitForFunction(() => document.querySelectorAll('.panel .loading').length === 0 && document.querySelector('#graph svg') && document.querySelector('.map'), null, { timeout: 120000 });
  await p.waitForTimeout(500);
  for (const r of done) {
    const sizes = await r.sizes();
    wire += sizes.responseBodySize + sizes.responseHeadersSize;
    decoded += (await (await r.response()).body().catch(() => Buffer.alloc(0))).length;
  }
  results['first view transfer'] = { requests: done.length, wire_bytes: wire, decoded_bytes: decoded };
  await fresh.close();
}
console.log(JSON.stringify(results, null, 2));
await browser.close();
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
fs.rmSync(dir, { recursive: true, force: true });
