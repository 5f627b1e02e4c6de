//! Parsing what trackers send into a [`Payload`]: the JSON of Plausible's Events API
//! (long and short keys, engagement events, Spoorloos' own extras) and the pixel's
//! query string. Validation follows Plausible's, field by field, so its trackers and
//! SDKs get the answers they expect: `{"errors":{"<field>":["<message>"]}}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::enrich::page;
use crate::event::Payload;

const MAX_NAME_CHARS: usize = 120;
const MAX_REFERRER_CHARS: usize = 2000;
const MAX_PROPS: usize = 30;
const MAX_PROP_KEY_CHARS: usize = 300;
const MAX_PROP_VALUE_CHARS: usize = 2000;
const MAX_DOMAINS: usize = 10;

/// Field → messages, serialised as Plausible's `errors` object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<&'static str, Vec<String>>);

impl FieldErrors {
    pub fn one(field: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.add(field, message);
        e
    }

    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_default().push(message.into());
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({ "errors": self.0 }).to_string()
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

/// Looks a field up under its long or short key.
fn field<'a>(obj: &'a Map<String, Value>, long: &str, short: &str) -> Option<&'a Value> {
    obj.get(long)
        .or_else(|| obj.get(short))
        .filter(|v| !v.is_null())
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => Some(matches!(s.as_str(), "1" | "true")),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// Splits and trims a comma list of domains.
fn domains(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .take(MAX_DOMAINS)
        .map(str::to_owned)
        .collect()
}

fn validate_name(v: Option<&Value>, errors: &mut FieldErrors) -> String {
    let name = match v {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            errors.add("event_name", "is invalid");
            return String::new();
        }
        None => String::new(),
    };
    check_name(&name, errors);
    name
}

/// The checks every event name passes, however it arrived.
fn check_name(name: &str, errors: &mut FieldErrors) {
    if name.is_empty() {
        errors.add("event_name", "can't be blank");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add(
            "event_name",
            format!("should be at most {MAX_NAME_CHARS} character(s)"),
        );
    }
}

fn props(v: Option<&Value>, errors: &mut FieldErrors) -> Vec<(String, String)> {
    let obj = match v {
        None => return Vec::new(),
        Some(Value::Object(obj)) => obj,
        // Some trackers send props as a JSON string.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(obj)) => return props(Some(&Value::Object(obj)), errors),
            _ => {
                errors.add("props", "must be an object");
                return Vec::new();
            }
        },
        Some(_) => {
            errors.add("props", "must be an object");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (key, value) in obj.iter().take(MAX_PROPS) {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => {
                errors.add("props", "values must be strings, numbers or booleans");
                continue;
            }
        };
        let key = truncate(key.trim(), MAX_PROP_KEY_CHARS);
        if !key.is_empty() && !value.is_empty() {
            out.push((key, truncate(&value, MAX_PROP_VALUE_CHARS)));
        }
    }
    out
}

/// Parses an Events API body.
pub fn from_json(body: &[u8]) -> Result<Payload, FieldErrors> {
    let parse_error = || FieldErrors::one("request", "Unable to parse request body as json");
    let value: Value = serde_json::from_slice(body).map_err(|_| parse_error())?;
    let Value::Object(obj) = value else {
        return Err(parse_error());
    };
    let mut errors = FieldErrors::default();
    let name = validate_name(field(&obj, "name", "n"), &mut errors);
    let hash_mode = truthy(field(&obj, "hashMode", "h")).unwrap_or(false);
    let page = match field(&obj, "url", "u") {
        None => {
            errors.add("url", "is required");
            None
        }
        Some(Value::String(url)) => match page::minimise(url, hash_mode) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.add("url", e.to_string());
                None
            }
        },
        Some(_) => {
            errors.add("url", "must be a valid url");
            None
        }
    };
    let domains = match field(&obj, "domain", "d") {
        Some(Value::String(d)) => domains(d),
        _ => Vec::new(),
    };
    if let Some(page) = &page
        && domains.is_empty()
        && page.hostname == page::NO_HOST
    {
        errors.add("domain", "can't be blank");
    }
    let referrer = match field(&obj, "referrer", "r") {
        Some(Value::String(r)) if !r.trim().is_empty() => {
            Some(truncate(r.trim(), MAX_REFERRER_CHARS))
        }
        _ => None,
    };
    let props = props(field(&obj, "props", "p"), &mut errors);
    let text = |long, short| match field(&obj, long, short) {
        Some(Value::String(s)) => Some(truncate(s.trim(), 32)),
        _ => None,
    };
    let payload = Payload {
        name,
        page: page.unwrap_or_default(),
        domains,
        referrer,
        screen_width: number(field(&obj, "screen_width", "w"))
            .map(|w| w.clamp(0.0, 100_000.0) as u32),
        props,
        hash_mode,
        interactive: truthy(field(&obj, "interactive", "i")).unwrap_or(true),
        scroll_depth: number(field(&obj, "scroll_depth", "sd")).map(|d| d.clamp(0.0, 100.0) as u8),
        engaged_ms: number(field(&obj, "engagement_time", "e"))
            .map(|e| e.clamp(0.0, f64::from(u32::MAX)) as u32),
        connection: text("connection", "c"),
        save_data: truthy(field(&obj, "save_data", "sv")).unwrap_or(false),
        gpc: truthy(field(&obj, "gpc", "g")).unwrap_or(false),
    };
    if errors.0.is_empty() {
        Ok(payload)
    } else {
        Err(errors)
    }
}

/// Parses the pixel's query string; `referer` (the header) stands in for a missing `u`.
pub fn from_pixel_query(query: &str, referer: Option<&str>) -> Result<Payload, FieldErrors> {
    let mut payload = Payload {
        interactive: true,
        ..Payload::default()
    };
    let mut url = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "u" | "url" => url = Some(value.into_owned()),
            "r" | "referrer" if !value.trim().is_empty() => {
                payload.referrer = Some(truncate(value.trim(), MAX_REFERRER_CHARS));
            }
            "n" | "name" => payload.name = value.trim().to_owned(),
            "d" | "domain" => payload.domains = domains(&value),
            "w" => payload.screen_width = value.trim().parse::<u32>().ok(),
            "h" => payload.hash_mode = value == "1",
            "c" => payload.connection = Some(truncate(value.trim(), 32)),
            "sv" => payload.save_data = value == "1",
            "g" => payload.gpc = value == "1",
            _ => {}
        }
    }
    if payload.name.is_empty() {
        payload.name = "pageview".to_owned();
    }
    let mut errors = FieldErrors::default();
    check_name(&payload.name, &mut errors);
    let url = url.or_else(|| referer.map(str::to_owned));
    match url.as_deref().map(|u| page::minimise(u, payload.hash_mode)) {
        None => errors.add("url", "is required"),
        Some(Err(e)) => errors.add("url", e.to_string()),
        Some(Ok(page)) => {
            if payload.domains.is_empty() && page.hostname == page::NO_HOST {
                errors.add("domain", "can't be blank");
            }
            payload.page = page;
        }
    }
    if errors.0.is_empty() {
        Ok(payload)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(body: &str) -> String {
        from_json(body.as_bytes())
            .err()
            .map(|e| e.to_json())
            .unwrap_or_default()
    }

    #[test]
    fn plausible_validation_messages() {
        let cases = [
            ("", "Unable to parse request body as json"),
            ("defnotjson", "Unable to parse request body as json"),
            ("\"<script>\"", "Unable to parse request body as json"),
            (
                r#"{"name":"pageview","domain":"a.test"}"#,
                r#""url":["is required"]"#,
            ),
            (
                r#"{"name":"pageview","url":"about:config","domain":null}"#,
                r#""domain":["can't be blank"]"#,
            ),
            (
                r#"{"name":"","url":"http://a.test/"}"#,
                r#""event_name":["can't be blank"]"#,
            ),
            (
                r#"{"url":"http://a.test/"}"#,
                r#""event_name":["can't be blank"]"#,
            ),
            (
                r#"{"name":["list"],"url":"http://a.test/"}"#,
                r#""event_name":["is invalid"]"#,
            ),
            (
                r#"{"name":"pageview","url":"data:text/plain,hi"}"#,
                "scheme is not allowed",
            ),
        ];
        for (body, expected) in cases {
            assert!(
                error_of(body).contains(expected),
                "{body}: {}",
                error_of(body)
            );
        }
        let long_name = format!(r#"{{"name":"{}","url":"http://a.test/"}}"#, "x".repeat(121));
        assert!(error_of(&long_name).contains("at most 120"));
        let long_url = format!(
            r#"{{"name":"pageview","url":"http://a.test/{}"}}"#,
            "x".repeat(5000)
        );
        assert!(error_of(&long_url).contains("must be a valid url"));
    }

    #[test]
    fn short_keys_numbers_and_engagement() {
        let p = from_json(br#"{"n":404,"u":"http://www.a.test/x","d":"a.test, b.test","r":"https://google.com/","w":1280,"p":{"plan":"pro","n":3},"sd":87,"e":4200}"#);
        let p = p.unwrap_or_default();
        assert_eq!(p.name, "404");
        assert_eq!(p.page.pathname, "/x");
        assert_eq!(p.domains, vec!["a.test", "b.test"]);
        assert_eq!(p.screen_width, Some(1280));
        assert_eq!(p.props.len(), 2);
        assert_eq!((p.scroll_depth, p.engaged_ms), (Some(87), Some(4200)));
    }

    #[test]
    fn pixel_query_and_referer_fallback() {
        let p = from_pixel_query(
            "d=a.test&w=390",
            Some("https://a.test/blog/?utm_source=nl&secret=1"),
        )
        .unwrap_or_default();
        assert_eq!(p.name, "pageview");
        assert_eq!(p.page.pathname, "/blog/");
        assert_eq!(p.page.utm.source.as_deref(), Some("nl"));
        assert!(from_pixel_query("", None).is_err());
    }
}
