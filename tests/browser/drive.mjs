#!/usr/bin/env node
// Headless-browser driver for Spoorloos end-to-end tests.
//
//   node tests/browser/drive.mjs <collector-base-url>      e.g. http://127.0.0.1:43123
//
// What it does:
//  * serves its own test pages on 127.0.0.1 (port 0) and loads them as
//    http://localhost:<port>/..., so the page host is "localhost" (the site
//    domain the collector must be configured with) and the collector is
//    cross-origin;
//  * drives Debian's /usr/bin/chromium through playwright-core:
//      desktop pass: /pixel/ (img pixel), /script/ (s.js), /script/spa (s.js,
//                    pushState + replaceState + custom event), /plausible/
//                    (the official @plausible-analytics/tracker npm package)
//      mobile pass (Pixel 7 emulation): /script/
//    scrolling to the bottom, staying visible ~1.5 s, then navigating away so
//    the engagement events fire;
//  * prints ONE JSON line on stdout:
//      {"ok":true,"pageviews":{"/pixel/":1,...},"engagements":{...},"custom":{"Signup":1,...},
//       "expected":{...},"missing":[],"requests":[{pass,method,path,status,n,page,...}],...}
//    exit status 0 when every expected event got a 2xx from the collector and
//    the browser saw no failed collector request (e.g. CORS), else 1.
//    Diagnostics go to stderr.
//
// Why a relay: beacons and keepalive fetches sent while a page unloads (the
// engagement events) are invisible to Playwright/CDP network events, and their
// bodies (Blob) are not exposed either. So the pages talk to the collector
// through a transparent recording relay on 127.0.0.1 that forwards each
// request unchanged (method, path, query, headers, body) and returns the
// collector's response unchanged (status, headers incl. CORS, body). The
// collector still sees the real browser's requests (same UA, Origin, Referer,
// Content-Type, body; peer address 127.0.0.1); the driver sees every one.
//
// Why one browser per pass: requests sent during unload bypass Playwright's
// per-context User-Agent emulation and would carry the browser's own
// "HeadlessChrome" UA; launching with --user-agent keeps every request of a
// pass on the same, non-bot UA, as a real browser would.
//
// Environment: CHROMIUM (default /usr/bin/chromium), DRIVE_TIMEOUT_MS (wait per
// expected event, default 10000).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, devices } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TRACKER_DIR = path.join(HERE, 'node_modules', '@plausible-analytics', 'tracker');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = Number(process.env.DRIVE_TIMEOUT_MS || 10000);
const DWELL_MS = 1500; // time spent visible on a page before leaving it
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const arg = process.argv[2];
if (!arg || !/^http:\/\/[^/]+/.test(arg)) {
  console.error('usage: node tests/browser/drive.mjs <collector-base-url>   (plain http, e.g. http://127.0.0.1:43123)');
  process.exit(2);
}
const COLLECTOR = new URL(arg).origin;
const log = (...a) => console.error('[drive]', ...a);

// ------------------------------------------------------------- bookkeeping

const requests = []; // one entry per request to the collector, in order
let pass = 'setup';

function pathOf(u) {
  try { return new URL(u).pathname; } catch { return null; }
}

// Fill n/page from what the request carried.
function classify(e, url, referer, body) {
  if (url.pathname === '/p.gif') {
    e.n = url.searchParams.get('n') || 'pageview';
    e.page = pathOf(url.searchParams.get('u') || referer);
    if (referer) e.referer = referer;
  } else if (url.pathname === '/api/event' && e.method === 'POST') {
    try {
      const b = JSON.parse(body);
      e.n = b.n ?? b.name;
      e.page = pathOf(b.u ?? b.url);
      e.body = b;
    } catch (err) {
      e.bodyError = `${err}: ${String(body).slice(0, 200)}`;
    }
  }
}

// ---------------------------------------------------------- recording relay

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function relayServer() {
  const target = new URL(COLLECTOR);
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, COLLECTOR);
      const e = { pass, method: req.method, path: url.pathname, status: null, done: false };
      if (req.headers['content-type']) e.contentType = req.headers['content-type'];
      if (req.method === 'OPTIONS') e.preflight = req.headers['access-control-request-headers'] || true;
      classify(e, url, req.headers.referer, body.toString('utf8'));
      requests.push(e);
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
      headers.host = target.host;
      headers['content-length'] = String(body.length);
      const up = http.request({ host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port || 80, method: req.method,
        path: req.url, headers }, (ur) => {
        e.status = ur.statusCode;
        if (ur.headers['access-control-allow-origin']) e.acao = ur.headers['access-control-allow-origin'];
        const out = {};
        for (const [k, v] of Object.entries(ur.headers)) if (!HOP.has(k)) out[k] = v;
        res.writeHead(ur.statusCode, out);
        ur.pipe(res);
        ur.on('end', () => { e.done = true; });
        ur.on('error', () => { e.done = true; });
      });
      up.on('error', (err) => {
        e.failure = String(err.message);
        e.done = true;
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end('relay: collector unreachable');
      });
      up.end(body);
    });
  });
  return listen(srv);
}

// Requests the browser itself gave up on (e.g. a fetch refused for missing
// CORS headers), as the browser reports them.
const browserFailures = [];
function watchBrowser(context, base) {
  context.on('requestfailed', (req) => {
    if (!req.url().startsWith(base + '/')) return;
    browserFailures.push({ pass, method: req.method(), path: new URL(req.url()).pathname,
      error: (req.failure() || {}).errorText || 'failed' });
  });
}

const ok2xx = (r) => r.done && r.status >= 200 && r.status < 300;
const count = (n, page) => requests.filter((r) => r.n === n && r.page === page && ok2xx(r)).length;

async function waitFor(what, pred, ms = WAIT_MS) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`timed out waiting for ${what}`);
  return false;
}

const waitEvent = (n, page, atLeast) =>
  waitFor(`${n} ${page} x${atLeast}`, () => count(n, page) >= atLeast);
const settle = () => waitFor('collector requests to settle', () => requests.every((r) => r.done));

// ---------------------------------------------------------------- test pages

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const TALL = '<div style="height:3000px;background:linear-gradient(#fff,#ccd)">tall content</div><p id="end">end</p>';

function html(title, head, body = '') {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
${head}
</head><body style="margin:0;font-family:sans-serif">
<h1>${esc(title)}</h1>
${body}
${TALL}
</body></html>`;
}

function pages(collector) {
  const stub = '<script>window.spoorloos=window.spoorloos||function(){(window.spoorloos.q=window.spoorloos.q||[]).push(arguments)}</script>';
  const tag = `<script defer src="${esc(collector)}/s.js" data-domain="localhost"></script>`;
  return {
    '/pixel/': () => html('Pixel', '',
      `<img src="${esc(collector)}/p.gif?d=localhost" referrerpolicy="no-referrer-when-downgrade" alt="" width="1" height="1">`),

    '/script/': () => html('Script', `${stub}\n${tag}`),

    // SPA: pageview /script/spa; after load a pushState to /script/spa/next
    // (engagement for /script/spa + pageview for /next), a replaceState to the
    // same path (must not count again) and a custom event.
    '/script/spa': () => html('SPA', `${stub}
${tag}
<script>
addEventListener('load', function () {
  setTimeout(function () {
    history.pushState({ step: 1 }, '', '/script/spa/next');
    history.replaceState({ step: 1 }, '', '/script/spa/next');
    document.querySelector('h1').textContent = 'SPA next';
    spoorloos('Signup', { props: { plan: 'pro' } });
    window.__spaDone = true;
  }, 300);
});
</script>`),

    // The official npm tracker, served as browser ESM straight from node_modules.
    '/plausible/': () => html('Plausible', `<script type="module">
import { init, track } from '/vendor/@plausible-analytics/tracker/plausible.js';
init({
  domain: 'localhost',
  endpoint: ${JSON.stringify(collector + '/api/event')},
  // Without this the tracker ignores localhost, and also any browser where
  // navigator.webdriver is true (Playwright) unless window.__plausible is set.
  captureOnLocalhost: true,
});
track('Download', {
  props: { format: 'pdf' },
  callback: function (r) { window.__plausibleCallback = r ? { status: r.status, error: r.error && String(r.error) } : null; },
});
</script>`),

    '/bye/': () => '<!doctype html><link rel="icon" href="data:,"><title>bye</title><p>bye</p>',
  };
}

function pageServer(collector) {
  const PAGES = pages(collector);
  const srv = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://localhost').pathname;
    const vendor = '/vendor/@plausible-analytics/tracker/';
    if (p.startsWith(vendor)) {
      const file = path.join(TRACKER_DIR, p.slice(vendor.length));
      if (!file.startsWith(TRACKER_DIR + path.sep) || !file.endsWith('.js') || !fs.existsSync(file)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(fs.readFileSync(file));
      return;
    }
    const page = PAGES[p.startsWith('/script/spa') ? '/script/spa' : p]; // SPA routes share one document
    if (!page) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(page());
  });
  return listen(srv);
}

function listen(srv) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

// ------------------------------------------------------------------ scenario

const expected = {
  pageviews: { '/pixel/': 1, '/script/': 2, '/script/spa': 1, '/script/spa/next': 1, '/plausible/': 1 },
  engagements: { '/script/': 2, '/script/spa': 1, '/script/spa/next': 1, '/plausible/': 1 },
  custom: { Signup: 1, Download: 1 },
};

const consoleMessages = [];
const extra = {};

// One browser per pass, its UA fixed browser-wide (see header comment).
async function withBrowser(name, contextOptions, base, collector, fn) {
  pass = name;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...LAUNCH_ARGS, `--user-agent=${contextOptions.userAgent}`],
  });
  try {
    const context = await browser.newContext(contextOptions);
    watchBrowser(context, collector);
    const open = async (p, referer) => {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') consoleMessages.push(`${name} ${p}: ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => consoleMessages.push(`${name} ${p}: pageerror: ${err.message}`));
      await page.goto(base + p, referer ? { referer } : {});
      return page;
    };
    await fn(open, browser);
    await settle();
    await context.close();
  } finally {
    await browser.close().catch(() => {});
  }
}

async function scrollDwellLeave(page, base) {
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForTimeout(DWELL_MS);
  // Leaving fires visibilitychange(hidden) + pagehide: the engagement beacons.
  await page.goto(base + '/bye/');
}

async function main() {
  const relay = await relayServer();
  const collector = `http://127.0.0.1:${relay.address().port}`;
  const srv = await pageServer(collector);
  const base = `http://localhost:${srv.address().port}`;
  log(`pages at ${base}; collector ${COLLECTOR} via relay ${collector}`);

  try {
    const probe = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const major = probe.version().split('.')[0];
    await probe.close();
    extra.chromium = major;

    // Desktop: a plain Chrome-on-Linux UA (headless says "HeadlessChrome", a bot).
    const desktop = {
      viewport: { width: 1280, height: 800 },
      userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`,
      locale: 'en-US',
    };
    await withBrowser('desktop', desktop, base, collector, async (open) => {
      let page = await open('/pixel/');
      await waitEvent('pageview', '/pixel/', 1);
      await page.close();

      page = await open('/script/', 'https://www.google.com/');
      extra.documentReferrer = await page.evaluate(() => document.referrer);
      await waitEvent('pageview', '/script/', 1);
      await scrollDwellLeave(page, base);
      await waitEvent('engagement', '/script/', 1);
      await page.close();

      page = await open('/script/spa', 'https://www.google.com/');
      await page.waitForFunction(() => window.__spaDone === true, null, { timeout: WAIT_MS });
      await waitEvent('pageview', '/script/spa/next', 1);
      await scrollDwellLeave(page, base);
      await waitEvent('engagement', '/script/spa/next', 1);
      await page.close();

      page = await open('/plausible/', 'https://news.ycombinator.com/');
      await waitEvent('pageview', '/plausible/', 1);
      await page.waitForFunction(() => '__plausibleCallback' in window, null, { timeout: WAIT_MS }).catch(() => {});
      extra.plausibleCallback = await page.evaluate(() => window.__plausibleCallback);
      await scrollDwellLeave(page, base);
      await waitEvent('engagement', '/plausible/', 1);
      await page.close();
    });

    // Mobile: device class from the UA (and w = 412).
    const { defaultBrowserType, ...pixel7 } = devices['Pixel 7'];
    await withBrowser('mobile', { ...pixel7, locale: 'en-US' }, base, collector, async (open) => {
      const page = await open('/script/', 'https://www.google.com/');
      await waitEvent('pageview', '/script/', 2);
      await scrollDwellLeave(page, base);
      await waitEvent('engagement', '/script/', 2);
      await page.close();
    });
  } finally {
    srv.close();
    relay.close();
  }

  // ---- summary
  const tally = (pred, keyOf) => {
    const out = {};
    for (const r of requests) {
      if (!ok2xx(r) || !pred(r)) continue;
      const k = keyOf(r);
      out[k] = (out[k] || 0) + 1;
    }
    return out;
  };
  const isEvent = (r) => r.path === '/p.gif' || (r.path === '/api/event' && r.method === 'POST');
  const pageviews = tally((r) => isEvent(r) && r.n === 'pageview', (r) => r.page);
  const engagements = tally((r) => isEvent(r) && r.n === 'engagement', (r) => r.page);
  const custom = tally((r) => isEvent(r) && r.n && r.n !== 'pageview' && r.n !== 'engagement', (r) => r.n);
  const got = { pageviews, engagements, custom };
  const missing = [];
  for (const [kind, want] of Object.entries(expected)) {
    for (const [k, n] of Object.entries(want)) {
      if ((got[kind][k] || 0) < n) missing.push(`${kind} ${k}: want ${n}, got ${got[kind][k] || 0}`);
    }
  }
  // The collector must also answer fetches with CORS headers (else the official
  // tracker's callback sees a network error and the console shows CORS errors).
  const cb = extra.plausibleCallback;
  if (!cb || !(cb.status >= 200 && cb.status < 300)) missing.push(`plausible callback: want a 2xx status, got ${JSON.stringify(cb)}`);
  for (const f of browserFailures) missing.push(`browser failed ${f.method} ${f.path} (${f.pass}): ${f.error}`);
  const summary = {
    ok: missing.length === 0,
    pageviews,
    engagements,
    custom,
    expected,
    missing,
    ...extra,
    console: consoleMessages,
    browserFailures,
    requests: requests.map(({ done, ...r }) => r),
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log((err && err.stack) || err);
    process.stdout.write(JSON.stringify({ ok: false, error: String((err && err.message) || err),
      requests: requests.map(({ done, ...r }) => r) }) + '\n');
    process.exit(1);
  },
);
