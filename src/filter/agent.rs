//! What a request says about its agent, as the filter and the enrichment read it:
//! the User-Agent, cut to a bounded length, and its User-Agent Client Hints.

/// Longest User-Agent prefix that is parsed and used as cache key. Real
/// browser UAs are far shorter (1 in 165k of the isbot corpus exceeds it).
pub const MAX_UA_BYTES: usize = 512;

/// User-Agent Client Hints request headers, as raw header values.
#[derive(Default, Clone, Copy, Debug)]
pub struct ClientHints<'a> {
    /// `Sec-CH-UA`, e.g. `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`.
    pub brands: Option<&'a str>,
    /// `Sec-CH-UA-Mobile`: `?1` or `?0`.
    pub mobile: Option<&'a str>,
    /// `Sec-CH-UA-Platform`, quoted, e.g. `"Windows"`.
    pub platform: Option<&'a str>,
    /// `Sec-CH-UA-Platform-Version`, quoted, e.g. `"15.0.0"`.
    pub platform_version: Option<&'a str>,
    /// `Sec-CH-UA-Full-Version-List`, same shape as `brands` with full versions.
    pub full_version_list: Option<&'a str>,
}

/// Cuts `ua` to at most [`MAX_UA_BYTES`] bytes without splitting a character.
pub fn truncate_ua(ua: &str) -> &str {
    if ua.len() <= MAX_UA_BYTES {
        return ua;
    }
    let mut end = MAX_UA_BYTES;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    ua.get(..end).unwrap_or_default()
}
