//! Enrich: turns identifying request data into coarse attributes. The page URL is
//! minimised (`page`), the referrer becomes a source and channel (`referrer`), the
//! User-Agent a browser/OS/device class (`ua`) and the IP a country and connection
//! type (`geo`). Only these results travel on; the raw inputs do not.

pub mod geo;
pub mod page;
pub mod referrer;
pub mod ua;
