/*! Spoorloos s.js: no cookies, storage or identifiers. Source, served verbatim. */
// <script defer src=.../s.js data-domain=site [data-api=url] [data-hash]>
// spoorloos(name, {props, interactive, revenue, u, callback}); stub queues in .q
// Plausible Events API + c (connection), sv (Save-Data), g (GPC)
(function (w, d) {
  'use strict';
  if (w.spoorloos && w.spoorloos.l) return; // loaded twice

  var nav = w.navigator, loc = w.location, hist = w.history;
  var me = d.currentScript || d.querySelector('script[data-domain]') || d.createElement('b');
  var api = me.getAttribute('data-api') || (me.src ? new URL(me.src).origin : '') + '/api/event';
  var domain = me.getAttribute('data-domain') || loc.hostname;
  var hash = me.hasAttribute('data-hash') ? 1 : undefined;
  var gpc = nav.globalPrivacyControl ? 1 : undefined;

  // text/plain: no CORS preflight. fetch if beacon fails or for callbacks (status)
  function send(data, cb) {
    var body = JSON.stringify(data); // drops undefined
    try {
      if (!cb && nav.sendBeacon(api, new Blob([body], { type: 'text/plain' }))) return;
    } catch (e) {}
    if (!w.fetch) return cb && cb();
    fetch(api, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: body, keepalive: true, credentials: 'omit' })
      .then(function (r) { cb && cb({ status: r.status }); }, function (e) { cb && cb({ error: e }); });
  }

  function event(n, o) {
    var c = nav.connection || {};
    return {
      n: n, u: o.u || o.url || loc.href, d: domain, r: d.referrer || null, w: w.innerWidth,
      p: o.props, i: o.interactive === false ? false : undefined, $: o.revenue,
      c: c.effectiveType, sv: c.saveData ? 1 : undefined, g: gpc, h: hash
    };
  }

  // Current pageview: URL, path (+hash), engaged ms, visible since (0 =
  // stopped), deepest pixel seen, scroll depth % last reported
  var page, key, acc = 0, since = 0, bottom = 0, sent;

  function visible() { return d.visibilityState == 'visible'; }
  function path() { return loc.pathname + (hash ? loc.hash : ''); }
  function scrolled() { bottom = Math.max(bottom, w.scrollY + w.innerHeight); }
  function depth() {
    var h = Math.max(d.documentElement.scrollHeight, d.body ? d.body.scrollHeight : 0);
    return h ? Math.min(100, Math.round(bottom / h * 100)) : 100;
  }

  // engagement if time passed or depth grew; then stop or restart the clock
  function flush(stop) {
    if (!page) return;
    var e = acc + (since ? Date.now() - since : 0), sd = depth();
    if (e > 0 || sd > sent) {
      send({ n: 'engagement', u: page, d: domain, sd: sd, e: e, g: gpc, h: hash });
      sent = sd;
    }
    acc = 0;
    since = !stop && visible() ? Date.now() : 0;
  }

  function pageview() {
    key = path();
    page = loc.href;
    acc = bottom = 0;
    since = visible() ? Date.now() : 0;
    scrolled();
    sent = depth();
    send(event('pageview', {}));
  }

  // SPA navigation: pageview only if the path changed
  function route() {
    if (path() != key) flush(), pageview();
  }

  var queue = (w.spoorloos && w.spoorloos.q) || [];
  w.spoorloos = function (name, o) { o = o || {}; send(event(name, o), o.callback); };
  w.spoorloos.l = 1;

  function wrap(m) {
    var orig = hist[m];
    hist[m] = function () { var r = orig.apply(this, arguments); route(); return r; };
  }
  wrap('pushState');
  wrap('replaceState');
  w.addEventListener('popstate', route);
  if (hash) w.addEventListener('hashchange', route);
  w.addEventListener('scroll', scrolled, { passive: true });
  d.addEventListener('visibilitychange', function () {
    if (!page) visible() && route(); // was prerendered/hidden
    else if (!visible()) flush(1);
    else if (!since) since = Date.now();
  });
  w.addEventListener('pagehide', function () { flush(1); });
  w.addEventListener('pageshow', function (ev) { ev.persisted && pageview(); }); // bfcache

  if (visible()) pageview();
  for (var i = 0; i < queue.length; i++) w.spoorloos.apply(w, queue[i]);
})(window, document);
