//! Time as stored in the database: integer Unix milliseconds (portable across SQLite and
//! PostgreSQL, totally ordered, cheap to index).

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Formats stored milliseconds as an RFC 3339 UTC timestamp (as SCIM's `meta` and the console show
/// them).
pub fn to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_milliseconds_as_utc() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(to_rfc3339(1_764_547_200_123), "2025-12-01T00:00:00.123Z");
    }
}
