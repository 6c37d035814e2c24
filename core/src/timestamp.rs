//! [`Timestamp`]: a moment as the app sees it. Inside it is Unix seconds, the unit of
//! credentials and locks; through the bindings it is the platform's own time type
//! (`java.time.Instant`, `Date`).

use keyway_api::calendar::civil_from_days;
use keyway_protocol::credential::UnixSeconds;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A moment, to the second (Unix seconds, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub UnixSeconds);

impl Timestamp {
    /// Unix seconds.
    pub fn unix(self) -> UnixSeconds {
        self.0
    }

    /// The same moment as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::from(self.0))
    }

    /// A [`SystemTime`] to the second (before 1970: 1970; past 2106: the last second).
    pub fn from_system_time(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self(UnixSeconds::try_from(secs).unwrap_or(UnixSeconds::MAX))
    }
}

impl From<UnixSeconds> for Timestamp {
    fn from(seconds: UnixSeconds) -> Self {
        Self(seconds)
    }
}

/// Stored in the key cache as Unix seconds.
impl rusqlite::ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(i64::from(self.0)))
    }
}

impl rusqlite::types::FromSql for Timestamp {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        UnixSeconds::column_result(value).map(Self)
    }
}

/// As a person reads it: `2026-12-05 14:03 UTC`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = i64::from(self.0) / 86_400;
        let rest = i64::from(self.0) % 86_400;
        let (year, month, day) = civil_from_days(days);
        write!(f, "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_reads_as_a_utc_date_and_time() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01 00:00 UTC");
        assert_eq!(Timestamp(1_796_479_380).to_string(), "2026-12-05 14:03 UTC");
        assert_eq!(Timestamp(951_782_400).to_string(), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn system_time_round_trips_to_the_second() {
        let t = Timestamp(1_796_479_380);
        assert_eq!(Timestamp::from_system_time(t.to_system_time()), t);
        assert_eq!(Timestamp::from_system_time(UNIX_EPOCH - Duration::from_secs(5)), Timestamp(0));
    }
}
