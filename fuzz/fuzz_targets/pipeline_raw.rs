//! `Pipeline::process` on a `RawHit` whose every field is arbitrary, including a
//! `Payload` the parser would never produce (an un-normalised hostname, a pathname
//! that was not redacted, any props, any numbers): the pipeline must not rely on the
//! parser for its safety. Structured by `arbitrary`; checked by
//! `common::check_events`.

#![no_main]

use std::net::IpAddr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spoorloos::enrich::page::{Page, Utm};
use spoorloos::enrich::ua::ClientHints;
use spoorloos::event::{Payload, RawHit};

#[path = "common.rs"]
mod common;

#[derive(Arbitrary, Debug)]
enum Domain<'a> {
    /// One of `common::SITES`, in any case or with `www.`.
    Site(u8, bool, bool),
    Other(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// Seconds after 2000-01-01 (up to 2136).
    secs: u32,
    ip: IpAddr,
    user_agent: &'a str,
    brands: Option<&'a str>,
    mobile: Option<&'a str>,
    platform: Option<&'a str>,
    platform_version: Option<&'a str>,
    full_version_list: Option<&'a str>,
    ect: Option<&'a str>,
    privacy_signal: bool,
    prefetch: bool,
    policy: u8,
    name: &'a str,
    hostname: &'a str,
    pathname: &'a str,
    utm: [Option<&'a str>; 5],
    click_id: u8,
    domains: Vec<Domain<'a>>,
    referrer: Option<&'a str>,
    screen_width: Option<u32>,
    props: Vec<(&'a str, &'a str)>,
    hash_mode: bool,
    interactive: bool,
    scroll_depth: Option<u8>,
    engaged_ms: Option<u32>,
    connection: Option<&'a str>,
    save_data: bool,
    gpc: bool,
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fuzz_target!(|input: Input<'_>| {
    let domains = input
        .domains
        .iter()
        .take(16)
        .map(|d| match d {
            Domain::Site(i, www, upper) => {
                let site = common::SITES[usize::from(*i) % common::SITES.len()];
                let site = if *www {
                    format!("www.{site}")
                } else {
                    site.to_owned()
                };
                if *upper { site.to_uppercase() } else { site }
            }
            Domain::Other(s) => (*s).to_owned(),
        })
        .collect();
    let [source, medium, campaign, content, term] = input.utm.map(owned);
    let payload = Payload {
        name: input.name.to_owned(),
        page: Page {
            hostname: input.hostname.to_owned(),
            pathname: input.pathname.to_owned(),
            utm: Utm {
                source,
                medium,
                campaign,
                content,
                term,
            },
            click_id: match input.click_id % 3 {
                0 => None,
                1 => Some("gclid"),
                _ => Some("msclkid"),
            },
        },
        domains,
        referrer: owned(input.referrer),
        screen_width: input.screen_width,
        props: input
            .props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        hash_mode: input.hash_mode,
        interactive: input.interactive,
        scroll_depth: input.scroll_depth,
        engaged_ms: input.engaged_ms,
        connection: owned(input.connection),
        save_data: input.save_data,
        gpc: input.gpc,
    };
    let secs = 946_684_800 + i64::from(input.secs);
    let hit = RawHit {
        received_at: chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default(),
        ip: input.ip,
        user_agent: input.user_agent,
        hints: ClientHints {
            brands: input.brands,
            mobile: input.mobile,
            platform: input.platform,
            platform_version: input.platform_version,
            full_version_list: input.full_version_list,
        },
        ect: input.ect,
        privacy_signal: input.privacy_signal,
        prefetch: input.prefetch,
        payload,
    };
    let outcomes = common::pipeline(input.policy).process(&hit);
    common::check_events(&hit, input.policy, false, &outcomes);
});
