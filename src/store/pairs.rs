//! The exact daily pairs of a sealed visit day, counted in memory.
//!
//! A pair cell is (value of one property, value of another) with the sums
//! `daily_pairs` keeps, over the visits that began on the day, whole. A visit has a
//! value for each of the 16 visit properties and one or more values of the event
//! properties (page, hostname, name); every visit cell is counted once per visit,
//! every event cell once per visit and event value; an event × event cell (page ×
//! name, say) once per event, since both values are one event's.
//!
//! Counted in SQL, the same cells cost about 9 CPU seconds for a day of 334,000
//! events: DuckDB groups 27 million (cell, visit) rows with wide keys and sorts for
//! the windows that mark each visitor's first visit with a value. Here a visitor's
//! visits are side by side, so those marks are a loop, and each (cell, visit) is one
//! hash map update on two integers.
//!
//! Visitors are distinct per cell without a distinct count where a visitor's visits
//! agree: if all of them share one property's value, the visitor counts once in each
//! cell of that value, at its first visit with the other value. Only the cells of
//! two properties that both change between a visitor's visits collect (cell,
//! visitor) to count distinct.

use foldhash::{HashMap, HashSet};

/// The visit properties, in the order a [`Visit`]'s values are given.
pub const VISIT_PROPERTIES: [&str; 16] = [
    "browser",
    "channel",
    "connection_type",
    "country",
    "device",
    "entry_page",
    "exit_page",
    "os",
    "referrer",
    "screen",
    "source",
    "utm_campaign",
    "utm_content",
    "utm_medium",
    "utm_source",
    "utm_term",
];

/// The event properties, after the visit properties in a [`Dictionary`]'s numbering.
pub const EVENT_PROPERTIES: [&str; 3] = ["page", "hostname", "name"];

const PROPERTIES: usize = VISIT_PROPERTIES.len() + EVENT_PROPERTIES.len();

/// The name of property number `property` (visit properties first).
pub fn property_name(property: usize) -> &'static str {
    VISIT_PROPERTIES
        .iter()
        .chain(EVENT_PROPERTIES.iter())
        .nth(property)
        .copied()
        .unwrap_or("")
}

/// Numbers the sites and (site, property, value) of a day, so cells are two integers.
#[derive(Default)]
pub struct Dictionary {
    sites: HashMap<String, u32>,
    site_names: Vec<String>,
    /// Per site × property: value → number.
    values: Vec<HashMap<String, u32>>,
    /// Per number: its site, property and value.
    names: Vec<(u32, usize, String)>,
}

impl Dictionary {
    pub fn site(&mut self, site: &str) -> u32 {
        if let Some(&id) = self.sites.get(site) {
            return id;
        }
        let id = u32::try_from(self.site_names.len()).unwrap_or(u32::MAX);
        self.sites.insert(site.to_owned(), id);
        self.site_names.push(site.to_owned());
        self.values
            .extend(std::iter::repeat_with(HashMap::default).take(PROPERTIES));
        id
    }

    /// The number of `value` of property number `property` (visit properties first,
    /// then event properties) for `site` (a number from [`Dictionary::site`]).
    pub fn value(&mut self, site: u32, property: usize, value: &str) -> u32 {
        let slot = site as usize * PROPERTIES + property;
        let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let Some(map) = self.values.get_mut(slot) else {
            return next;
        };
        if let Some(&id) = map.get(value) {
            return id;
        }
        map.insert(value.to_owned(), next);
        self.names.push((site, property, value.to_owned()));
        next
    }

    /// Site, property name and value of a number.
    pub fn name(&self, id: u32) -> (&str, &'static str, &str) {
        match self.names.get(id as usize) {
            Some((site, property, value)) => (
                self.site_names
                    .get(*site as usize)
                    .map_or("", String::as_str),
                property_name(*property),
                value,
            ),
            None => ("", "", ""),
        }
    }

    /// The property number of a value's number.
    fn property(&self, id: u32) -> Option<usize> {
        self.names
            .get(id as usize)
            .map(|&(_, property, _)| property)
    }

    /// Each number's place when values are ordered by property name, then value: the
    /// order pairs are stored in, so a filter on one value reads few row groups.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> =
            (0..u32::try_from(self.names.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by(|&a, &b| {
            let (_, pa, va) = self.name(a);
            let (_, pb, vb) = self.name(b);
            (pa, va).cmp(&(pb, vb))
        });
        let mut ranks = vec![0; order.len()];
        for (rank, id) in order.into_iter().enumerate() {
            if let Some(r) = ranks.get_mut(id as usize) {
                *r = u32::try_from(rank).unwrap_or(u32::MAX);
            }
        }
        ranks
    }
}

/// One visit: its visitor (pseudonym, or the visit itself where there is none), its
/// sums and its value of each of [`VISIT_PROPERTIES`] (numbers from a [`Dictionary`]).
#[derive(Debug, Clone)]
pub struct Visit {
    pub site: u32,
    pub visitor: u64,
    pub session: u64,
    pub pageviews: i64,
    pub custom: i64,
    pub duration_s: i64,
    pub values: [Option<u32>; 16],
}

/// One event value of a visit (index into the visits): its pageviews and events.
#[derive(Debug, Clone)]
pub struct EventValue {
    pub visit: usize,
    pub value: u32,
    pub pageviews: i64,
    pub events: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub visitors: i64,
    pub visits: i64,
    pub pageviews: i64,
    pub bounces: i64,
    pub duration_s: i64,
    pub events: i64,
}

/// A stored row: filter value, breakdown value (numbers), sums.
pub type Cell = (u32, u32, Sums);

/// The breakdown side of an own row (a page's, an event name's): the visit figures
/// of the visits that have the value, stored with an empty second property and value.
pub const OWN: u32 = u32::MAX;

/// Per event value (a page, engagement events included as a view filtered by the
/// page matches them; an event name, which a goal is), the visit figures of the
/// visits with any event of that value: distinct visitors, visits, those visits'
/// pageviews and events, bounces and duration, keyed `(value, OWN)`. `owners` are
/// (visit, value number) pairs, in any order.
pub fn visited(visits: &[Visit], owners: &[(usize, u32)]) -> HashMap<(u32, u32), Sums> {
    let mut seen: Vec<(u32, usize)> = owners
        .iter()
        .map(|&(visit, value)| (value, visit))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let mut cells: HashMap<(u32, u32), Sums> = HashMap::default();
    let mut visitors: Vec<(u32, u32, u64)> = Vec::with_capacity(seen.len());
    for (value, i) in seen {
        let Some(v) = visits.get(i) else { continue };
        let s = cells.entry((value, OWN)).or_default();
        s.visits += 1;
        s.pageviews += v.pageviews;
        s.bounces += i64::from(v.pageviews <= 1 && v.custom == 0);
        s.duration_s += v.duration_s;
        s.events += v.pageviews + v.custom;
        visitors.push((value, v.site, v.visitor));
    }
    visitors.sort_unstable();
    visitors.dedup();
    for (value, ..) in visitors {
        if let Some(s) = cells.get_mut(&(value, OWN)) {
            s.visitors += 1;
        }
    }
    cells
}

/// What an event is, as the pairs count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Pageview,
    /// A custom event (a goal is one).
    Custom,
    /// Time on a page: it has no value of its own, but a view filtered by its page
    /// matches it.
    Engagement,
}

/// One event of a visit (index into the visits): its kind and its value of each of
/// [`EVENT_PROPERTIES`] (numbers from a [`Dictionary`]).
#[derive(Debug, Clone)]
pub struct Event {
    pub visit: usize,
    pub kind: EventKind,
    pub values: [Option<u32>; 3],
}

/// What a day's events give its pairs.
#[derive(Debug, Default)]
pub struct EventCounts {
    /// Per visit and event value, its pageviews and events (for [`count`]).
    pub values: Vec<EventValue>,
    /// (visit, value) of the values that have own rows (for [`visited`]): pages,
    /// engagement events included; event names.
    pub owners: Vec<(usize, u32)>,
    /// The event × event cells (page × hostname, page × name, hostname × name), in
    /// one order: both values are one event's.
    pub cells: HashMap<(u32, u32), Sums>,
}

/// Counts a day's events against its visits (see [`EventCounts`]).
pub fn of_events(visits: &[Visit], events: &[Event]) -> EventCounts {
    const PAGE: usize = 0;
    const NAME: usize = 2;
    const CELLS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];
    let mut out = EventCounts::default();
    let mut per_value: HashMap<(usize, u32), (i64, i64)> = HashMap::default();
    // (a, b, visit) of each event of an event × event cell, for distinct visits.
    let mut in_cells: Vec<(u32, u32, usize)> = Vec::with_capacity(events.len() * CELLS.len());
    for e in events {
        if let Some(page) = e.values[PAGE] {
            out.owners.push((e.visit, page));
        }
        if e.kind == EventKind::Engagement {
            continue;
        }
        let pageview = i64::from(e.kind == EventKind::Pageview);
        for value in e.values.iter().flatten() {
            let sums = per_value.entry((e.visit, *value)).or_default();
            sums.0 += pageview;
            sums.1 += 1;
        }
        if let Some(name) = e.values[NAME] {
            out.owners.push((e.visit, name));
        }
        for (i, j) in CELLS {
            let (Some(a), Some(b)) = (e.values[i], e.values[j]) else {
                continue;
            };
            let s = out.cells.entry((a, b)).or_default();
            s.pageviews += pageview;
            s.events += 1;
            in_cells.push((a, b, e.visit));
        }
    }
    out.values = per_value
        .into_iter()
        .map(|((visit, value), (pageviews, events))| EventValue {
            visit,
            value,
            pageviews,
            events,
        })
        .collect();
    in_cells.sort_unstable();
    in_cells.dedup();
    // A value's number names its site too, so (a, b, visitor) is one visitor.
    let mut visitors: Vec<(u32, u32, u64)> = Vec::with_capacity(in_cells.len());
    for &(a, b, visit) in &in_cells {
        let Some(v) = visits.get(visit) else { continue };
        if let Some(s) = out.cells.get_mut(&(a, b)) {
            s.visits += 1;
        }
        visitors.push((a, b, v.visitor));
    }
    visitors.sort_unstable();
    visitors.dedup();
    for (a, b, ..) in visitors {
        if let Some(s) = out.cells.get_mut(&(a, b)) {
            s.visitors += 1;
        }
    }
    out
}

/// Every cell of visit × visit and event × visit values, in one order each.
pub fn count(visits: &[Visit], events: &[EventValue]) -> HashMap<(u32, u32), Sums> {
    let mut by_visit: Vec<Vec<&EventValue>> = vec![Vec::new(); visits.len()];
    for e in events {
        if let Some(list) = by_visit.get_mut(e.visit) {
            list.push(e);
        }
    }
    let mut order: Vec<usize> = (0..visits.len()).collect();
    order.sort_unstable_by_key(|&i| {
        let v = &visits[i];
        (v.site, v.visitor, v.session)
    });

    let mut cells: HashMap<(u32, u32), Sums> = HashMap::default();
    // (cell, visitor) where both properties change between the visitor's visits.
    let mut multi: Vec<(u32, u32, u32)> = Vec::new();
    // Per visitor: the values its earlier visits had, so a visit knows which are new.
    let mut seen: HashSet<(usize, Option<u32>)> = HashSet::default();
    let mut seen_events: HashSet<u32> = HashSet::default();
    let mut visitor = 0u32;
    for group in order.chunk_by(|&a, &b| {
        (visits[a].site, visits[a].visitor) == (visits[b].site, visits[b].visitor)
    }) {
        visitor += 1;
        let first = &visits[group[0]];
        let mut same = [true; 16];
        for &i in &group[1..] {
            for (s, (a, b)) in same
                .iter_mut()
                .zip(first.values.iter().zip(&visits[i].values))
            {
                *s &= a == b;
            }
        }
        reset(&mut seen);
        reset(&mut seen_events);
        for &i in group {
            let v = &visits[i];
            let mut firsts = [true; 16];
            for (p, f) in firsts.iter_mut().enumerate() {
                *f = seen.insert((p, v.values[p]));
            }
            let events = v.pageviews + v.custom;
            let bounce = i64::from(v.pageviews <= 1 && v.custom == 0);
            for i in 0..16 {
                let Some(a) = v.values[i] else { continue };
                for j in i + 1..16 {
                    let Some(b) = v.values[j] else { continue };
                    let s = cells.entry((a, b)).or_default();
                    s.visits += 1;
                    s.pageviews += v.pageviews;
                    s.bounces += bounce;
                    s.duration_s += v.duration_s;
                    s.events += events;
                    if (same[i] && firsts[j]) || (same[j] && firsts[i]) {
                        s.visitors += 1;
                    } else if !same[i] && !same[j] {
                        multi.push((a, b, visitor));
                    }
                }
            }
            let own = by_visit.get(i).map_or(&[][..], Vec::as_slice);
            for e in own {
                let first_event = seen_events.insert(e.value);
                for (p, value) in v.values.iter().enumerate() {
                    let Some(b) = *value else { continue };
                    let s = cells.entry((e.value, b)).or_default();
                    s.visits += 1;
                    s.pageviews += e.pageviews;
                    s.events += e.events;
                    if same[p] {
                        s.visitors += i64::from(first_event);
                    } else {
                        multi.push((e.value, b, visitor));
                    }
                }
            }
        }
    }
    multi.sort_unstable();
    multi.dedup();
    for (a, b, _) in multi {
        if let Some(s) = cells.get_mut(&(a, b)) {
            s.visitors += 1;
        }
    }
    cells
}

/// The distinct visitors of each `(value, "(other)")` row a fold makes, keyed (filter
/// value, breakdown property number): when a day's events expire, each of its cells
/// under `min_crowd` visitors (of [`count`] and [`of_events`], in both orders) joins
/// its filter value's `(other)` row for the breakdown's property. One visitor can be
/// in many such cells (six pages read after one rare source), so their visitors do
/// not add up: the fold takes these instead, and keeps the row only if they reach
/// `min_crowd`.
pub fn fold_visitors(
    dictionary: &Dictionary,
    visits: &[Visit],
    events: &[Event],
    cells: &HashMap<(u32, u32), Sums>,
    min_crowd: i64,
) -> HashMap<(u32, usize), i64> {
    // The cells as count() and of_events() key them: visit values in property order,
    // an event value before a visit value, an event's values in property order;
    // engagement events are in none.
    let mut by_visit: Vec<Vec<&Event>> = vec![Vec::new(); visits.len()];
    for e in events.iter().filter(|e| e.kind != EventKind::Engagement) {
        if let Some(list) = by_visit.get_mut(e.visit) {
            list.push(e);
        }
    }
    let mut order: Vec<usize> = (0..visits.len()).collect();
    order.sort_unstable_by_key(|&i| (visits[i].site, visits[i].visitor));
    let mut out: HashMap<(u32, usize), i64> = HashMap::default();
    let mut keys: Vec<(u32, usize)> = Vec::new();
    let small = |a: u32, b: u32, keys: &mut Vec<(u32, usize)>| {
        if cells.get(&(a, b)).is_some_and(|s| s.visitors < min_crowd) {
            keys.extend(dictionary.property(b).map(|p| (a, p)));
            keys.extend(dictionary.property(a).map(|p| (b, p)));
        }
    };
    for group in order.chunk_by(|&a, &b| {
        (visits[a].site, visits[a].visitor) == (visits[b].site, visits[b].visitor)
    }) {
        keys.clear();
        for &i in group {
            let v = &visits[i];
            for (p, a) in v.values.iter().enumerate() {
                let Some(a) = *a else { continue };
                for b in v.values[p + 1..].iter().flatten() {
                    small(a, *b, &mut keys);
                }
            }
            for e in by_visit.get(i).map_or(&[][..], Vec::as_slice) {
                for (x, a) in e.values.iter().enumerate() {
                    let Some(a) = *a else { continue };
                    for b in v.values.iter().flatten() {
                        small(a, *b, &mut keys);
                    }
                    for b in e.values[x + 1..].iter().flatten() {
                        small(a, *b, &mut keys);
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for &key in &keys {
            *out.entry(key).or_default() += 1;
        }
    }
    out
}

/// Empties a set for the next visitor, and lets go of the room one with many visits
/// took, so emptying stays cheap.
fn reset<T>(set: &mut HashSet<T>) {
    if set.capacity() > 1024 {
        *set = HashSet::default();
    } else {
        set.clear();
    }
}

/// The stored rows: every cell in both orders (a page's own row once), ordered by
/// filter property and value, then breakdown property and value.
pub fn rows(
    dictionary: &Dictionary,
    cells: impl IntoIterator<Item = ((u32, u32), Sums)>,
) -> Vec<Cell> {
    let mut rows: Vec<Cell> = cells
        .into_iter()
        .flat_map(|((a, b), s)| {
            let other = (b != OWN).then_some((b, a, s));
            std::iter::once((a, b, s)).chain(other)
        })
        .collect();
    let ranks = dictionary.ranks();
    let rank = |id: u32| ranks.get(id as usize).copied().unwrap_or(u32::MAX);
    rows.sort_unstable_by_key(|&(a, b, _)| (rank(a), rank(b)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(d: &mut Dictionary, visitor: u64, session: u64, country: &str, source: &str) -> Visit {
        let site = d.site("example.test");
        let mut values = [None; 16];
        values[3] = Some(d.value(site, 3, country));
        values[10] = Some(d.value(site, 10, source));
        Visit {
            site,
            visitor,
            session,
            pageviews: 1,
            custom: 0,
            duration_s: 0,
            values,
        }
    }

    #[test]
    fn a_fold_counts_each_visitor_once_over_the_cells_it_takes() {
        let mut d = Dictionary::default();
        // Visitor 1 came from Rare in three visits, each from another country;
        // visitor 2 from Rare once. Every (Rare, country) cell has one visitor.
        let visits = vec![
            visit(&mut d, 1, 10, "NL", "Rare"),
            visit(&mut d, 1, 11, "DE", "Rare"),
            visit(&mut d, 1, 12, "BE", "Rare"),
            visit(&mut d, 2, 20, "FR", "Rare"),
        ];
        let site = d.site("example.test");
        let rare = d.value(site, 10, "Rare");
        let nl = d.value(site, 3, "NL");
        let cells = count(&visits, &[]);
        let folded = fold_visitors(&d, &visits, &[], &cells, 2);
        // (Rare, country (other)): two people, not four cells' worth.
        assert_eq!(folded.get(&(rare, 3)), Some(&2));
        assert_eq!(folded.get(&(nl, 10)), Some(&1));
        // Nothing folds where every cell reaches the crowd size.
        assert!(fold_visitors(&d, &visits, &[], &cells, 1).is_empty());
    }

    #[test]
    fn a_visitor_counts_once_per_cell_whatever_changes() {
        let mut d = Dictionary::default();
        // Visitor 1: NL twice, from Google then Bing. Visitor 2: NL then DE, from
        // Google both times. Visitor 3: NL then DE, from Google then Bing.
        let visits = vec![
            visit(&mut d, 1, 10, "NL", "Google"),
            visit(&mut d, 1, 11, "NL", "Bing"),
            visit(&mut d, 2, 20, "NL", "Google"),
            visit(&mut d, 2, 21, "DE", "Google"),
            visit(&mut d, 3, 30, "NL", "Google"),
            visit(&mut d, 3, 31, "DE", "Bing"),
            visit(&mut d, 3, 32, "NL", "Google"),
        ];
        let site = d.site("example.test");
        let page = d.value(site, 16, "/");
        let events: Vec<EventValue> = (0..visits.len())
            .map(|visit| EventValue {
                visit,
                value: page,
                pageviews: 1,
                events: 1,
            })
            .collect();
        let cells = count(&visits, &events);
        let mut cell = |c: &str, s: &str| {
            let (c, s) = (d.value(site, 3, c), d.value(site, 10, s));
            cells.get(&(c, s)).copied().unwrap_or_default()
        };
        let (nl_google, nl_bing, de_google, de_bing) = (
            cell("NL", "Google"),
            cell("NL", "Bing"),
            cell("DE", "Google"),
            cell("DE", "Bing"),
        );
        assert_eq!((nl_google.visitors, nl_google.visits), (3, 4));
        assert_eq!((nl_bing.visitors, nl_bing.visits), (1, 1));
        assert_eq!((de_google.visitors, de_google.visits), (1, 1));
        assert_eq!((de_bing.visitors, de_bing.visits), (1, 1));
        let nl = d.value(site, 3, "NL");
        let page_nl = cells.get(&(page, nl)).copied().unwrap_or_default();
        assert_eq!((page_nl.visitors, page_nl.visits), (3, 5));
    }

    #[test]
    fn a_page_s_own_row_has_the_visit_figures_of_its_visits() {
        let mut d = Dictionary::default();
        let mut visits = vec![
            visit(&mut d, 1, 10, "NL", "Google"),
            visit(&mut d, 1, 11, "NL", "Google"),
            visit(&mut d, 2, 20, "DE", "Bing"),
        ];
        visits[1].pageviews = 3;
        visits[1].duration_s = 90;
        let site = d.site("example.test");
        let page = d.value(site, 16, "/pricing");
        // Visit 2 has only an engagement event on the page: it counts all the same.
        let pages = [(0, page), (1, page), (1, page), (2, page)];
        let rows = visited(&visits, &pages);
        let own = rows.get(&(page, OWN)).copied().unwrap_or_default();
        assert_eq!(
            (
                own.visitors,
                own.visits,
                own.pageviews,
                own.bounces,
                own.duration_s
            ),
            (2, 3, 5, 2, 90)
        );
        let stored = super::rows(&d, rows);
        assert_eq!(stored.len(), 1, "an own row is stored once");
    }

    #[test]
    fn rows_come_in_both_orders_sorted_by_property_and_value() {
        let mut d = Dictionary::default();
        let visits = vec![
            visit(&mut d, 1, 1, "NL", "Google"),
            visit(&mut d, 2, 2, "DE", "Bing"),
        ];
        let rows = rows(&d, count(&visits, &[]));
        let named: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|&(a, b, _)| {
                let ((_, pa, va), (_, pb, vb)) = (d.name(a), d.name(b));
                (pa, va, pb, vb)
            })
            .collect();
        assert_eq!(
            named,
            vec![
                ("country", "DE", "source", "Bing"),
                ("country", "NL", "source", "Google"),
                ("source", "Bing", "country", "DE"),
                ("source", "Google", "country", "NL"),
            ]
        );
    }

    #[test]
    fn an_event_cell_counts_each_event_and_each_visit_once() {
        let mut d = Dictionary::default();
        let visits = vec![
            visit(&mut d, 1, 10, "NL", "Google"),
            visit(&mut d, 1, 11, "NL", "Google"),
        ];
        let site = d.site("example.test");
        let (page, host, name) = (16, 17, 18);
        let mut event = |visit, kind, path: &str, event_name: Option<&str>| Event {
            visit,
            kind,
            values: [
                Some(d.value(site, page, path)),
                Some(d.value(site, host, "example.test")),
                event_name.map(|n| d.value(site, name, n)),
            ],
        };
        let events = vec![
            event(0, EventKind::Pageview, "/", Some("pageview")),
            event(0, EventKind::Custom, "/", Some("Signup")),
            event(0, EventKind::Engagement, "/pricing", None),
            event(1, EventKind::Pageview, "/", Some("pageview")),
            event(1, EventKind::Pageview, "/", Some("pageview")),
        ];
        let of = of_events(&visits, &events);
        let id = |d: &mut Dictionary, p, v: &str| d.value(site, p, v);
        let (root, pricing) = (id(&mut d, page, "/"), id(&mut d, page, "/pricing"));
        let (signup, pageview) = (id(&mut d, name, "Signup"), id(&mut d, name, "pageview"));
        let cell = |a, b| of.cells.get(&(a, b)).copied().unwrap_or_default();
        let signup_on_root = cell(root, signup);
        assert_eq!(
            (signup_on_root.visitors, signup_on_root.visits),
            (1, 1),
            "one visit of one visitor"
        );
        assert_eq!((signup_on_root.pageviews, signup_on_root.events), (0, 1));
        let views_of_root = cell(root, pageview);
        assert_eq!((views_of_root.visitors, views_of_root.visits), (1, 2));
        assert_eq!((views_of_root.pageviews, views_of_root.events), (3, 3));
        // An engagement event makes its page the visit's (own rows), but counts in
        // no cell and no value.
        assert!(of.owners.contains(&(0, pricing)));
        assert!(of.values.iter().all(|v| v.value != pricing));
        assert_eq!(cell(pricing, id(&mut d, host, "example.test")).events, 0);
        let root_of_first = of
            .values
            .iter()
            .find(|v| v.visit == 0 && v.value == root)
            .map(|v| (v.pageviews, v.events));
        assert_eq!(root_of_first, Some((1, 2)));
    }
}
