//! GeoIP databases: `enrich::geo::Geo::open` reads a MaxMind-DB file (GeoIP2 or the
//! flat `country_code` layout) and must refuse a corrupt one at start-up; a database
//! it accepted must then answer any lookup without panicking.
//!
//! The input is written to a file (the collector reads databases from paths) and
//! opened as the country database (with region and city) and as the connection-type
//! database; a few addresses of both families are looked up.

#![no_main]

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use spoorloos::enrich::geo::Geo;

static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("spoorloos-fuzz-geoip-{}.mmdb", std::process::id()))
});

const ADDRESSES: [&str; 6] = [
    "81.2.69.142",
    "2.125.160.216",
    "1.0.0.0",
    "255.255.255.255",
    "2001:218::",
    "::ffff:81.2.69.142",
];

fuzz_target!(|data: &[u8]| {
    if std::fs::write(&*FILE, data).is_err() {
        return;
    }
    if let Ok(geo) = Geo::open(Some(&FILE), Some(&FILE), true) {
        for ip in ADDRESSES {
            let ip: IpAddr = ip.parse().expect("constant address");
            let info = geo.lookup(ip);
            if let Some(country) = info.country {
                assert_eq!(country.len(), 2);
            }
        }
    }
});
