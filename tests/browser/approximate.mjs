#!/usr/bin/env node
// The dashboard says when a panel's figures come from folded daily totals: a view
// of the last 12 months filtered by a source, on a collector whose days with events
// have passed the event retention (seeded by tests/it/dashboard.rs). Filtered by a
// page, the top figures show what those totals keep and say why the visit figures
// are missing; the graph marks where event-level data begins. Signs in through the setup link, in English, then in Dutch.
//
//   node tests/browser/approximate.mjs <collector-url> <setup-token>
//
// Prints one JSON line {"ok": bool, "failed": "..."} and exits 1 on failure.

import { chromium } from 'playwright-core';

const [base, setupToken] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VIEW = `${base}/?period=12mo&f=${encodeURIComponent('is|visit:source|Google')}`;
const NOTICE = {
  'en-GB': 'anonymous daily totals per combination',
  'nl-NL': 'anonieme dagtotalen per combinatie',
};
const PAGE_VIEW = `${base}/?period=12mo&f=${encodeURIComponent('is|event:page|/popular')}`;
const NO_VISIT_FIGURES = {
  'en-GB': 'without bounce rate, views per visit or visit duration per page or goal',
  'nl-NL': 'zonder bouncepercentage, weergaven per bezoek of bezoekduur per pagina of doel',
};

async function pagesNotice(context, locale, signIn) {
  const page = await context.newPage();
  await signIn(page);
  await page.goto(`${VIEW}&lang=${locale.slice(0, 2)}`);
  await page.locator('#panel-pages tbody tr').first().waitFor({ timeout: 20000 });
  const notice = page.locator('#panel-pages .notice');
  await notice.waitFor({ timeout: 20000 });
  const text = await notice.textContent();
  if (!text.includes(NOTICE[locale])) throw new Error(`${locale} notice: ${text}`);
  const rows = await page.locator('#panel-pages tbody tr').allTextContents();
  if (!rows.some((r) => r.includes('/popular'))) throw new Error(`${locale} rows: ${rows}`);
  // The graph marks where event-level data begins.
  await page.locator('#graph line.horizon').waitFor({ state: 'attached', timeout: 20000 });

  await page.goto(`${PAGE_VIEW}&lang=${locale.slice(0, 2)}`);
  const top = page.locator('#top .notice');
  await top.waitFor({ timeout: 20000 });
  const said = await top.textContent();
  if (!said.includes(NO_VISIT_FIGURES[locale])) throw new Error(`${locale} top notice: ${said}`);
  const visitors = await page.locator('#top .value[data-metric=visitors]').textContent();
  const bounce = await page.locator('#top .value[data-metric=bounce_rate]').textContent();
  if (visitors.trim() !== '6' || bounce.trim() !== '—') {
    throw new Error(`${locale} top figures: visitors ${visitors}, bounce rate ${bounce}`);
  }
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
let failed = null;
try {
  const en = await browser.newContext({ locale: 'en-GB' });
  await pagesNotice(en, 'en-GB', async (page) => {
    await page.goto(`${base}/setup?token=${setupToken}`);
    await page.fill('#name', 'marketing');
    await page.fill('#password', 'a long and good password');
    await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  });
  const nl = await browser.newContext({ locale: 'nl-NL' });
  await pagesNotice(nl, 'nl-NL', async (page) => {
    await page.goto(`${base}/login`);
    await page.fill('#name', 'marketing');
    await page.fill('#password', 'a long and good password');
    await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  });
} catch (e) {
  failed = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: failed === null, failed }));
process.exit(failed === null ? 0 : 1);
