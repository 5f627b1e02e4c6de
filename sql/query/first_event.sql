-- The first stored event of a site (for date_range "all"), µs since the epoch.
SELECT epoch_us(min(ts)) FROM events WHERE site = ?;
