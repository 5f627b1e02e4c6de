#!/usr/bin/env node
// Drives the real dashboard in Debian's Chromium (playwright-core), as marketing
// would use it, against a collector seeded with traffic by tests/it/dashboard.rs.
//
//   node tests/browser/dashboard.mjs <collector-url> <setup-token> <share-token> <empty-site>
//
// Prints one JSON line {"ok": bool, "steps": [...], "failed": "..."} and exits 1 on
// the first failed step. With SCREENSHOTS=<dir>, saves the README's screenshots there.
// Every request the pages make must go to the collector: any other host fails the run.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const [base, setupToken, shareToken, emptySite] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS || '';
const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const host = new URL(base).host;
const steps = [];
const foreign = [];
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function step(name, fn) {
  const started = Date.now();
  await fn();
  steps.push({ name, ms: Date.now() - started });
}

function watch(page) {
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.host !== host) foreign.push(r.url());
  });
}

async function figure(page, metric) {
  const loc = page.locator(`#top .value[data-metric="${metric}"]`);
  await loc.waitFor({ timeout: 15000 });
  return loc.textContent();
}

async function panelsDrawn(page) {
  await page.waitForFunction(() => document.querySelectorAll('.panel .loading').length === 0
    && document.querySelectorAll('#top .figure').length > 0
    && document.querySelector('#graph svg, #graph .notice'), null, { timeout: 20000 });
}

async function axe(context, url, label, prepare) {
  const page = await context.newPage();
  await page.goto(url);
  await panelsDrawn(page).catch(() => {});
  if (prepare) await prepare(page);
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  await page.close();
  check(result.length === 0, `axe (${label}): ${result.join('; ')}`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
let failed = null;
try {
  const context = await browser.newContext({ locale: 'en-GB', userAgent: UA, acceptDownloads: true });
  const page = await context.newPage();
  watch(page);

  await step('signed out, / leads to the sign-in page', async () => {
    await page.goto(base + '/');
    check(new URL(page.url()).pathname === '/login', `at ${page.url()}`);
  });

  await step('the setup link creates the first user and signs in', async () => {
    await page.goto(`${base}/setup?token=${setupToken}`);
    await page.fill('#name', 'marketing');
    await page.fill('#password', 'a long and good password');
    await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
    await figure(page, 'visitors');
  });

  await step('the setup link works once', async () => {
    const r = await page.request.get(`${base}/setup?token=${setupToken}`);
    check(r.status() === 404, `status ${r.status()}`);
  });

  await step('sign out, a wrong password is refused, the right one lets in', async () => {
    await Promise.all([page.waitForURL(/\/login/), page.click('#signout')]);
    await page.fill('#name', 'marketing');
    await page.fill('#password', 'not the password');
    const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('button[type=submit]')]);
    check(resp.status() === 401, `wrong password answered ${resp.status()}`);
    check(await page.locator('.notice').isVisible(), 'no notice for a wrong password');
    await page.fill('#password', 'a long and good password');
    await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
    const cookies = await context.cookies();
    const c = cookies.find((k) => k.name === 'spoorloos_session');
    check(c && c.httpOnly && c.sameSite === 'Strict', `cookie ${JSON.stringify(c)}`);
  });

  let firstView = 0;
  await step('the first view of 30 days draws every panel', async () => {
    const t0 = Date.now();
    await page.goto(base + '/');
    await panelsDrawn(page);
    firstView = Date.now() - t0;
    const v = await figure(page, 'visitors');
    check(v !== '0', `visitors ${v}`);
    check(await page.locator('#panel-pages tbody tr').count() > 0, 'no pages');
    const pageTabs = await page.locator('#panel-pages [role=tab]').allTextContents();
    check(!pageTabs.includes('Hostnames'), `a hostnames tab for a site of one hostname: ${pageTabs}`);
    check(await page.locator('#panel-locations tbody tr').count() > 0, 'no countries');
    check(await page.locator('#panel-locations svg.map path.has').count() >= 2, 'no countries on the map');
    await page.locator('#panel-locations [role=tab]', { hasText: 'Regions' }).click();
    await page.locator('#panel-locations tbody button.link', { hasText: 'England' }).click();
    await page.waitForURL(/f=is%7Cvisit%3Aregion_name%7CEngland/);
    await page.locator('.chip', { hasText: 'Regions is England' }).waitFor();
    await panelsDrawn(page);
    await page.click('.chip button.x');
    await page.waitForFunction(() => !document.querySelector('.chip'));
    await panelsDrawn(page);
    await page.locator('#panel-locations [role=tab]', { hasText: 'Countries' }).click();
    await page.locator('#panel-locations svg.map').waitFor();
  });

  await step('the period changes, with the URL', async () => {
    await page.selectOption('#period', '7d');
    await page.waitForURL(/period=7d/);
    await panelsDrawn(page);
    await page.keyboard.press('a');
    await page.waitForURL(/period=all/);
    await panelsDrawn(page);
    // The last 30 minutes, by minute: the seeded visits are in them.
    await page.keyboard.press('r');
    await page.waitForURL(/period=realtime/);
    await panelsDrawn(page);
    const live = await figure(page, 'visitors');
    check(live !== '0', `visitors in the last 30 minutes: ${live}`);
    const minutes = await page.locator('#graph circle.dot').count();
    check(minutes >= 30 && minutes <= 31, `${minutes} minutes on the live graph`);
  });

  await step('clicking a row filters the whole page; the chip removes it', async () => {
    const before = await figure(page, 'visitors');
    const row = page.locator('#panel-locations tbody button.link').first();
    const country = await row.textContent();
    await row.click();
    await page.waitForURL(/f=is%7Cvisit%3Acountry/);
    await page.locator('.chip').waitFor();
    await panelsDrawn(page);
    const after = await figure(page, 'visitors');
    check(after !== before, `filter by ${country} left visitors at ${after}`);
    await page.goBack();
    await page.waitForFunction(() => !document.querySelector('.chip'));
    await page.goForward();
    await page.locator('.chip').waitFor();
    await page.click('.chip button.x');
    await page.waitForFunction(() => !document.querySelector('.chip'));
    check(!page.url().includes('f='), page.url());
  });

  await step('a page filter keeps the top figures (views per visit left out)', async () => {
    const row = page.locator('#panel-pages tbody button.link').first();
    await row.click();
    await page.waitForURL(/f=is%7Cevent%3Apage/);
    await panelsDrawn(page);
    const visitors = await figure(page, 'visitors');
    check(/\d/.test(visitors), `visitors under a page filter: ${visitors}`);
    check((await figure(page, 'views_per_visit')).trim() === '—', 'views per visit under a page filter');
    check(await page.locator('#top .notice').count() === 0, 'a notice on the top figures');
    await page.click('.chip button.x');
    await page.waitForFunction(() => !document.querySelector('.chip'));
  });

  await step('the graph draws the comparison period behind', async () => {
    await page.keyboard.press('f');
    await page.waitForFunction(() => !location.search.includes('period='));
    await page.selectOption('#compare', 'previous_period');
    await page.waitForURL(/compare=previous_period/);
    await page.locator('#graph path.previous').waitFor({ state: 'attached', timeout: 15000 });
    const points = await page.locator('#graph circle.dot').count();
    check(points === 31, `${points} days on the 30-day graph`);
    await page.selectOption('#compare', 'custom');
    await page.fill('#cfrom', '2026-01-01');
    await page.fill('#cto', '2026-01-31');
    await page.locator('#cto + button').click();
    await page.waitForURL(/cfrom=2026-01-01/);
    await page.locator('#graph path.previous').waitFor({ state: 'attached', timeout: 15000 });
  });

  await step('details: search, then a CSV download with the rows shown', async () => {
    await page.click('#panel-pages button.details');
    const dialog = page.locator('dialog[open]');
    await dialog.locator('tbody tr').first().waitFor();
    await dialog.locator('input[type=search]').fill('pricing');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('dialog[open] tbody tr td:first-child')];
      return cells.length > 0 && cells.every((c) => c.textContent.includes('pricing'));
    }, null, { timeout: 10000 });
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.locator('#csv').click()]);
    const file = path.join(os.tmpdir(), `spoorloos-${process.pid}.csv`);
    await download.saveAs(file);
    const text = fs.readFileSync(file, 'utf8');
    fs.unlinkSync(file);
    const lines = text.trim().split(/\r?\n/);
    check(lines[0].startsWith('"Top pages","Unique visitors"'), `CSV header ${lines[0]}`);
    check(lines.length >= 2 && lines.slice(1).every((l) => l.includes('pricing')), `CSV rows ${text}`);
    await page.keyboard.press('Escape');
  });

  await step('details: pages of 50 rows, time on page and scroll depth, the folded rows explained, every row in the CSV', async () => {
    await page.click('#panel-pages button.details');
    const dialog = page.locator('dialog[open]');
    await dialog.locator('tbody tr').first().waitFor();
    const heads = await dialog.locator('thead th').allTextContents();
    check(heads.join('|') === 'Top pages|Unique visitors|Pageviews|Time on page|Scroll depth', `columns ${heads}`);
    const pricing = await dialog.locator('tbody tr', { has: page.locator('td:first-child', { hasText: /^\/pricing$/ }) }).locator('td').allTextContents();
    check(pricing[4] === '80%' && /\d+s/.test(pricing[3]), `pricing: ${pricing}`);
    check(await dialog.locator('tbody tr').count() === 50, 'a details page is not 50 rows');
    let folded = false;
    for (let n = 0; n < 3 && !folded; n++) {
      const labels = await dialog.locator('tbody tr td:first-child').allTextContents();
      folded = labels.includes('(other)');
      if (folded) check(await dialog.locator('p.hint').count() === 1, 'an (other) row without the note');
      else if (await dialog.locator('.pager button').last().isEnabled()) {
        const first = labels[0];
        await dialog.locator('.pager button').last().click();
        await page.waitForFunction((f) => document.querySelector('dialog[open] tbody td')?.textContent !== f, first);
      }
    }
    check(folded, 'no (other) row for the pages seen by one visitor');
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.locator('#csv').click()]);
    const file = path.join(os.tmpdir(), `spoorloos-all-${process.pid}.csv`);
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
    fs.unlinkSync(file);
    check(lines.length - 1 === 65, `${lines.length - 1} CSV rows, not the breakdown's 65`);
    check(lines.some((l) => l.startsWith('"/docs/59"')) && lines.some((l) => l.startsWith('"(other)"')), 'CSV rows missing');
    await page.keyboard.press('Escape');
  });

  await step('a source opens its referrers; a campaign named in markup shows as text', async () => {
    await page.goto(base + '/');
    await panelsDrawn(page);
    const tab = page.locator('#panel-sources [role=tab]').first();
    await tab.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.activeElement?.dataset.prop === 'visit:referrer'
      && document.activeElement.getAttribute('aria-selected') === 'true');
    await page.locator('#panel-sources [role=tab]', { hasText: 'Sources' }).click();
    await page.locator('#panel-sources tbody button.link', { hasText: 'Google' }).click();
    await page.waitForURL(/f=is%7Cvisit%3Asource/);
    await panelsDrawn(page);
    const selected = await page.getAttribute('#panel-sources [role=tab][aria-selected=true]', 'data-prop');
    check(selected === 'visit:referrer', `the sources panel under a source filter opens on ${selected}`);
    check(await page.locator('#panel-sources tbody tr').count() > 0, 'no referrers of Google');
    await page.click('.chip button.x');
    await page.waitForFunction(() => !document.querySelector('.chip'));
    await panelsDrawn(page);
    await page.locator('#panel-sources [role=tab]', { hasText: 'UTM campaign' }).click();
    const cell = page.locator('#panel-sources tbody button.link', { hasText: 'onerror' });
    await cell.waitFor();
    check((await cell.textContent()) === '<img src=x onerror=alert(1)>', `campaign ${await cell.textContent()}`);
    check(await page.locator('#panel-sources tbody img').count() === 0, 'a campaign name became markup');
  });

  await step('the filter editor: is not, contains, and a custom property', async () => {
    await page.locator('details.editor summary').click();
    const prop = page.locator('details.editor select').first();
    await page.waitForFunction(() => document.querySelector('details.editor option[value="event:props:plan"]'));
    await prop.selectOption('event:props:plan');
    await page.locator('details.editor select').nth(1).selectOption('is_not');
    await page.fill('details.editor input', 'pro');
    await page.locator('details.editor button[type=submit]').click();
    await page.waitForURL(/f=is_not%7Cevent%3Aprops%3Aplan%7Cpro/);
    await page.locator('.chip', { hasText: 'plan is not' }).waitFor();
    await page.locator('details.editor summary').click();
    await page.locator('details.editor select').first().selectOption('event:page');
    await page.locator('details.editor select').nth(1).selectOption('contains');
    await page.fill('details.editor input', 'docs');
    await page.locator('details.editor button[type=submit]').click();
    await page.waitForURL(/f=contains%7Cevent%3Apage%7Cdocs/);
    await panelsDrawn(page);
    const pages = await page.locator('#panel-pages tbody td.label').allTextContents();
    check(pages.length > 0 && pages.every((p) => p.includes('/docs/') || p === '(other)'), `pages containing docs: ${pages}`);
    await page.locator('.filters button.ghost', { hasText: 'Clear all' }).click();
    await page.waitForFunction(() => !document.querySelector('.chip'));
  });

  await step('keys for every period; the theme button cycles', async () => {
    await page.keyboard.press('t');
    await page.waitForURL(/period=28d/);
    await page.keyboard.press('p');
    await page.waitForURL(/period=lastmonth/);
    await page.keyboard.press('f');
    await page.waitForFunction(() => !location.search.includes('period='));
    const themes = [];
    for (let i = 0; i < 3; i++) {
      await page.click('#theme');
      themes.push(await page.evaluate(() => document.documentElement.dataset.theme));
    }
    check(themes.join() === 'light,dark,system', `themes ${themes}`);
  });

  await step('custom properties: the keys, a breakdown, a filter', async () => {
    await page.goto(base + '/');
    await panelsDrawn(page);
    await page.locator('#panel-goals [role=tab]', { hasText: 'Properties' }).click();
    await page.locator('#prop-key').waitFor();
    const keys = await page.locator('#prop-key option').allTextContents();
    check(keys.includes('plan'), `keys ${keys}`);
    await page.selectOption('#prop-key', 'plan');
    await page.locator('#panel-goals tbody button.link', { hasText: 'pro' }).click();
    await page.waitForURL(/event%3Aprops%3Aplan/);
    await page.locator('.chip', { hasText: 'plan' }).waitFor();
    await page.click('.chip button.x');
  });

  await step('what we store, and the data quality since start', async () => {
    await page.goto(base + '/');
    await page.locator('#privacy summary').click();
    const statement = await page.locator('#privacy .statement').textContent();
    check(/visitor code/i.test(statement) && /BLAKE3/.test(statement), `what we store: ${statement.slice(0, 200)}`);
    await page.locator('#quality summary').click();
    check(await page.locator('#quality tbody tr').count() >= 9, 'no data-quality rows');
    const bots = await page.locator('#quality-period tr').first().locator('td.num').textContent();
    check(bots === '1', `bots filtered in the period: ${bots}`);
  });

  await step('the all-sites overview', async () => {
    await page.selectOption('#site', '*');
    await page.waitForURL(/site=\*|site=%2A/);
    await page.waitForFunction(() => [...document.querySelectorAll('#overview tbody tr')]
      .every((tr) => tr.children[1].textContent !== '…' && tr.querySelector('svg')), null, { timeout: 15000 });
    check(await page.locator('#overview tbody tr').count() === 2, 'not two sites');
    await page.locator('#overview tbody button.link', { hasText: 'localhost' }).click();
    await page.locator('#top .figure').first().waitFor();
  });

  await step('the Dutch dashboard', async () => {
    await page.goto(base + '/?lang=nl');
    await panelsDrawn(page);
    check((await page.locator('#top .figure .label').first().textContent()) === 'Unieke bezoekers', 'no Dutch');
    check((await page.getAttribute('html', 'lang')) === 'nl', 'lang attribute');
  });

  await step('dark mode follows the system', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg === 'rgb(17, 20, 24)', `dark background ${bg}`);
    if (SHOTS) {
      await page.goto(base + '/?lang=nl');
      await panelsDrawn(page);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-dark-nl.png'), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await step('a phone-width layout without sideways scrolling', async () => {
    const phone = await browser.newContext({ locale: 'en-GB', userAgent: UA, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, storageState: await context.storageState() });
    const p = await phone.newPage();
    watch(p);
    await p.goto(base + '/');
    await panelsDrawn(p);
    const wide = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(wide <= 1, `${wide}px wider than the phone`);
    if (SHOTS) {
      await p.screenshot({ path: path.join(SHOTS, 'dashboard-phone-en.png'), fullPage: true });
      await p.emulateMedia({ colorScheme: 'dark' });
      await p.screenshot({ path: path.join(SHOTS, 'dashboard-phone-dark-en.png'), fullPage: true });
    }
    await phone.close();
  });

  if (SHOTS) {
    await page.goto(base + '/');
    await panelsDrawn(page);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-light-en.png'), fullPage: true });
  }

  await step('a new site shows the snippet and turns live on the first hit', async () => {
    await page.goto(`${base}/?site=${encodeURIComponent(emptySite)}`);
    await page.locator('#empty pre code').first().waitFor({ timeout: 15000 });
    const code = await page.locator('#empty pre code').first().textContent();
    check(code.includes('/s.js') && code.includes(emptySite), `snippet ${code}`);
    const r = await fetch(base + '/api/event', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': UA, 'X-Forwarded-For': '2.125.160.216' },
      body: JSON.stringify({ n: 'pageview', u: `https://${emptySite}/`, d: emptySite }),
    });
    check(r.status === 202, `event ${r.status}`);
    await page.waitForFunction(() => !document.querySelector('#empty'), null, { timeout: 20000 });
  });

  await step('a shared link opens one site read-only, and no other', async () => {
    const guest = await browser.newContext({ locale: 'en-GB', userAgent: UA });
    const g = await guest.newPage();
    watch(g);
    await g.goto(`${base}/share/${shareToken}`);
    await panelsDrawn(g);
    check(await g.locator('#signout').count() === 0, 'a shared view can sign out?');
    check(await g.locator('.badge').isVisible(), 'no read-only badge');
    const other = await g.evaluate(async (site) => {
      const r = await fetch('/dashboard/api/query', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Spoorloos-Share': document.body.dataset.share },
        body: JSON.stringify({ site_id: site, date_range: '30d', metrics: ['visitors'] }),
      });
      return r.status;
    }, emptySite);
    check(other === 403, `another site through the shared link: ${other}`);
    await g.goto(base + '/');
    check(new URL(g.url()).pathname === '/login', 'a shared link signed the guest in');
    const shared = await browser.newContext({ locale: 'en-GB', userAgent: UA, bypassCSP: true });
    await axe(shared, `${base}/share/${shareToken}`, 'shared link');
    await shared.close();
    const bad = await g.goto(`${base}/share/not-a-token`);
    check(bad.status() === 404, `bad token ${bad.status()}`);
    await guest.close();
  });

  await step('no serious or critical accessibility violation', async () => {
    const a11y = await browser.newContext({ locale: 'en-GB', userAgent: UA, bypassCSP: true, storageState: await context.storageState() });
    await axe(a11y, base + '/', 'dashboard en');
    await axe(a11y, base + '/?lang=nl', 'dashboard nl');
    await axe(a11y, base + '/login', 'sign-in');
    await axe(a11y, base + '/', 'details', async (p) => {
      await p.click('#panel-pages button.details');
      await p.locator('dialog[open] tbody tr').first().waitFor();
    });
    await axe(a11y, base + '/?site=*', 'all sites');
    await a11y.close();
    const dark = await browser.newContext({ locale: 'nl-NL', userAgent: UA, bypassCSP: true, colorScheme: 'dark', storageState: await context.storageState() });
    await axe(dark, base + '/', 'dashboard dark');
    await dark.close();
  });

  await step('no request to any host but the collector', async () => {
    check(foreign.length === 0, `foreign requests: ${foreign.join(', ')}`);
  });

  steps.push({ name: 'first view ms', ms: firstView });
} catch (e) {
  failed = `${steps.length + 1}: ${e.message}`;
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: !failed, failed, steps }));
process.exit(failed ? 1 : 0);
