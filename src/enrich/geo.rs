//! Country (and, if configured, region and city) and connection type from MaxMind-DB
//! files. The IP address is looked up in memory and never leaves this function.
//!
//! Two country layouts are read: GeoIP2/GeoLite2 (`country.iso_code`) and the flat
//! `country_code` of the free DB-IP / ip-location-db / geo-whois files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{PathElement, Reader};

#[derive(Debug, thiserror::Error)]
#[error("GeoIP database {path} cannot be used: {source}")]
pub struct GeoError {
    path: PathBuf,
    source: maxminddb::MaxMindDbError,
}

/// What the databases say about one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoInfo {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub connection_type: Option<String>,
}

#[derive(Default)]
pub struct Geo {
    country: Option<Reader<Vec<u8>>>,
    connection: Option<Reader<Vec<u8>>>,
    city: bool,
}

const ISO_CODE: &[PathElement<'static>] = &[PathElement::Key("country"), PathElement::Key("iso_code")];
const FLAT_CODE: &[PathElement<'static>] = &[PathElement::Key("country_code")];
const REGION: &[PathElement<'static>] = &[
    PathElement::Key("subdivisions"),
    PathElement::Index(0),
    PathElement::Key("iso_code"),
];
const CITY: &[PathElement<'static>] = &[
    PathElement::Key("city"),
    PathElement::Key("names"),
    PathElement::Key("en"),
];
const CONNECTION: &[PathElement<'static>] = &[PathElement::Key("connection_type")];

/// Opens and fully verifies a database, so a corrupt file fails at start-up.
fn open(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let err = |source| GeoError {
        path: path.to_owned(),
        source,
    };
    let reader = Reader::open_readfile(path).map_err(err)?;
    reader.verify().map_err(err)?;
    Ok(reader)
}

impl Geo {
    pub fn open(
        country: Option<&Path>,
        connection_type: Option<&Path>,
        city: bool,
    ) -> Result<Self, GeoError> {
        Ok(Self {
            country: country.map(open).transpose()?,
            connection: connection_type.map(open).transpose()?,
            city,
        })
    }

    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut info = GeoInfo::default();
        if let Some(reader) = &self.country
            && let Ok(found) = reader.lookup(ip)
        {
            let text = |path: &[PathElement<'_>]| -> Option<String> {
                found.decode_path::<String>(path).ok().flatten()
            };
            info.country = text(ISO_CODE)
                .or_else(|| text(FLAT_CODE))
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(|c| c.to_ascii_uppercase());
            if self.city {
                info.region = text(REGION);
                info.city = text(CITY);
            }
        }
        if let Some(reader) = &self.connection
            && let Ok(found) = reader.lookup(ip)
        {
            info.connection_type = found.decode_path::<String>(CONNECTION).ok().flatten();
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/mmdb").join(name)
    }

    #[test]
    fn both_country_layouts() {
        let geo = Geo::open(
            Some(&testdata("maxmind-test/GeoIP2-City-Test.mmdb")),
            Some(&testdata("maxmind-test/GeoIP2-Connection-Type-Test.mmdb")),
            true,
        )
        .unwrap();
        let gb = geo.lookup("2.125.160.216".parse().unwrap());
        assert_eq!(gb.country.as_deref(), Some("GB"));
        assert!(gb.city.is_some());
        let flat = Geo::open(
            Some(&testdata("country-geo-whois/geo-whois-asn-country.mmdb")),
            None,
            false,
        )
        .unwrap();
        assert!(flat.lookup("8.8.8.8".parse().unwrap()).country.is_some());
        assert_eq!(flat.lookup("127.0.0.1".parse().unwrap()).country, None);
    }

    #[test]
    fn corrupt_files_fail_clearly() {
        for entry in std::fs::read_dir(testdata("bad")).unwrap() {
            let path = entry.unwrap().path();
            let err = Geo::open(Some(&path), None, false).err();
            let message = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("cannot be used"), "{} loaded: {message}", path.display());
        }
    }
}
