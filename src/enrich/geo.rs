//! Country (and, if configured, region and city) and connection type from MaxMind-DB
//! files. The IP address is looked up in memory and never leaves this function.
//!
//! Two country layouts are read: GeoIP2/GeoLite2 (`country.iso_code`) and the flat
//! `country_code` of the free DB-IP / ip-location-db / geo-whois files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{MaxMindDbError, PathElement, Reader, WithinOptions};

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

const ISO_CODE: &[PathElement<'static>] =
    &[PathElement::Key("country"), PathElement::Key("iso_code")];
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

/// Opens and fully checks a database, so a corrupt file fails at start-up, not at
/// the first unlucky visitor.
fn open(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let err = |source| GeoError {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(|e| err(MaxMindDbError::Io(e)))?;
    check(&Reader::from_source(bytes.as_slice()).map_err(err)?, &bytes).map_err(err)?;
    Reader::from_source(bytes).map_err(err)
}

fn check(reader: &Reader<&[u8]>, bytes: &[u8]) -> Result<(), MaxMindDbError> {
    match reader.verify() {
        Ok(()) => Ok(()),
        // `verify` also rejects an empty metadata `description`, which real files
        // (geo-whois) have; for those, check the tree and every record ourselves.
        Err(e) if e.to_string().contains("description") => {
            check_tree(reader, bytes)?;
            for network in reader.networks(WithinOptions::default())? {
                network?.decode::<serde::de::IgnoredAny>()?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Every record of every node must point to a node other than the root, to "no
/// data", or into the data section (the MaxMind DB format, "Search Tree Section").
fn check_tree(reader: &Reader<&[u8]>, bytes: &[u8]) -> Result<(), MaxMindDbError> {
    const MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";
    let bad = |what: &str| MaxMindDbError::invalid_database(format!("corrupt search tree: {what}"));
    let meta = reader.metadata();
    let nodes = usize::try_from(meta.node_count).map_err(|_| bad("node count"))?;
    let node_bytes = match meta.record_size {
        24 => 6,
        28 => 7,
        32 => 8,
        _ => return Err(bad("record size")),
    };
    let tree_end = nodes
        .checked_mul(node_bytes)
        .ok_or_else(|| bad("node count"))?;
    let metadata_at = bytes
        .windows(MARKER.len())
        .rposition(|w| w == MARKER)
        .ok_or_else(|| bad("no metadata marker"))?;
    let data_len = metadata_at
        .checked_sub(tree_end + 16)
        .ok_or_else(|| bad("the tree overlaps the metadata"))?;
    if bytes[tree_end..tree_end + 16].iter().any(|&b| b != 0) {
        return Err(bad(
            "no data-section separator where the node count puts it",
        ));
    }
    let be = |b: &[u8]| b.iter().fold(0usize, |acc, &x| acc << 8 | usize::from(x));
    for node in bytes[..tree_end].chunks_exact(node_bytes) {
        let (left, right) = match node_bytes {
            6 => (be(&node[..3]), be(&node[3..])),
            7 => (
                usize::from(node[3] >> 4) << 24 | be(&node[..3]),
                usize::from(node[3] & 0x0f) << 24 | be(&node[4..]),
            ),
            _ => (be(&node[..4]), be(&node[4..])),
        };
        for record in [left, right] {
            let in_data = record
                .checked_sub(nodes + 16)
                .is_some_and(|offset| offset < data_len);
            if record > nodes && !in_data {
                return Err(bad("a record points outside the file's data"));
            }
            // Nothing points back to the root: such a record would make a cycle.
            if record == 0 {
                return Err(bad("a record points back to the root"));
            }
        }
    }
    Ok(())
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
            // Borrowed from the database: only what is kept is copied, once.
            let text = |path: &[PathElement<'_>]| -> Option<&str> {
                found.decode_path::<&str>(path).ok().flatten()
            };
            info.country = text(ISO_CODE)
                .or_else(|| text(FLAT_CODE))
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase);
            if self.city {
                // ISO 3166-2, as the Stats API gives regions: `GB-ENG`.
                info.region = text(REGION)
                    .zip(info.country.as_deref())
                    .map(|(r, c)| format!("{c}-{r}"));
                info.city = text(CITY).map(str::to_owned);
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
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mmdb")
            .join(name)
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
            Some(&testdata("flat-country/flat-country.mmdb")),
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
            assert!(
                message.contains("cannot be used"),
                "{} loaded: {message}",
                path.display()
            );
        }
    }
}
