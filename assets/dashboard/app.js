// Spoorloos dashboard. No dependencies, no inline code, no third-party request:
// it asks this collector's Stats API engine (through /dashboard/api/*, signed in or
// with a shared link's token) and draws what comes back. Every value from the API
// is set as text (textContent), never as markup.
(() => {
  'use strict';

  const boot = document.body.dataset;
  const SITES = JSON.parse(boot.sites || '[]');
  const SHARE = boot.share || '';
  const CSRF = boot.csrf || '';

  // ---- words -----------------------------------------------------------------
  const WORDS = {
    en: {
      visitors: 'Unique visitors', visits: 'Visits', pageviews: 'Pageviews',
      views_per_visit: 'Views per visit', bounce_rate: 'Bounce rate', visit_duration: 'Visit duration',
      events: 'Events', conversion_rate: 'Conversion rate', percentage: 'Share',
      time_on_page: 'Time on page', scroll_depth: 'Scroll depth',
      now: 'visitors now', nowOne: 'visitor now',
      period: 'Period', compare: 'Compare', compareOff: 'No comparison',
      previous_period: 'Previous period', year_over_year: 'Year before',
      realtime: 'Last 30 minutes', day: 'Today', yesterday: 'Yesterday', '7d': 'Last 7 days', '28d': 'Last 28 days',
      '30d': 'Last 30 days', month: 'This month', lastmonth: 'Last month', '6mo': 'Last 6 months',
      '12mo': 'Last 12 months', year: 'This year', all: 'All time', custom: 'Custom range',
      from: 'From', to: 'To', apply: 'Apply',
      site: 'Site', signOut: 'Sign out', theme: 'Theme', themeSystem: 'System', themeLight: 'Light',
      themeDark: 'Dark', language: 'Nederlands',
      pages: 'Pages', topPages: 'Top pages', entryPages: 'Entry pages', exitPages: 'Exit pages',
      hostnames: 'Hostnames',
      sources: 'Sources', channels: 'Channels', utmSource: 'UTM source', utmMedium: 'UTM medium',
      utmCampaign: 'UTM campaign', utmContent: 'UTM content', utmTerm: 'UTM term', referrers: 'Referrers',
      locations: 'Locations', countries: 'Countries', regions: 'Regions', cities: 'Cities',
      technology: 'Technology', devices: 'Devices', browsers: 'Browsers', browserVersions: 'Browser versions',
      os: 'Operating systems', osVersions: 'OS versions', screens: 'Screen sizes', connections: 'Connection types',
      goals: 'Goals', goal: 'Goal', noData: 'No data for this period.',
      properties: 'Properties', noProps: 'No event in this period has custom properties.',
      details: 'Details', close: 'Close', search: 'Search', csv: 'Download CSV', more: 'Next', less: 'Previous',
      filterBy: 'Filter by', removeFilter: 'Remove filter', addFilter: 'Add filter', is: 'is', is_not: 'is not',
      contains: 'contains', value: 'Value', property: 'Property', clearFilters: 'Clear all',
      graphOf: 'Graph of', interval: 'Interval', hour: 'Hours', dayI: 'Days', week: 'Weeks', monthI: 'Months',
      minute: 'Minutes', unfinished: 'unfinished', comparedWith: 'compared with', exactFrom: 'event-level data from here',
      folded: 'Rows with fewer visitors than the minimum crowd size are added up as “(other)”, so no row describes a handful of people.',
      dailyCodes: 'Unique visitors over several days are the sum of each day’s visitors: the daily visitor code is made anew every day, so the same person counts once per day.',
      horizon: 'Older days keep only anonymous daily totals: this overview cannot be combined with the filter there. Choose a shorter period, or remove the filter.',
      noVisitFigures: 'Older days keep only anonymous daily totals, without bounce rate, views per visit or visit duration per page or goal: for this period those figures are left out.',
      approximate: 'For older days this overview comes from anonymous daily totals per combination; combinations shared by only a few visitors are merged into “(other)” or left out, so figures can be slightly low.',
      failed: 'This panel could not be loaded',
      preparing: 'Spoorloos is still preparing the visits of earlier days (after an import or a longer stop), a few seconds a day. This panel loads by itself once they are ready.',
      retry: 'Retry',
      readOnly: 'Read-only view shared with you',
      emptyTitle: 'No visits yet',
      emptyText: 'Paste one of these into every page of your site. The numbers appear here as soon as the first visit arrives.',
      scriptSnippet: 'Script (recommended)', pixelSnippet: 'Pixel only (no JavaScript)',
      waiting: 'Waiting for the first visit…',
      change: 'change', none: '(none)', direct: 'Direct / None',
      whatWeStore: 'What we store', quality: 'Data quality',
      qualitySince: 'Every site on this collector, since it started on',
      qualityPeriod: 'Hits of this site not counted in this period (UTC days)', qualityAccepted: 'Hits accepted',
      qualityStored: 'Events stored', bot: 'Bots and crawlers (filtered)', unknown_site: 'Sites not configured here',
      spam_referrer: 'Referrer spam (filtered)', prefetch: 'Prefetches and prerenders (not a view)',
      privacy_signal: 'Privacy signals, under the drop policy', overload: 'Lost: collector overloaded',
      store_error: 'Lost: the store failed',
      allSites: 'All sites', trend: 'Trend',
      keyboard: 'Keys: r last 30 minutes, d today, e yesterday, w 7 days, t 28 days, f 30 days, m this month, p last month, s 6 months, l 12 months, y this year, a all time, u custom range, c compare',
    },
    nl: {
      visitors: 'Unieke bezoekers', visits: 'Bezoeken', pageviews: 'Paginaweergaven',
      views_per_visit: 'Weergaven per bezoek', bounce_rate: 'Bouncepercentage', visit_duration: 'Bezoekduur',
      events: 'Gebeurtenissen', conversion_rate: 'Conversiepercentage', percentage: 'Aandeel',
      time_on_page: 'Tijd op pagina', scroll_depth: 'Scrolldiepte',
      now: 'bezoekers nu', nowOne: 'bezoeker nu',
      period: 'Periode', compare: 'Vergelijken', compareOff: 'Niet vergelijken',
      previous_period: 'Vorige periode', year_over_year: 'Een jaar eerder',
      realtime: 'Afgelopen 30 minuten', day: 'Vandaag', yesterday: 'Gisteren', '7d': 'Afgelopen 7 dagen', '28d': 'Afgelopen 28 dagen',
      '30d': 'Afgelopen 30 dagen', month: 'Deze maand', lastmonth: 'Vorige maand', '6mo': 'Afgelopen 6 maanden',
      '12mo': 'Afgelopen 12 maanden', year: 'Dit jaar', all: 'Alles', custom: 'Zelf kiezen',
      from: 'Van', to: 'Tot en met', apply: 'Toepassen',
      site: 'Website', signOut: 'Uitloggen', theme: 'Weergave', themeSystem: 'Systeem', themeLight: 'Licht',
      themeDark: 'Donker', language: 'English',
      pages: 'Pagina’s', topPages: 'Toppagina’s', entryPages: 'Instappagina’s', exitPages: 'Uitstappagina’s',
      hostnames: 'Hostnamen',
      sources: 'Bronnen', channels: 'Kanalen', utmSource: 'UTM-bron', utmMedium: 'UTM-medium',
      utmCampaign: 'UTM-campagne', utmContent: 'UTM-inhoud', utmTerm: 'UTM-term', referrers: 'Verwijzers',
      locations: 'Locaties', countries: 'Landen', regions: 'Regio’s', cities: 'Steden',
      technology: 'Techniek', devices: 'Apparaten', browsers: 'Browsers', browserVersions: 'Browserversies',
      os: 'Besturingssystemen', osVersions: 'Versies van besturingssystemen', screens: 'Schermformaten',
      connections: 'Verbindingstypen',
      goals: 'Doelen', goal: 'Doel', noData: 'Geen gegevens voor deze periode.',
      properties: 'Eigenschappen', noProps: 'Geen gebeurtenis in deze periode heeft eigen eigenschappen.',
      details: 'Details', close: 'Sluiten', search: 'Zoeken', csv: 'CSV downloaden', more: 'Volgende', less: 'Vorige',
      filterBy: 'Filteren op', removeFilter: 'Filter verwijderen', addFilter: 'Filter toevoegen', is: 'is',
      is_not: 'is niet', contains: 'bevat', value: 'Waarde', property: 'Eigenschap', clearFilters: 'Alles wissen',
      graphOf: 'Grafiek van', interval: 'Interval', hour: 'Uren', dayI: 'Dagen', week: 'Weken', monthI: 'Maanden',
      minute: 'Minuten', unfinished: 'nog niet af', comparedWith: 'vergeleken met', exactFrom: 'vanaf hier gegevens per gebeurtenis',
      folded: 'Rijen met minder bezoekers dan de minimale groepsgrootte zijn samengenomen als ‘(other)’, zodat geen rij over een handvol mensen gaat.',
      dailyCodes: 'Unieke bezoekers over meerdere dagen zijn de som van de bezoekers per dag: de bezoekerscode wordt elke dag opnieuw gemaakt, dus dezelfde persoon telt één keer per dag.',
      horizon: 'Van oudere dagen zijn alleen anonieme dagtotalen bewaard: daar kan dit overzicht niet met het filter worden gecombineerd. Kies een kortere periode of verwijder het filter.',
      noVisitFigures: 'Van oudere dagen zijn alleen anonieme dagtotalen bewaard, zonder bouncepercentage, weergaven per bezoek of bezoekduur per pagina of doel: voor deze periode ontbreken die cijfers.',
      approximate: 'Voor oudere dagen komt dit overzicht uit anonieme dagtotalen per combinatie; combinaties van maar een paar bezoekers zijn samengenomen als ‘(other)’ of weggelaten, dus de cijfers kunnen iets te laag zijn.',
      failed: 'Dit onderdeel kon niet worden geladen',
      preparing: 'Spoorloos bereidt de bezoeken van eerdere dagen nog voor (na een import of een langere onderbreking), een paar seconden per dag. Dit onderdeel laadt vanzelf zodra ze klaar zijn.',
      retry: 'Opnieuw proberen',
      readOnly: 'Alleen lezen: deze weergave is met je gedeeld',
      emptyTitle: 'Nog geen bezoeken',
      emptyText: 'Plak een van deze fragmenten in elke pagina van je website. Zodra het eerste bezoek binnenkomt, verschijnen hier de cijfers.',
      scriptSnippet: 'Script (aanbevolen)', pixelSnippet: 'Alleen de pixel (zonder JavaScript)',
      waiting: 'Wachten op het eerste bezoek…',
      change: 'verandering', none: '(geen)', direct: 'Direct / geen',
      whatWeStore: 'Wat we bewaren', quality: 'Kwaliteit van de gegevens',
      qualitySince: 'Alle websites op deze collector, sinds de start op',
      qualityPeriod: 'Hits van deze website die in deze periode niet zijn meegeteld (dagen in UTC)', qualityAccepted: 'Hits ontvangen',
      qualityStored: 'Gebeurtenissen opgeslagen', bot: 'Bots en crawlers (weggefilterd)', unknown_site: 'Websites die hier niet zijn ingesteld',
      spam_referrer: 'Verwijzersspam (weggefilterd)', prefetch: 'Vooraf geladen pagina’s (geen weergave)',
      privacy_signal: 'Privacysignalen, bij het beleid ‘drop’', overload: 'Verloren: collector overbelast',
      store_error: 'Verloren: opslag mislukt',
      allSites: 'Alle websites', trend: 'Verloop',
      keyboard: 'Toetsen: r afgelopen 30 minuten, d vandaag, e gisteren, w 7 dagen, t 28 dagen, f 30 dagen, m deze maand, p vorige maand, s 6 maanden, l 12 maanden, y dit jaar, a alles, u zelf kiezen, c vergelijken',
    },
  };

  // ---- state in the URL ---------------------------------------------------------
  const PERIODS = ['realtime', 'day', 'yesterday', '7d', '28d', '30d', 'month', 'lastmonth', '6mo', '12mo', 'year', 'all', 'custom'];
  const KEYS = { r: 'realtime', d: 'day', e: 'yesterday', w: '7d', t: '28d', f: '30d', m: 'month', p: 'lastmonth',
    s: '6mo', l: '12mo', y: 'year', a: 'all', u: 'custom' };
  const OPS = ['is', 'is_not', 'contains'];

  function readState() {
    const p = new URLSearchParams(location.search);
    const site = SITES.some((s) => s.site === p.get('site')) || (p.get('site') === '*' && SITES.length > 1)
      ? p.get('site') : (SITES[0] || {}).site;
    const period = PERIODS.includes(p.get('period')) ? p.get('period') : '30d';
    const compare = ['previous_period', 'year_over_year', 'custom'].includes(p.get('compare')) ? p.get('compare') : '';
    const filters = p.getAll('f').map((f) => {
      const [op, prop, ...rest] = f.split('|');
      return { op, prop, value: rest.join('|') };
    }).filter((f) => OPS.includes(f.op) && (PROPS[f.prop] || ALSO[f.prop] || /^event:props:./.test(f.prop)));
    const metric = METRICS.includes(p.get('metric')) ? p.get('metric') : 'visitors';
    const every = ['hour', 'day', 'week', 'month'].includes(p.get('interval')) ? p.get('interval') : '';
    const lang = p.get('lang') === 'nl' || p.get('lang') === 'en' ? p.get('lang') : (boot.lang || 'en');
    const date = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : '');
    return { site, period, compare, filters, metric, lang, every, from: date(p.get('from')), to: date(p.get('to')),
      cfrom: date(p.get('cfrom')), cto: date(p.get('cto')) };
  }

  function writeState(s, replace) {
    const p = new URLSearchParams();
    if (SITES.length > 1 || s.site !== (SITES[0] || {}).site) p.set('site', s.site);
    if (s.period !== '30d') p.set('period', s.period);
    if (s.period === 'custom') { p.set('from', s.from); p.set('to', s.to); }
    if (s.compare) p.set('compare', s.compare);
    if (s.compare === 'custom' && s.cfrom && s.cto) { p.set('cfrom', s.cfrom); p.set('cto', s.cto); }
    if (s.metric !== 'visitors') p.set('metric', s.metric);
    if (s.every) p.set('interval', s.every);
    if (s.lang !== boot.lang) p.set('lang', s.lang);
    for (const f of s.filters) p.append('f', [f.op, f.prop, f.value].join('|'));
    const url = location.pathname + (p.toString() ? '?' + p : '');
    if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
  }

  const METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'];
  // What older days' daily totals give under a page or goal filter.
  const COUNTS = ['visitors', 'visits', 'pageviews'];
  // Every property the filter editor offers, with its label key.
  const PROPS = {
    'event:page': 'topPages', 'visit:entry_page': 'entryPages', 'visit:exit_page': 'exitPages',
    'event:hostname': 'hostnames', 'visit:source': 'sources', 'visit:channel': 'channels',
    'visit:referrer': 'referrers', 'visit:utm_source': 'utmSource', 'visit:utm_medium': 'utmMedium',
    'visit:utm_campaign': 'utmCampaign', 'visit:utm_content': 'utmContent', 'visit:utm_term': 'utmTerm',
    'visit:country': 'countries', 'visit:region_name': 'regions', 'visit:city': 'cities', 'visit:device': 'devices', 'visit:browser': 'browsers',
    'visit:browser_version': 'browserVersions', 'visit:os': 'os', 'visit:os_version': 'osVersions',
    'visit:screen': 'screens', 'visit:connection_type': 'connections', 'event:goal': 'goals',
  };
  if (boot.places !== '1') { delete PROPS['visit:region_name']; delete PROPS['visit:city']; }
  // Filters a link may hold that the editor does not offer (regions by code).
  const ALSO = { 'visit:region': 'regions' };
  const PANELS = [
    { id: 'sources', title: 'sources', tabs: [
      ['sources', 'visit:source'], ['referrers', 'visit:referrer'], ['channels', 'visit:channel'], ['utmSource', 'visit:utm_source'],
      ['utmMedium', 'visit:utm_medium'], ['utmCampaign', 'visit:utm_campaign'],
      ['utmContent', 'visit:utm_content'], ['utmTerm', 'visit:utm_term']] },
    { id: 'pages', title: 'pages', tabs: [
      ['topPages', 'event:page'], ['entryPages', 'visit:entry_page'], ['exitPages', 'visit:exit_page'],
      ['hostnames', 'event:hostname']] },
    { id: 'locations', title: 'locations', tabs: [['countries', 'visit:country']].concat(boot.places === '1'
      ? [['regions', 'visit:region_name'], ['cities', 'visit:city']] : []) },
    { id: 'technology', title: 'technology', tabs: [
      ['devices', 'visit:device'], ['browsers', 'visit:browser'], ['browserVersions', 'visit:browser_version'],
      ['os', 'visit:os'], ['osVersions', 'visit:os_version'], ['screens', 'visit:screen'],
      ['connections', 'visit:connection_type']] },
    { id: 'goals', title: 'goals', tabs: [['goals', 'event:goal'], ['properties', 'props']], metrics: ['visitors', 'events', 'conversion_rate'] },
  ];

  let state = readState();
  let words = WORDS[state.lang] || WORDS.en;
  const t = (k) => words[k] || k;
  const locale = () => (state.lang === 'nl' ? 'nl-NL' : 'en-GB');

  // ---- formatting ------------------------------------------------------------------
  function fmt(metric, v) {
    if (v === null || v === undefined) return '–';
    const n = Number(v);
    if (metric === 'bounce_rate' || metric === 'conversion_rate' || metric === 'percentage') {
      return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n) + '%';
    }
    if (metric === 'scroll_depth') return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n) + '%';
    if (metric === 'visit_duration' || metric === 'time_on_page') {
      const m = Math.floor(n / 60), s = Math.round(n % 60);
      return m ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
    }
    if (metric === 'views_per_visit') return new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(n);
    if (n >= 10000) return new Intl.NumberFormat(locale(), { notation: 'compact', maximumFractionDigits: 1 }).format(n);
    return new Intl.NumberFormat(locale()).format(n);
  }
  function fmtDate(iso, opts) {
    const d = new Date(iso.length === 10 ? iso + 'T00:00:00' : iso.replace(' ', 'T'));
    return isNaN(d) ? iso : new Intl.DateTimeFormat(locale(), opts).format(d);
  }

  // ---- DOM helpers -------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  // replaceChildren, skipping the parts a view leaves out.
  function put(box, ...children) { box.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)); }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children.flat()) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  // ---- the API -----------------------------------------------------------------------
  function headers() {
    const h = { 'Content-Type': 'application/json' };
    if (SHARE) h['X-Spoorloos-Share'] = SHARE; else h['X-Spoorloos-Csrf'] = CSRF;
    return h;
  }
  async function ask(body) {
    const r = await fetch('/dashboard/api/query', {
      method: 'POST', headers: headers(), body: JSON.stringify(body), credentials: 'same-origin',
    });
    const data = await r.json().catch(() => ({ error: 'HTTP ' + r.status }));
    if (r.status === 401 && !SHARE) { location.assign('/login'); }
    if (!r.ok) { const e = new Error(data.error || 'HTTP ' + r.status); e.status = r.status; e.code = data.code; throw e; }
    return data;
  }
  async function realtime(site) {
    const r = await fetch('/dashboard/api/v1/stats/realtime/visitors?site_id=' + encodeURIComponent(site),
      { headers: headers(), credentials: 'same-origin' });
    return r.ok ? r.json() : null;
  }

  // The chosen site's calendar day and hour now, on the collector's clock.
  function siteClock() {
    const site = SITES.find((s) => s.site === state.site) || {};
    try {
      const parts = new Intl.DateTimeFormat('en-CA', { timeZone: site.tz || 'UTC', year: 'numeric', month: '2-digit',
        day: '2-digit', hour: '2-digit', hourCycle: 'h23' }).formatToParts(serverNow());
      const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
      return { day: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour) };
    } catch (_) {
      return { day: site.today || serverNow().toISOString().slice(0, 10), hour: serverNow().getUTCHours() };
    }
  }
  function today() { return siteClock().day; }
  function shiftDay(iso, n) {
    const d = new Date(iso + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  }
  // The collector's clock now: as it was when the page loaded, plus the time since.
  const loaded = Date.now();
  function serverNow() {
    const boot0 = Date.parse(boot.now || '');
    return new Date((isNaN(boot0) ? loaded : boot0) + (Date.now() - loaded));
  }

  function dateRange() {
    const now = today();
    switch (state.period) {
      case 'realtime': {
        const end = serverNow();
        const start = new Date(end.getTime() - 30 * 60000 + 1000);
        const iso = (d) => d.toISOString().slice(0, 19) + 'Z';
        return [iso(start), iso(end)];
      }
      case 'yesterday': { const y = shiftDay(now, -1); return [y, y]; }
      case 'lastmonth': {
        const first = now.slice(0, 8) + '01';
        const last = shiftDay(first, -1);
        return [last.slice(0, 8) + '01', last];
      }
      case 'custom': return state.from && state.to ? [state.from, state.to] : '30d';
      default: return state.period;
    }
  }
  function filters() {
    return state.filters.map((f) => [f.op, f.prop, [f.value]]);
  }
  function interval() {
    const p = state.period;
    if (p === 'realtime') return 'time:minute';
    if (state.every) return 'time:' + state.every;
    if (p === 'day' || p === 'yesterday') return 'time:hour';
    if (p === '6mo' || p === '12mo' || p === 'year' || p === 'all') return 'time:month';
    if (p === 'custom' && state.from && state.to) {
      const days = (new Date(state.to) - new Date(state.from)) / 864e5;
      return days <= 1 ? 'time:hour' : days > 92 ? 'time:month' : 'time:day';
    }
    return 'time:day';
  }
  function base(extra) {
    return Object.assign({ site_id: state.site, date_range: dateRange(), filters: filters() }, extra);
  }

  // ---- rendering -------------------------------------------------------------------
  const app = document.getElementById('app');
  let generation = 0;

  function header() {
    const siteSel = el('select', { id: 'site', 'aria-label': t('site'), onchange: (e) => go({ site: e.target.value, filters: [] }) },
      [el('option', { value: '*', selected: state.site === '*' }, t('allSites'))]
        .concat(SITES.map((s) => el('option', { value: s.site, selected: s.site === state.site }, s.site))));
    const periodSel = el('select', { id: 'period', 'aria-label': t('period'), onchange: (e) => go({ period: e.target.value }) },
      PERIODS.map((p) => el('option', { value: p, selected: p === state.period }, t(p))));
    const compareSel = el('select', { id: 'compare', 'aria-label': t('compare'), onchange: (e) => go({ compare: e.target.value }) },
      [['', 'compareOff'], ['previous_period', 'previous_period'], ['year_over_year', 'year_over_year'], ['custom', 'custom']]
        .map(([v, k]) => el('option', { value: v, selected: v === state.compare }, t(k))));
    const custom = state.period === 'custom' && state.site !== '*' ? customRange() : null;
    const compareRange = state.compare === 'custom' && state.site !== '*' ? customRange(true) : null;
    const theme = el('button', { type: 'button', id: 'theme', class: 'ghost', onclick: cycleTheme }, themeLabel());
    const langBtn = el('button', { type: 'button', id: 'lang', class: 'ghost', lang: state.lang === 'nl' ? 'en' : 'nl', onclick: () => go({ lang: state.lang === 'nl' ? 'en' : 'nl' }) }, t('language'));
    const out = SHARE ? el('span', { class: 'badge' }, t('readOnly')) : el('form', { method: 'post', action: '/logout', class: 'inline' },
      el('input', { type: 'hidden', name: 'csrf', value: CSRF }),
      el('input', { type: 'hidden', name: 'lang', value: state.lang }),
      el('button', { type: 'submit', class: 'ghost', id: 'signout' }, t('signOut')));
    return el('header', { class: 'bar' },
      el('div', { class: 'brand' }, el('img', { src: '/dashboard/icon.svg', alt: '', width: 24, height: 24 }), 'Spoorloos'),
      SITES.length > 1 ? siteSel : el('strong', { class: 'site' }, state.site),
      el('span', { id: 'now', class: 'now', 'aria-live': 'polite' }),
      el('div', { class: 'controls' }, periodSel, custom, compareSel, compareRange, theme, langBtn, out));
  }

  // The custom period, or (`comparing`) the custom comparison period.
  function customRange(comparing) {
    const [f, tt] = comparing ? ['cfrom', 'cto'] : ['from', 'to'];
    const label = comparing ? `${t('compare')}: ` : '';
    const from = el('input', { type: 'date', id: f, value: state[f] || shiftDay(today(), comparing ? -13 : -6), max: today(), 'aria-label': label + t('from') });
    const to = el('input', { type: 'date', id: tt, value: state[tt] || shiftDay(today(), comparing ? -7 : 0), max: today(), 'aria-label': label + t('to') });
    return el('span', { class: 'custom' }, from, to,
      el('button', { type: 'button', onclick: () => { if (from.value && to.value && from.value <= to.value) go({ [f]: from.value, [tt]: to.value }); } }, t('apply')));
  }

  // `include.comparisons` for the chosen comparison, if any.
  function comparison() {
    // A live view compares with nothing: its half hour has no natural counterpart.
    if (state.period === 'realtime') return null;
    if (state.compare === 'custom') {
      return state.cfrom && state.cto ? { mode: 'custom', date_range: [state.cfrom, state.cto] } : null;
    }
    return state.compare ? { mode: state.compare } : null;
  }

  // A property's name as shown: a custom property by its key.
  function propLabel(prop) {
    return prop.startsWith('event:props:') ? prop.slice('event:props:'.length) : t(PROPS[prop] || ALSO[prop]);
  }

  function chips() {
    if (!state.filters.length) return null;
    return el('div', { class: 'chips', role: 'list' },
      state.filters.map((f, i) => el('span', { class: 'chip', role: 'listitem' },
        `${propLabel(f.prop)} ${t(f.op)} `, el('strong', {}, shown(f.prop, f.value)),
        el('button', { type: 'button', class: 'x', 'aria-label': `${t('removeFilter')}: ${propLabel(f.prop)} ${f.value}`,
          onclick: () => go({ filters: state.filters.filter((_, j) => j !== i) }) }, '×'))),
      state.filters.length > 1 ? el('button', { type: 'button', class: 'ghost', onclick: () => go({ filters: [] }) }, t('clearFilters')) : null);
  }

  function filterEditor() {
    const prop = el('select', { 'aria-label': t('property') }, Object.entries(PROPS).map(([p, k]) => el('option', { value: p }, t(k))));
    // The period's custom property keys join the list once the editor opens.
    let keys = null;
    const opened = async () => {
      if (keys) return;
      keys = [];
      const r = await fetch(`/dashboard/api/v1/stats/props?site_id=${encodeURIComponent(state.site)}&${v1Period()}`,
        { headers: headers(), credentials: 'same-origin' }).catch(() => null);
      keys = r && r.ok ? (await r.json()).results : [];
      if (keys.length) prop.append(el('optgroup', { label: t('properties') }, keys.map((k) => el('option', { value: 'event:props:' + k }, k))));
    };
    const op = el('select', { 'aria-label': t('filterBy') }, OPS.map((o) => el('option', { value: o }, t(o))));
    const value = el('input', { type: 'text', placeholder: t('value'), 'aria-label': t('value'), maxlength: 500 });
    return el('details', { class: 'editor', ontoggle: (e) => { if (e.target.open) opened(); } }, el('summary', {}, t('addFilter')),
      el('form', { class: 'inline', onsubmit: (e) => {
        e.preventDefault();
        if (value.value.trim()) go({ filters: state.filters.concat([{ op: op.value, prop: prop.value, value: value.value.trim() }]) });
      } }, prop, op, value, el('button', { type: 'submit' }, t('apply'))));
  }

  function go(change, replace) {
    const next = Object.assign({}, state, change);
    if (change.period && change.period !== 'custom') { next.from = ''; next.to = ''; }
    if (change.period) next.every = '';
    state = next;
    words = WORDS[state.lang] || WORDS.en;
    writeState(state, replace);
    render();
  }

  function render() {
    generation += 1;
    const gen = generation;
    document.documentElement.lang = state.lang;
    if (state.site === '*') { overview(gen); return; }
    document.title = `${state.site} · Spoorloos`;
    app.replaceChildren(
      header(),
      el('div', { class: 'filters' }, chips(), filterEditor()),
      el('section', { id: 'top', class: 'card top', 'aria-label': t('visitors') }),
      el('section', { id: 'graph', class: 'card graph' }),
      el('div', { class: 'grid' }, PANELS.map((p) => el('section', { id: 'panel-' + p.id, class: 'card panel' }))),
      el('section', { id: 'about', class: 'card about' }),
      el('p', { class: 'hint' }, t('dailyCodes')),
      el('p', { class: 'hint' }, t('keyboard')));
    loadAbout(gen);
    loadTop(gen);
    loadGraph(gen);
    // A live view asks again every half minute.
    if (state.period === 'realtime') setTimeout(() => { if (gen === generation) render(); }, 30000);
    PANELS.forEach((p) => loadPanel(withHostnames(p), firstTab(p), gen));
    checkHostnames(gen);
    tickNow(gen);
  }

  // Hostnames get a tab where a site has several: asked once per site and page.
  const hostnames = new Map();
  function withHostnames(panel) {
    if (panel.id !== 'pages' || hostnames.get(state.site) === true) return panel;
    return Object.assign({}, panel, { tabs: panel.tabs.filter((tb) => tb[1] !== 'event:hostname') });
  }
  function checkHostnames(gen) {
    const site = state.site;
    if (hostnames.has(site)) return;
    hostnames.set(site, false);
    ask({ site_id: site, date_range: 'all', metrics: ['visitors'], dimensions: ['event:hostname'], pagination: { limit: 2 } })
      .then((d) => {
        if (d.results.length < 2) return;
        hostnames.set(site, true);
        const pages = PANELS.find((p) => p.id === 'pages');
        if (gen === generation) loadPanel(pages, pages.tabs[0], gen);
      })
      .catch(() => hostnames.delete(site));
  }

  // A panel opens on its first tab; under a filter on one source, the sources panel
  // opens on that source's referrers.
  function firstTab(panel) {
    const bySource = state.filters.some((f) => f.prop === 'visit:source' && f.op === 'is');
    return (bySource && panel.tabs.find((tb) => tb[1] === 'visit:referrer')) || panel.tabs[0];
  }

  function failure(box, err, again) {
    const text = err.code === 'past_event_retention' ? t('horizon')
      : err.code === 'preparing' ? t('preparing') : `${t('failed')}: ${err.message}`;
    put(box, el('p', { class: 'notice', role: 'status' }, text),
      again ? el('button', { type: 'button', class: 'ghost', onclick: again }, t('retry')) : null);
    // The collector stores a day's visits in seconds: ask again while the view stands.
    if (err.code === 'preparing' && again) {
      const gen = generation;
      setTimeout(() => { if (gen === generation && box.isConnected) again(); }, 10000);
    }
  }

  async function loadTop(gen) {
    const box = document.getElementById('top');
    box.setAttribute('aria-busy', 'true');
    try {
      // Views per visit count a visit's other pages too: not asked under a page filter.
      let metrics = state.filters.some((f) => f.prop === 'event:page')
        ? METRICS.filter((m) => m !== 'views_per_visit') : METRICS;
      const body = base({ metrics });
      if (comparison()) body.include = { comparisons: comparison() };
      let data;
      try {
        data = await ask(body);
      } catch (err) {
        // Past the event retention, visit figures are not kept per page or goal.
        if (err.code !== 'past_event_retention' || metrics === COUNTS) throw err;
        metrics = COUNTS;
        data = await ask({ ...body, metrics });
      }
      if (gen !== generation) return;
      const row = data.results[0] || { metrics: metrics.map(() => 0) };
      box.replaceChildren(...METRICS.map((m) => {
        const i = metrics.indexOf(m);
        const v = i < 0 ? null : row.metrics[i];
        const change = i >= 0 && row.comparison ? row.comparison.change[i] : null;
        const good = m === 'bounce_rate' ? change < 0 : change > 0;
        return el('button', { type: 'button', class: 'figure' + (state.metric === m ? ' active' : ''), 'aria-pressed': state.metric === m ? 'true' : 'false',
          onclick: () => go({ metric: m }) },
          el('span', { class: 'label' }, t(m)),
          el('span', { class: 'value', 'data-metric': m }, v === null ? '—' : fmt(m, v)),
          change === null || change === undefined ? null
            : el('span', { class: 'change ' + (change === 0 ? '' : good ? 'up' : 'down'), title: t('change') },
              (change > 0 ? '↑ ' : change < 0 ? '↓ ' : '') + Math.abs(change) + (m === 'bounce_rate' ? ' pp' : '%')));
      }));
      if (metrics === COUNTS) box.append(el('p', { class: 'notice' }, t('noVisitFigures')));
      if (data.meta && data.meta.comparison_unavailable) box.append(el('p', { class: 'notice' }, t('horizon')));
      if (row.metrics[0] === 0 && !state.filters.length && state.period === '30d') emptyState(gen);
    } catch (err) {
      if (gen === generation) failure(box, err, () => loadTop(gen));
    } finally { box.removeAttribute('aria-busy'); }
  }

  async function emptyState(gen) {
    try {
      const all = await ask({ site_id: state.site, date_range: 'all', metrics: ['visitors'] });
      if (gen !== generation || (all.results[0] && all.results[0].metrics[0] > 0)) return;
    } catch (_) { return; }
    const origin = location.origin;
    const script = `<script defer src="${origin}/s.js" data-domain="${state.site}"></script>`;
    const pixel = `<img src="${origin}/p.gif?d=${encodeURIComponent(state.site)}" referrerpolicy="no-referrer-when-downgrade" alt="" width="1" height="1">`;
    const box = el('section', { id: 'empty', class: 'card empty' },
      el('h2', {}, t('emptyTitle')), el('p', {}, t('emptyText')),
      el('h3', {}, t('scriptSnippet')), el('pre', {}, el('code', {}, script)),
      el('h3', {}, t('pixelSnippet')), el('pre', {}, el('code', {}, pixel)),
      el('p', { class: 'waiting', role: 'status' }, t('waiting')));
    document.getElementById('top').before(box);
    const poll = async () => {
      if (gen !== generation) return;
      const now = await realtime(state.site).catch(() => null);
      if (now > 0) { render(); return; }
      setTimeout(poll, 3000);
    };
    setTimeout(poll, 3000);
  }

  async function tickNow(gen) {
    const box = document.getElementById('now');
    if (!box || gen !== generation) return;
    const n = await realtime(state.site).catch(() => null);
    if (gen !== generation) return;
    if (n !== null) box.textContent = `● ${fmt('visitors', n)} ${n === 1 ? t('nowOne') : t('now')}`;
    setTimeout(() => tickNow(gen), 30000);
  }

  async function loadGraph(gen) {
    const box = document.getElementById('graph');
    const dim = interval();
    const m = state.metric;
    const body = base({ metrics: [m], dimensions: [dim], include: { time_labels: true } });
    if (comparison()) body.include.comparisons = comparison();
    try {
      const data = await ask(body);
      if (gen !== generation) return;
      const labels = (data.meta && data.meta.time_labels) || data.results.map((r) => r.dimensions[0]);
      const byLabel = new Map(data.results.map((r) => [r.dimensions[0], r]));
      const main = labels.map((l) => Number((byLabel.get(l) || { metrics: [0] }).metrics[0]) || 0);
      const prev = comparison() ? labels.map((l) => {
        const r = byLabel.get(l);
        return r && r.comparison ? Number(r.comparison.metrics[0]) || 0 : 0;
      }) : null;
      put(box, el('div', { class: 'graph-head' }, el('h2', {}, `${t('graphOf')} ${t(m).toLowerCase()}`), intervalPicker()),
        chart(labels, main, prev, m, dim));
      if (data.meta && data.meta.comparison_unavailable) box.append(el('p', { class: 'notice' }, t('horizon')));
    } catch (err) {
      if (gen === generation) failure(box, err, () => loadGraph(gen));
    }
  }

  function intervalPicker() {
    if (state.period === 'realtime') return null;
    const now = interval().slice(5);
    return el('select', { id: 'interval', 'aria-label': t('interval'), onchange: (e) => go({ every: e.target.value }) },
      [['hour', 'hour'], ['day', 'dayI'], ['week', 'week'], ['month', 'monthI']]
        .map(([v, k]) => el('option', { value: v, selected: v === now }, t(k))));
  }

  function chart(labels, values, previous, metric, dim) {
    const W = 900, H = 260, L = 48, B = 28, T = 12, R = 12;
    const max = Math.max(1, ...values, ...(previous || []));
    const nice = niceMax(max);
    const x = (i) => L + (labels.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / nice);
    const path = (vs) => vs.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': `${t('graphOf')} ${t(metric)}` });
    for (let k = 0; k <= 4; k++) {
      const v = (nice * k) / 4;
      g.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
        svg('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(metric, v)));
    }
    const step = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((l, i) => {
      if (i % step) return;
      g.append(svg('text', { x: x(i), y: H - 8, class: 'axis', 'text-anchor': 'middle' }, axisLabel(l, dim)));
    });
    if (previous) g.append(svg('path', { d: path(previous), class: 'line previous' }));
    // Where exact event-level data begins: before it, only anonymous daily totals.
    const horizon = boot.eventsFrom || '';
    const cut = labels.findIndex((l) => l.slice(0, 10) >= horizon);
    if (horizon && cut > 0) {
      g.append(svg('line', { x1: x(cut), x2: x(cut), y1: T, y2: H - B, class: 'horizon' }),
        svg('text', { x: x(cut) + 4, y: T + 12, class: 'axis horizon-label' }, t('exactFrom')));
    }
    // Today's bucket is not over yet: its segment is dashed.
    const open = labels.length > 1 && openBucket(labels[labels.length - 1], dim);
    const done = open ? values.slice(0, -1) : values;
    if (done.length) {
      g.append(svg('path', { d: path(done) + `L${x(done.length - 1)},${y(0)}L${x(0)},${y(0)}Z`, class: 'area' }));
      g.append(svg('path', { d: path(done), class: 'line' }));
    }
    if (open) {
      const i = values.length - 1;
      g.append(svg('path', { d: `M${x(i - 1)},${y(values[i - 1])}L${x(i)},${y(values[i])}`, class: 'line open' },
        svg('title', {}, t('unfinished'))));
    }
    values.forEach((v, i) => {
      const tip = `${axisLabel(labels[i], dim, true)}: ${fmt(metric, v)}` +
        (previous ? ` (${t('comparedWith')} ${fmt(metric, previous[i])})` : '');
      g.append(svg('circle', { cx: x(i), cy: y(v), r: labels.length > 60 ? 1.5 : 3, class: 'dot' }, svg('title', {}, tip)));
    });
    return g;
  }
  function niceMax(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function axisLabel(label, dim, long) {
    if (dim === 'time:minute') return label.slice(11, 16);
    if (dim === 'time:hour' && label.slice(11, 16) !== '00:00') return label.slice(11, 16) || label;
    if (dim === 'time:hour') return fmtDate(label.slice(0, 10), { day: 'numeric', month: 'short' });
    if (dim === 'time:month') return fmtDate(label.slice(0, 10), { month: long ? 'long' : 'short', year: 'numeric' });
    if (dim === 'time:hour') return label.slice(11, 16);
    return fmtDate(label.slice(0, 10), long ? { weekday: 'short', day: 'numeric', month: 'long' } : { day: 'numeric', month: 'short' });
  }
  // Whether the graph's last bucket is still filling: it holds the site's now.
  function openBucket(label, dim) {
    const { day, hour } = siteClock();
    const start = label.slice(0, 10);
    if (dim === 'time:minute') return true;
    if (dim === 'time:hour') return start === day && Number(label.slice(11, 13)) === hour;
    if (dim === 'time:week') return start <= day && day <= shiftDay(start, 6);
    if (dim === 'time:month') return label.slice(0, 7) === day.slice(0, 7);
    return start === day;
  }

  async function loadPanel(panel, tab, gen) {
    const box = document.getElementById('panel-' + panel.id);
    if (tab[1] === 'props') return loadProps(panel, tab, gen, box);
    const [labelKey, prop] = tab;
    const metrics = panel.metrics || ['visitors'];
    const tabs = panel.tabs.length > 1 ? tabsOf(panel, tab, gen) : null;
    put(box, el('h2', {}, t(panel.title)), tabs, el('p', { class: 'loading' }, '…'));
    try {
      // Countries: all of them, for the map; the table shows the first ten.
      const mapped = prop === 'visit:country';
      const data = await ask(base({ metrics: metrics.concat(['percentage'].filter(() => !panel.metrics)), dimensions: [prop], pagination: { limit: mapped ? 300 : 10 } }));
      if (gen !== generation) return;
      const map = mapped ? await worldMap(data.results).catch(() => null) : null;
      if (gen !== generation) return;
      put(box, el('h2', {}, t(panel.title)), tabs, map,
        rows(data.results.slice(0, 10), prop, metrics, labelKey),
        data.meta && data.meta.approximate ? el('p', { class: 'notice' }, t('approximate')) : null,
        el('button', { type: 'button', class: 'ghost details', onclick: () => details(prop, metrics, labelKey) }, t('details')));
    } catch (err) {
      if (gen === generation) {
        put(box, el('h2', {}, t(panel.title)), tabs);
        const msg = el('div');
        box.append(msg);
        failure(msg, err, () => loadPanel(panel, tab, gen));
      }
    }
  }

  // The period as the v1 endpoints take it (a live view asks for today).
  function v1Period() {
    const range = dateRange();
    return state.period === 'realtime' ? 'period=day'
      : Array.isArray(range) ? `period=custom&date=${range[0]},${range[1]}` : `period=${range}`;
  }

  // A panel's tabs: one is tabbed to, the arrow keys move between them.
  function tabsOf(panel, tab, gen) {
    const list = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t(panel.title) }, panel.tabs.map((tb) =>
      el('button', { type: 'button', role: 'tab', 'aria-selected': tb === tab ? 'true' : 'false',
        tabindex: tb === tab ? '0' : '-1', 'data-prop': tb[1], onclick: () => loadPanel(panel, tb, gen) }, t(tb[0]))));
    list.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const i = (panel.tabs.indexOf(tab) + step + panel.tabs.length) % panel.tabs.length;
      e.preventDefault();
      loadPanel(panel, panel.tabs[i], gen).then(() => {
        const next = document.querySelector(`#panel-${panel.id} [role=tab][aria-selected=true]`);
        if (next) next.focus();
      });
    });
    return list;
  }

  // Custom properties: the keys the period's events carry, then a breakdown by one.
  async function loadProps(panel, tab, gen, box, chosen) {
    const tabs = tabsOf(panel, tab, gen);
    put(box, el('h2', {}, t(panel.title)), tabs, el('p', { class: 'loading' }, '…'));
    try {
      const r = await fetch(`/dashboard/api/v1/stats/props?site_id=${encodeURIComponent(state.site)}&${v1Period()}`,
        { headers: headers(), credentials: 'same-origin' });
      const keys = r.ok ? (await r.json()).results : [];
      if (gen !== generation) return;
      if (!keys.length) { put(box, el('h2', {}, t(panel.title)), tabs, el('p', { class: 'empty-note' }, t('noProps'))); return; }
      const key = keys.includes(chosen) ? chosen : keys[0];
      const prop = 'event:props:' + key;
      const picker = el('select', { id: 'prop-key', 'aria-label': t('property'), onchange: (e) => loadProps(panel, tab, gen, box, e.target.value) },
        keys.map((k) => el('option', { value: k, selected: k === key }, k)));
      const data = await ask(base({ metrics: ['visitors', 'events'], dimensions: [prop], pagination: { limit: 10 } }));
      if (gen !== generation) return;
      put(box, el('h2', {}, t(panel.title)), tabs, picker, rows(data.results, prop, ['visitors', 'events'], 'properties'),
        el('button', { type: 'button', class: 'ghost details', onclick: () => details(prop, ['visitors', 'events'], 'properties') }, t('details')));
    } catch (err) {
      if (gen === generation) { const msg = el('div'); put(box, el('h2', {}, t(panel.title)), tabs, msg); failure(msg, err, () => loadProps(panel, tab, gen, box, chosen)); }
    }
  }

  function rows(results, prop, metrics, labelKey) {
    if (!results.length) return el('p', { class: 'empty-note' }, t('noData'));
    const top = Math.max(1, ...results.map((r) => Number(r.metrics[0]) || 0));
    const folded = results.some((r) => r.dimensions[0] === '(other)');
    return el('div', {},
      el('table', { class: 'rows' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t(labelKey)),
          metrics.map((m) => el('th', { scope: 'col', class: 'num' }, t(m))))),
        el('tbody', {}, results.map((r) => {
          const label = r.dimensions[0];
          const bar = el('span', { class: 'bar' });
          bar.style.width = `${(100 * (Number(r.metrics[0]) || 0)) / top}%`;
          return el('tr', {},
            el('td', { class: 'label' }, bar,
              label === '(other)' ? el('span', { class: 'plain', title: t('folded') }, label)
                : el('button', { type: 'button', class: 'link', title: `${t('filterBy')} ${shown(prop, label)}`,
                  onclick: () => addFilter(prop, label) }, shown(prop, label))),
            metrics.map((m, i) => el('td', { class: 'num' }, fmt(m, r.metrics[i]))));
        }))),
      folded ? el('p', { class: 'hint' }, t('folded')) : null);
  }

  // ---- the world map --------------------------------------------------------------
  let world = null;
  function worldMap(results) {
    world = world || fetch('/dashboard/world.json', { credentials: 'same-origin' }).then((r) => r.json());
    return world.then((w) => {
      const by = new Map(results.map((r) => [r.dimensions[0], Number(r.metrics[0]) || 0]));
      const max = Math.max(1, ...by.values());
      const g = svg('svg', { viewBox: `0 0 ${w.width} ${w.height}`, class: 'map', role: 'img', 'aria-label': t('countries') });
      for (const [code, d] of Object.entries(w.countries)) {
        const n = by.get(code) || 0;
        const p = svg('path', { d, class: n ? 'land has' : 'land' });
        if (n) {
          // Square root: a few big countries would otherwise wash out the rest.
          p.setAttribute('fill-opacity', (0.2 + 0.8 * Math.sqrt(n / max)).toFixed(2));
          p.append(svg('title', {}, `${shown('visit:country', code)}: ${fmt('visitors', n)}`));
          p.addEventListener('click', () => addFilter('visit:country', code));
        }
        g.append(p);
      }
      return g;
    });
  }

  // A value as people read it: country codes become names in the page's language.
  function shown(prop, value) {
    if (prop === 'visit:country' && /^[A-Z]{2}$/.test(value)) {
      try { return new Intl.DisplayNames([locale()], { type: 'region' }).of(value) || value; } catch (_) { return value; }
    }
    if (value === '(none)') return t('none');
    if (value === 'Direct / None') return t('direct');
    return value;
  }

  function addFilter(prop, value) {
    const rest = state.filters.filter((f) => f.prop !== prop);
    go({ filters: rest.concat([{ op: 'is', prop, value }]) });
  }

  // ---- what we store, data quality ------------------------------------------------------
  // The privacy statement is Markdown from the collector: headings, lists and
  // paragraphs are drawn as elements, every piece of text as text.
  function markdown(text) {
    const out = [];
    let list = null, para = [];
    const flush = () => { if (para.length) { out.push(el('p', {}, para.join(' '))); para = []; } };
    const clean = (l) => l.replace(/\*\*|`/g, '');
    for (const line of text.split('\n')) {
      const h = /^(#{1,6})\s+(.*)$/.exec(line);
      const li = /^\s*[-*]\s+(.*)$/.exec(line);
      if (h) { flush(); list = null; out.push(el('h3', {}, clean(h[2]))); }
      else if (li) { flush(); if (!list) { list = el('ul'); out.push(list); } list.append(el('li', {}, clean(li[1]))); }
      else if (!line.trim()) { flush(); list = null; }
      else { list = null; para.push(clean(line.trim())); }
    }
    flush();
    return out;
  }

  async function loadAbout(gen) {
    const box = document.getElementById('about');
    try {
      const r = await fetch('/dashboard/api/about?lang=' + state.lang, { headers: headers(), credentials: 'same-origin' });
      if (!r.ok) throw Object.assign(new Error('HTTP ' + r.status), { status: r.status });
      const about = await r.json();
      const qr = await fetch(`/dashboard/api/v1/stats/quality?site_id=${encodeURIComponent(state.site)}&${v1Period()}`,
        { headers: headers(), credentials: 'same-origin' });
      const period = qr.ok ? (await qr.json()).results : {};
      if (gen !== generation) return;
      const parts = [el('details', { id: 'privacy' }, el('summary', {}, t('whatWeStore')), el('div', { class: 'statement' }, markdown(about.privacy || '')))];
      const row = (k, v) => el('tr', {}, el('td', {}, t(k)), el('td', { class: 'num' }, fmt('events', v)));
      const REASONS = ['bot', 'spam_referrer', 'prefetch', 'privacy_signal', 'overload', 'store_error'];
      const quality = [el('summary', {}, t('quality')),
        el('h3', {}, t('qualityPeriod')),
        el('table', { class: 'rows', id: 'quality-period' }, el('tbody', {}, REASONS.map((k) => row(k, period[k] || 0))))];
      const q = about.quality;
      if (q) {
        quality.push(el('h3', {}, `${t('qualitySince')} ${fmtDate(q.since, { dateStyle: 'long', timeStyle: 'short' })}`),
          el('table', { class: 'rows' }, el('tbody', {}, row('qualityAccepted', q.accepted), row('qualityStored', q.stored),
            Object.entries(q.dropped).map(([k, v]) => row(k, v)))));
      }
      parts.push(el('details', { id: 'quality' }, quality));
      put(box, parts);
    } catch (err) { if (gen === generation) failure(box, err); }
  }

  // ---- all sites ------------------------------------------------------------------------
  async function overview(gen) {
    const table = el('tbody');
    app.replaceChildren(header(), el('section', { class: 'card', id: 'overview' }, el('h2', {}, t('allSites')),
      el('table', { class: 'rows' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('site')),
        el('th', { scope: 'col', class: 'num' }, t('visitors')), el('th', { scope: 'col', class: 'num' }, t('pageviews')),
        el('th', { scope: 'col', class: 'num' }, t('change')), el('th', { scope: 'col' }, t('trend')))), table)),
      el('p', { class: 'hint' }, t('dailyCodes')));
    document.title = `${t('allSites')} · Spoorloos`;
    const range = dateRange();
    for (const s of SITES) {
      const tr = el('tr', {}, el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => go({ site: s.site, filters: [] }) }, s.site)),
        el('td', { class: 'num' }, '…'), el('td', { class: 'num' }), el('td', { class: 'num' }), el('td'));
      table.append(tr);
      Promise.all([
        ask({ site_id: s.site, date_range: range, metrics: ['visitors', 'pageviews'], include: { comparisons: { mode: 'previous_period' } } }),
        ask({ site_id: s.site, date_range: range, metrics: ['visitors'], dimensions: [interval()], include: { time_labels: true } }),
      ]).then(([top, series]) => {
        if (gen !== generation) return;
        const row = top.results[0] || { metrics: [0, 0] };
        const change = row.comparison ? row.comparison.change[0] : null;
        tr.children[1].textContent = fmt('visitors', row.metrics[0]);
        tr.children[2].textContent = fmt('pageviews', row.metrics[1]);
        tr.children[3].textContent = change === null || change === undefined ? '–' : `${change > 0 ? '↑' : change < 0 ? '↓' : ''} ${Math.abs(change)}%`;
        const labels = series.meta.time_labels || [];
        const by = new Map(series.results.map((r) => [r.dimensions[0], Number(r.metrics[0]) || 0]));
        tr.children[4].append(sparkline(labels.map((l) => by.get(l) || 0)));
      }).catch((err) => { if (gen === generation) tr.children[1].textContent = err.message; });
    }
  }

  function sparkline(values) {
    const W = 120, H = 28, max = Math.max(1, ...values);
    const d = values.map((v, i) => `${i ? 'L' : 'M'}${((i * W) / Math.max(1, values.length - 1)).toFixed(1)},${(H - 2 - ((H - 4) * v) / max).toFixed(1)}`).join('');
    return svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'spark', 'aria-hidden': 'true' }, svg('path', { d, class: 'line' }));
  }

  // ---- details: search, sort, pages, CSV ---------------------------------------------
  function details(prop, metrics, labelKey) {
    const all = prop === 'event:page' ? ['visitors', 'pageviews', 'time_on_page', 'scroll_depth']
      : prop === 'event:goal' ? metrics : ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'];
    let order = [all[0], 'desc'], page = 0, search = '';
    const PAGE = 50;
    const dialog = el('dialog', { class: 'details-dialog', 'aria-label': t(labelKey) });
    const body = el('div', { class: 'details-body' });
    const input = el('input', { type: 'search', placeholder: t('search'), 'aria-label': t('search') });
    let timer = null;
    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { search = input.value.trim(); page = 0; load(); }, 250); });
    const csv = el('button', { type: 'button', id: 'csv', onclick: async () => {
      csv.disabled = true;
      try { download(prop, all, await everyRow(prop, all, order, search), labelKey); } catch (err) { failure(body, err); } finally { csv.disabled = false; }
    } }, t('csv'));
    dialog.append(el('div', { class: 'details-head' }, el('h2', {}, t(labelKey)), input, csv,
      el('button', { type: 'button', class: 'ghost', onclick: () => dialog.close() }, t('close'))), body);
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    async function load() {
      const f = filters();
      if (search) f.push(['contains', prop, [search]]);
      try {
        const data = await ask({ site_id: state.site, date_range: dateRange(), filters: f, metrics: all,
          dimensions: [prop], order_by: [[order[0], order[1]]], pagination: { limit: PAGE + 1, offset: page * PAGE } });
        const results = data.results.slice(0, PAGE);
        const head = el('tr', {}, el('th', { scope: 'col' }, t(labelKey)), all.map((m) =>
          el('th', { scope: 'col', class: 'num', 'aria-sort': order[0] === m ? (order[1] === 'desc' ? 'descending' : 'ascending') : 'none' },
            el('button', { type: 'button', class: 'link', onclick: () => {
              order = [m, order[0] === m && order[1] === 'desc' ? 'asc' : 'desc']; page = 0; load();
            } }, t(m)))));
        body.replaceChildren(
          el('table', { class: 'rows wide' }, el('thead', {}, head), el('tbody', {}, results.map((r) => el('tr', {},
            el('td', {}, shown(prop, r.dimensions[0])), all.map((m, i) => el('td', { class: 'num' }, fmt(m, r.metrics[i]))))))),
          el('div', { class: 'pager' },
            el('button', { type: 'button', disabled: page === 0, onclick: () => { page -= 1; load(); } }, t('less')),
            el('span', {}, String(page + 1)),
            el('button', { type: 'button', disabled: data.results.length <= PAGE, onclick: () => { page += 1; load(); } }, t('more'))),
          results.some((r) => r.dimensions[0] === '(other)') ? el('p', { class: 'hint' }, t('folded')) : null,
          data.meta && data.meta.approximate ? el('p', { class: 'notice' }, t('approximate')) : null);
      } catch (err) { failure(body, err, load); }
    }
    load();
  }

  // Every row of a breakdown as the details view sorts and searches it, for the CSV.
  const CSV_PAGE = 10000, CSV_MAX = 100000;
  async function everyRow(prop, metrics, order, search) {
    const f = filters();
    if (search) f.push(['contains', prop, [search]]);
    const out = [];
    for (let offset = 0; offset < CSV_MAX; offset += CSV_PAGE) {
      const data = await ask({ site_id: state.site, date_range: dateRange(), filters: f, metrics, dimensions: [prop],
        order_by: [[order[0], order[1]]], pagination: { limit: CSV_PAGE, offset } });
      out.push(...data.results);
      if (data.results.length < CSV_PAGE) break;
    }
    return out;
  }

  function download(prop, metrics, results, labelKey) {
    // Every field quoted; a leading =, +, - or @ is defused so a spreadsheet never
    // runs a value as a formula.
    const cell = (v) => {
      let s = String(v);
      if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
      return '"' + s.replace(/"/g, '""') + '"';
    };
    const lines = [[t(labelKey)].concat(metrics.map(t)).map(cell).join(',')]
      .concat(results.map((r) => [r.dimensions[0]].concat(r.metrics).map(cell).join(',')));
    const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = el('a', { href: URL.createObjectURL(blob), download: `${state.site}-${prop.replace(':', '-')}-${state.period}.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // ---- theme, keys, history --------------------------------------------------------------
  function theme() { try { return localStorage.getItem('spoorloos-theme') || 'system'; } catch (_) { return 'system'; } }
  function applyTheme() { document.documentElement.dataset.theme = theme(); }
  function themeLabel() { return `${t('theme')}: ${t({ system: 'themeSystem', light: 'themeLight', dark: 'themeDark' }[theme()])}`; }
  function cycleTheme(e) {
    const next = { system: 'light', light: 'dark', dark: 'system' }[theme()];
    try { localStorage.setItem('spoorloos-theme', next); } catch (_) { /* private mode */ }
    applyTheme();
    e.target.textContent = themeLabel();
  }

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) || document.querySelector('dialog[open]')) return;
    if (KEYS[e.key]) {
      go({ period: KEYS[e.key] });
      e.preventDefault();
      if (KEYS[e.key] === 'custom') { const from = document.getElementById('from'); if (from) from.focus(); }
    }
    if (e.key === 'c') { go({ compare: state.compare ? '' : 'previous_period' }); e.preventDefault(); }
  });
  window.addEventListener('popstate', () => { state = readState(); words = WORDS[state.lang] || WORDS.en; render(); });

  applyTheme();
  if (!state.site) { app.replaceChildren(el('p', { class: 'notice' }, t('noData'))); return; }
  writeState(state, true);
  render();
})();
