//! Referrer spam: hosts from a maintained public list (Matomo's referrer-spam-list,
//! `spammers.txt`, one host a line), read from a configured path at start-up. A
//! referrer matches when its host or any parent domain is listed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot read the referrer-spam list {path}: {source}")]
pub struct SpamListError {
    path: PathBuf,
    source: std::io::Error,
}

#[derive(Debug, Default)]
pub struct SpamList {
    hosts: HashSet<String>,
}

impl SpamList {
    pub fn load(path: &Path) -> Result<Self, SpamListError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpamListError {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::parse(&text))
    }

    pub fn parse(text: &str) -> Self {
        let hosts = text
            .lines()
            .map(|l| l.trim().trim_start_matches("www.").to_ascii_lowercase())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        Self { hosts }
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Whether `host` (already lower-cased) or one of its parent domains is listed.
    pub fn is_spam(&self, host: &str) -> bool {
        if self.hosts.is_empty() {
            return false;
        }
        let mut rest = host;
        loop {
            if self.hosts.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_parents_match() {
        let list = SpamList::parse("# comment\nbest-seo-offer.com\nwww.spam.example\n");
        assert!(list.is_spam("best-seo-offer.com"));
        assert!(list.is_spam("sub.best-seo-offer.com"));
        assert!(list.is_spam("spam.example"));
        assert!(!list.is_spam("seo-offer.com"));
        assert!(!list.is_spam("com"));
        assert!(!SpamList::default().is_spam("anything.com"));
    }
}
