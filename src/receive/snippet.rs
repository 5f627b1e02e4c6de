//! What a site pastes into its pages to send hits here: the script with the pixel as
//! `<noscript>` fallback, or the pixel alone; and the small page the collector shows
//! at `/`, which is itself a working test site.

/// HTML-escapes text for a double-quoted attribute or an element body.
pub fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// The pixel `<img>`. `no-referrer-when-downgrade` lets the page URL arrive in the
/// `Referer` header cross-origin (the default policy would send only the origin).
pub fn pixel(site: &str, endpoint: &str) -> String {
    let endpoint = escape(endpoint.trim_end_matches('/'));
    let site = escape(site);
    format!(
        r#"<img src="{endpoint}/p.gif?d={site}" referrerpolicy="no-referrer-when-downgrade" alt="" width="1" height="1" style="position:absolute;left:-9999px">"#
    )
}

/// The script tag, with the pixel for visitors without JavaScript.
pub fn script(site: &str, endpoint: &str) -> String {
    let src = escape(endpoint.trim_end_matches('/'));
    format!(
        "<script defer src=\"{src}/s.js\" data-domain=\"{}\"></script>\n<noscript>{}</noscript>",
        escape(site),
        pixel(site, endpoint)
    )
}

/// Both snippets, as `spoorloos snippet` and the start-up banner print them.
pub fn both(site: &str, endpoint: &str) -> String {
    format!(
        "<!-- Spoorloos, with the first-party script (pixel as fallback): -->\n{}\n\n<!-- Spoorloos, pixel only (no JavaScript): -->\n{}\n",
        script(site, endpoint),
        pixel(site, endpoint)
    )
}

/// The page at `/demo`: tracked by the collector's own script, so opening it in a browser
/// records a pageview for the default local site. Nothing from the request is echoed.
pub fn demo_page() -> String {
    let snippet = escape(&script(
        "your-site.example",
        "https://stats.your-site.example",
    ));
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spoorloos is running</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script defer src="/s.js"></script></head>
<body style="font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem">
<h1>Spoorloos is running</h1>
<p>This page is tracked by this collector: opening it recorded a cookie-less pageview.</p>
<p>Paste this into your pages (or run <code>spoorloos snippet --site … --endpoint …</code>):</p>
<pre style="white-space:pre-wrap;background:#f4f4f4;padding:1rem">{snippet}</pre>
<p><a href="/">The dashboard</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></p>
<noscript><img src="/p.gif" alt="" width="1" height="1"></noscript>
</body></html>
"#
    )
}
