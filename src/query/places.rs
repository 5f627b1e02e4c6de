//! The name forms of the place properties: `visit:country_name`, `visit:region_name`
//! and `visit:city_name`, as Plausible's Stats API has them. The store keeps codes
//! (ISO 3166-1 alpha-2 for countries, ISO 3166-2 for regions) and a city's English
//! name, so a request naming a name form is rewritten to the code form before it is
//! parsed (a filter on names becomes a filter on the codes with those names), and
//! its answer is relabelled after. The names are English, from
//! `assets/places/` (`scripts/place-names.sh`: Unicode CLDR for countries, the
//! `iso-3166` package for regions); a code without a name keeps its code. Rows
//! ordered by a name form come in the order of their codes, and a filter on a name
//! several regions share ("Limburg") matches all of them.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::QueryError;
use super::request::{bad, check_regex};

static COUNTRIES: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| table(include_str!("../../assets/places/countries.tsv")));
static REGIONS: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| table(include_str!("../../assets/places/regions.tsv")));

fn table(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines().filter_map(|l| l.split_once('\t')).collect()
}

/// Most codes one name filter may stand for: a filter's own limit.
const MAX_CODES: usize = super::request::MAX_VALUES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Country,
    Region,
    /// The stored city is its English name already.
    City,
}

impl Kind {
    fn of(name: &str) -> Option<(Kind, &'static str)> {
        match name {
            "visit:country_name" => Some((Kind::Country, "visit:country")),
            "visit:region_name" => Some((Kind::Region, "visit:region")),
            "visit:city_name" => Some((Kind::City, "visit:city")),
            _ => None,
        }
    }

    fn names(self) -> Option<&'static HashMap<&'static str, &'static str>> {
        match self {
            Kind::Country => Some(&COUNTRIES),
            Kind::Region => Some(&REGIONS),
            Kind::City => None,
        }
    }

    /// A code no place has: the values of a filter whose names name nothing.
    fn nowhere(self) -> &'static str {
        match self {
            Kind::Country => "XX",
            Kind::Region | Kind::City => "XX-XX",
        }
    }
}

/// What a rewritten request asked in name form, to put its answer back in it.
#[derive(Debug)]
pub struct Named {
    /// Dimension positions whose labels are codes to name.
    positions: Vec<(usize, Kind)>,
    dimensions: Option<Value>,
    filters: Option<Value>,
}

/// `body` with every name form replaced by its code form, and what to relabel;
/// `None` when the request names none.
pub fn rewrite(body: &Value) -> Result<Option<(Value, Named)>, QueryError> {
    if !body.to_string().contains("_name\"") {
        return Ok(None);
    }
    let mut out = body.clone();
    let mut positions = Vec::new();
    if let Some(Value::Array(dims)) = out.get_mut("dimensions") {
        for (i, d) in dims.iter_mut().enumerate() {
            if let Some((kind, code)) = d.as_str().and_then(Kind::of) {
                if kind != Kind::City {
                    positions.push((i, kind));
                }
                *d = Value::from(code);
            }
        }
    }
    if let Some(Value::Array(filters)) = out.get_mut("filters") {
        for f in filters {
            rewrite_filter(f)?;
        }
    }
    if let Some(Value::Array(entries)) = out.get_mut("order_by") {
        for entry in entries {
            if let Some(first) = entry.get_mut(0)
                && let Some((_, code)) = first.as_str().and_then(Kind::of)
            {
                *first = Value::from(code);
            }
        }
    }
    let named = Named {
        positions,
        dimensions: body.get("dimensions").cloned(),
        filters: body.get("filters").cloned(),
    };
    Ok(Some((out, named)))
}

/// A filter (or group) on a name form, as a filter on the codes with those names.
fn rewrite_filter(filter: &mut Value) -> Result<(), QueryError> {
    let Some(items) = filter.as_array_mut() else {
        return Ok(());
    };
    match items.first().and_then(Value::as_str) {
        Some("and" | "or") => {
            if let Some(Value::Array(group)) = items.get_mut(1) {
                for f in group {
                    rewrite_filter(f)?;
                }
            }
            return Ok(());
        }
        Some("not") => {
            if let Some(f) = items.get_mut(1) {
                rewrite_filter(f)?;
            }
            return Ok(());
        }
        _ => {}
    }
    let Some((kind, code)) = items.get(1).and_then(Value::as_str).and_then(Kind::of) else {
        return Ok(());
    };
    let Some(names) = kind.names() else {
        items[1] = Value::from(code);
        return Ok(());
    };
    let op = items
        .first()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let values: Vec<String> = match items.get(2) {
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return Ok(()),
    };
    let exact = !matches!(
        items.get(3).and_then(|m| m.get("case_sensitive")),
        Some(Value::Bool(false))
    );
    let fold = |s: &str| {
        if exact {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let wanted: Vec<String> = values.iter().map(|v| fold(v)).collect();
    let test: Box<dyn Fn(&str) -> bool> = match op.as_str() {
        "is" | "is_not" => Box::new(move |name| wanted.contains(&fold(name))),
        "contains" | "contains_not" => {
            Box::new(move |name| wanted.iter().any(|w| fold(name).contains(w.as_str())))
        }
        "matches" | "matches_not" => {
            let mut patterns = Vec::new();
            for v in &values {
                check_regex(v)?;
                let re = regex::RegexBuilder::new(v)
                    .case_insensitive(!exact)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| bad(format!("Invalid regular expression {v:?}: {e}")))?;
                patterns.push(re);
            }
            Box::new(move |name| patterns.iter().any(|re| re.is_match(name)))
        }
        _ => return Ok(()),
    };
    let mut codes: Vec<&str> = names
        .iter()
        .filter(|(_, name)| test(name))
        .map(|(code, _)| *code)
        .collect();
    // A value no place is named, but that is a label of the property itself (a code
    // without a name, which answers keep as it is, or "(none)"), matches as it is.
    if op == "is" || op == "is_not" {
        let named: Vec<String> = names.values().map(|n| fold(n)).collect();
        codes.extend(
            values
                .iter()
                .filter(|v| !named.contains(&fold(v)))
                .filter(|v| kind != Kind::Country || v.chars().count() == 2)
                .map(String::as_str),
        );
    }
    if codes.len() > MAX_CODES {
        return Err(bad(format!(
            "Invalid filter on {}: it names {} places, more than {MAX_CODES}; narrow it.",
            items.get(1).and_then(Value::as_str).unwrap_or_default(),
            codes.len()
        )));
    }
    codes.sort_unstable();
    if codes.is_empty() {
        codes.push(kind.nowhere());
    }
    let negated = op.ends_with("_not");
    *filter = serde_json::json!([if negated { "is_not" } else { "is" }, code, codes]);
    Ok(())
}

impl Named {
    /// Puts names for codes in the answer's rows (and their comparisons), and the
    /// request's own dimensions and filters back in its `query` echo.
    pub fn relabel(&self, answer: &mut Value) {
        if let Some(Value::Array(rows)) = answer.get_mut("results") {
            for row in rows {
                self.name_labels(row.get_mut("dimensions"));
                self.name_labels(
                    row.get_mut("comparison")
                        .and_then(|c| c.get_mut("dimensions")),
                );
            }
        }
        if let Some(echo) = answer.get_mut("query").and_then(Value::as_object_mut) {
            for (key, original) in [("dimensions", &self.dimensions), ("filters", &self.filters)] {
                if let Some(original) = original {
                    echo.insert(key.to_owned(), original.clone());
                }
            }
        }
    }

    fn name_labels(&self, labels: Option<&mut Value>) {
        let Some(Value::Array(labels)) = labels else {
            return;
        };
        for &(i, kind) in &self.positions {
            let named = labels
                .get(i)
                .and_then(Value::as_str)
                .and_then(|code| kind.names()?.get(code));
            if let (Some(name), Some(slot)) = (named, labels.get_mut(i)) {
                *slot = Value::from(*name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn name_forms_are_asked_as_codes_and_answered_as_names() {
        let body = json!({
            "site_id": "a.test",
            "dimensions": ["visit:country_name", "visit:region_name", "visit:city_name"],
            "filters": [["is", "visit:country_name", ["United Kingdom", "Netherlands"]],
                        ["not", ["contains", "visit:region_name", ["holland"], {"case_sensitive": false}]],
                        ["is", "visit:city_name", ["Boxford"]]],
            "order_by": [["visit:country_name", "asc"]]
        });
        let Ok(Some((asked, named))) = rewrite(&body) else {
            panic!("not rewritten");
        };
        assert_eq!(
            asked["dimensions"],
            json!(["visit:country", "visit:region", "visit:city"])
        );
        assert_eq!(
            asked["filters"],
            json!([
                ["is", "visit:country", ["GB", "NL"]],
                ["not", ["is", "visit:region", ["NL-NH", "NL-ZH"]]],
                ["is", "visit:city", ["Boxford"]]
            ])
        );
        assert_eq!(asked["order_by"], json!([["visit:country", "asc"]]));
        let mut answer = json!({
            "results": [{"dimensions": ["GB", "GB-ENG", "Boxford"], "metrics": [2]},
                        {"dimensions": ["(none)", "ZZ-ZZ", "(none)"], "metrics": [1]}],
            "query": {"dimensions": ["visit:country"]}
        });
        named.relabel(&mut answer);
        assert_eq!(
            answer["results"][0]["dimensions"],
            json!(["United Kingdom", "England", "Boxford"])
        );
        assert_eq!(
            answer["results"][1]["dimensions"],
            json!(["(none)", "ZZ-ZZ", "(none)"])
        );
        assert_eq!(answer["query"]["dimensions"], body["dimensions"]);
    }

    #[test]
    fn a_name_filter_matches_the_codes_with_the_name_or_nothing() {
        let body = json!({"filters": [["is", "visit:country_name", ["Atlantis"]]]});
        let Ok(Some((asked, _))) = rewrite(&body) else {
            panic!("not rewritten");
        };
        assert_eq!(asked["filters"], json!([["is", "visit:country", ["XX"]]]));
        // A label that is no name (a code without one, "(none)") matches as it is.
        let labels =
            json!({"filters": [["is", "visit:region_name", ["England", "(none)", "ZZ-ZZ"]]]});
        let Ok(Some((asked, _))) = rewrite(&labels) else {
            panic!("not rewritten");
        };
        assert_eq!(
            asked["filters"],
            json!([["is", "visit:region", ["(none)", "GB-ENG", "ZZ-ZZ"]]])
        );
        // A short search names thousands of regions, and is taken.
        let broad = json!({"filters": [["contains", "visit:region_name", ["a"]]]});
        let Ok(Some((asked, _))) = rewrite(&broad) else {
            panic!("not rewritten");
        };
        let codes = asked["filters"][0][2].as_array().map_or(0, Vec::len);
        assert!(codes > 1000, "{codes}");
        assert!(
            rewrite(&json!({"dimensions": ["visit:country"]}))
                .unwrap()
                .is_none()
        );
    }
}
