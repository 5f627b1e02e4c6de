//! API keys: the config holds only blake3 digests of the keys (`spoorloos hash-key`
//! makes one). A presented Bearer key is hashed and compared with every configured
//! digest in constant time (`blake3::Hash` equality is), so neither the keys nor
//! their prefixes leak through timing. Keys are never logged.

use crate::config::ApiKeyConfig;

use super::QueryError;

#[derive(Debug)]
struct Key {
    hash: blake3::Hash,
    /// `None`: every site.
    sites: Option<Vec<String>>,
}

#[derive(Debug, Default)]
pub struct Keys {
    keys: Vec<Key>,
}

/// The hex digest to put in the config for `key`.
pub fn hash_key(key: &str) -> String {
    blake3::hash(key.trim().as_bytes()).to_hex().to_string()
}

impl Keys {
    /// From validated config entries (malformed hashes were refused at start-up).
    pub fn new(config: &[ApiKeyConfig]) -> Self {
        let keys = config
            .iter()
            .filter_map(|k| {
                Some(Key {
                    hash: blake3::Hash::from_hex(k.hash.trim()).ok()?,
                    sites: (!k.sites.is_empty()).then(|| k.sites.clone()),
                })
            })
            .collect();
        Self { keys }
    }

    /// Checks an `Authorization` header value for reading `site`.
    pub fn authorize(&self, authorization: Option<&str>, site: &str) -> Result<(), QueryError> {
        let key = self.find(authorization)?;
        match &key.sites {
            Some(sites) if !sites.iter().any(|s| s == site) => {
                Err(QueryError::Forbidden(site.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// Checks an `Authorization` header value before anything else of its request is
    /// read: whether it is one of the keys at all (the error says why not).
    pub fn check(&self, authorization: Option<&str>) -> Result<(), QueryError> {
        self.find(authorization).map(|_| ())
    }

    fn find(&self, authorization: Option<&str>) -> Result<&Key, QueryError> {
        let presented = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(QueryError::MissingKey)?;
        let hash = blake3::hash(presented.as_bytes());
        // Compare with every key, not stopping at the first match.
        let mut found: Option<&Key> = None;
        for key in &self.keys {
            if key.hash == hash {
                found = Some(key);
            }
        }
        found.ok_or(QueryError::BadKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_sites() {
        let keys = Keys::new(&[ApiKeyConfig {
            name: "marketing".into(),
            hash: hash_key("secret"),
            sites: vec!["a.com".into()],
        }]);
        assert!(keys.authorize(Some("Bearer secret"), "a.com").is_ok());
        assert!(matches!(
            keys.authorize(Some("Bearer secret"), "b.com"),
            Err(QueryError::Forbidden(_))
        ));
        assert!(matches!(
            keys.authorize(Some("Bearer nope"), "a.com"),
            Err(QueryError::BadKey)
        ));
        assert!(matches!(
            keys.authorize(None, "a.com"),
            Err(QueryError::MissingKey)
        ));
    }
}
