//! Which address is the visitor's: the socket peer, unless the peer is a configured
//! trusted proxy, in which case the proxy's forwarding headers are believed. By
//! default no proxy is trusted, so nobody can claim another visitor's address.

use std::net::IpAddr;

use hyper::HeaderMap;
use hyper::header::{FORWARDED, HeaderName};
use ipnet::IpNet;

// Built once: a `&str` name is parsed on every lookup, and this runs on every hit.
const CF_CONNECTING_IP: HeaderName = HeaderName::from_static("cf-connecting-ip");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`, from dual-stack sockets) are IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    // `[v6]:port`, `v4:port` (Forwarded allows ports).
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':')?.0.parse().ok()
}

/// The client address for a request from `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return peer;
    }
    let single = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_ip)
    };
    if let Some(ip) = single(CF_CONNECTING_IP).or_else(|| single(X_REAL_IP)) {
        return canonical(ip);
    }
    // A chain: the right-most address that is not one of our proxies is the client,
    // read from the right over every line of the header (a proxy may append a line
    // of its own after the client's), without collecting it: this runs on every hit.
    // A header value that is not text is one hop that does not parse.
    let client = if headers.contains_key(X_FORWARDED_FOR) {
        rightmost_client(
            headers
                .get_all(X_FORWARDED_FOR)
                .iter()
                .flat_map(|v| v.to_str().unwrap_or("\0").split(','))
                .map(parse_ip),
            proxies,
        )
    } else {
        rightmost_client(
            headers
                .get_all(FORWARDED)
                .iter()
                .flat_map(|v| v.to_str().unwrap_or("\0").split(','))
                .map(forwarded_for),
            proxies,
        )
    };
    client.unwrap_or(peer)
}

/// The address in one `Forwarded` element's `for` parameter; none when it has none,
/// or `unknown`, or an obfuscated identifier (`_hidden`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_ip(value))?
    })
}

/// Walks a chain of hops from the right: the first address that is not a trusted
/// proxy is the client's. A hop that does not parse (`unknown`, an obfuscated
/// identifier, a zone id, garbage) ends the walk: nothing to its left can be vouched
/// for, so the nearest trusted hop stands in. All hops trusted: the left-most.
fn rightmost_client(
    chain: impl DoubleEndedIterator<Item = Option<IpAddr>>,
    proxies: &[IpNet],
) -> Option<IpAddr> {
    let mut nearest = None;
    for hop in chain.rev() {
        let Some(ip) = hop.map(canonical) else {
            return nearest;
        };
        if !trusted(ip, proxies) {
            return Some(ip);
        }
        nearest = Some(ip);
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, headers: &[(&'static str, &str)], proxies: &[&str], expected: &str) {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().unwrap());
        }
        let proxies: Vec<IpNet> = proxies.iter().map(|p| p.parse().unwrap()).collect();
        let got = client_ip(peer.parse().unwrap(), &map, &proxies);
        assert_eq!(got, expected.parse::<IpAddr>().unwrap(), "{headers:?}");
    }

    #[test]
    fn proxies_must_be_trusted() {
        let xff = [("x-forwarded-for", "203.0.113.9")];
        check("198.51.100.1", &xff, &[], "198.51.100.1");
        check("10.0.0.1", &xff, &["10.0.0.0/8"], "203.0.113.9");
        check(
            "10.0.0.1",
            &[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")],
            &["10.0.0.0/8"],
            "203.0.113.9",
        );
        check(
            "10.0.0.1",
            &[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")],
            &["10.0.0.0/8"],
            "2001:db8::1",
        );
        check(
            "10.0.0.1",
            &[("cf-connecting-ip", "192.0.2.7")],
            &["10.0.0.0/8"],
            "192.0.2.7",
        );
        check("::ffff:10.0.0.1", &xff, &["10.0.0.0/8"], "203.0.113.9");
        check(
            "10.0.0.1",
            &[("x-forwarded-for", "garbage")],
            &["10.0.0.0/8"],
            "10.0.0.1",
        );
        // Every hop a proxy of ours: the left-most is as near the client as we know.
        check(
            "10.0.0.1",
            &[("x-forwarded-for", "10.0.0.7, 10.0.0.2")],
            &["10.0.0.0/8"],
            "10.0.0.7",
        );
        // Several `Forwarded` headers form one chain, read from the right.
        check(
            "10.0.0.1",
            &[
                ("forwarded", "for=192.0.2.60;proto=http, for=198.51.100.17"),
                ("forwarded", "for=10.0.0.3"),
            ],
            &["10.0.0.0/8"],
            "198.51.100.17",
        );
    }

    /// A client's own header line comes before the one its proxy appends: the chain
    /// is every line, read from the right, so the proxy's word wins.
    #[test]
    fn a_forged_line_loses_to_the_proxys() {
        check(
            "10.0.0.1",
            &[
                ("x-forwarded-for", "216.160.83.56"),
                ("x-forwarded-for", "2.125.160.216"),
            ],
            &["10.0.0.0/8"],
            "2.125.160.216",
        );
        check(
            "10.0.0.1",
            &[
                ("x-forwarded-for", "216.160.83.56, 10.0.0.9"),
                ("x-forwarded-for", "2.125.160.216, 10.0.0.8"),
            ],
            &["10.0.0.0/8"],
            "2.125.160.216",
        );
    }

    /// A hop that does not parse ends the walk: what lies left of it is the
    /// client's to choose, so the nearest trusted hop stands in.
    #[test]
    fn an_unparsable_hop_ends_the_trust() {
        for hop in ["unknown", "junk", "fe80::1%eth0", ""] {
            check(
                "10.0.0.1",
                &[("x-forwarded-for", &format!("203.0.113.9, {hop}, 10.0.0.2"))],
                &["10.0.0.0/8"],
                "10.0.0.2",
            );
        }
        check(
            "10.0.0.1",
            &[("forwarded", "for=203.0.113.9, for=unknown, for=10.0.0.2")],
            &["10.0.0.0/8"],
            "10.0.0.2",
        );
        check(
            "10.0.0.1",
            &[("forwarded", "for=203.0.113.9, for=_hidden")],
            &["10.0.0.0/8"],
            "10.0.0.1",
        );
    }
}
