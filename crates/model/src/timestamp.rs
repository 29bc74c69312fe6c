use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A point in time as the model's `iso8601` timestamps carry it: always written in UTC with
/// milliseconds (`2026-11-26T17:21:50.123Z`), read with any offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Truncates to milliseconds, the precision the wire carries, so that a value read back
    /// compares equal to the value written.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let ms = t.millisecond();
        Timestamp(
            t.replace_nanosecond(u32::from(ms) * 1_000_000)
                .expect("valid nanosecond"),
        )
    }

    pub fn from_unix_millis(ms: i64) -> Self {
        Timestamp(
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }

    pub fn unix_millis(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Parses an ISO-8601 / RFC 3339 date-time with any offset.
    pub fn parse(s: &str) -> Option<Self> {
        OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub fn to_iso8601(self) -> String {
        let t = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso8601())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ISO-8601 timestamp: {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_utc_with_millis() {
        let t = Timestamp::parse("2026-11-26T18:21:50.123456+01:00").unwrap();
        assert_eq!(t.to_iso8601(), "2026-11-26T17:21:50.123Z");
        assert_eq!(Timestamp::parse(&t.to_iso8601()), Some(t));
        assert_eq!(Timestamp::from_unix_millis(t.unix_millis()), t);
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
