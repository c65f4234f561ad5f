//! Timestamps, in UTC, one place for every format CloudOps writes (on `jiff`).

use std::time::SystemTime;

use jiff::Timestamp;

fn timestamp(time: SystemTime) -> Timestamp {
    // Past the years jiff spans (±9999): no clock or AWS answer gives such times.
    Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// RFC 3339 in UTC, to the second: `2026-11-25T08:00:00Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = Timestamp::from_second(timestamp(time).as_second()).unwrap_or_default();
    seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current time as [`rfc3339`].
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// RFC 3339 in UTC, to the millisecond: `2026-11-26T10:15:00.123Z`.
pub fn rfc3339_millis(time: SystemTime) -> String {
    let time = timestamp(time);
    let millis = time.subsec_millisecond();
    let seconds = Timestamp::from_second(time.as_second()).unwrap_or_default();
    format!("{}.{millis:03}Z", seconds.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// Compact ISO 8601 in UTC, to the second, for identifiers: `20261126T101500Z`.
pub fn compact(time: SystemTime) -> String {
    timestamp(time).strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// `YYYYMMDDHHMM` in UTC: the one free value a playbook's arguments may carry.
pub fn minute_stamp(time: SystemTime) -> String {
    timestamp(time).strftime("%Y%m%d%H%M").to_string()
}

/// An RFC 3339 timestamp (any offset), `None` when `text` is not one.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    text.trim().parse::<Timestamp>().ok().and_then(|time| SystemTime::try_from(time).ok())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(seconds: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
    }

    #[test]
    fn every_format_in_utc() {
        let cases = [
            (
                at(0, 0),
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00.000Z",
                "19700101T000000Z",
                "197001010000",
            ),
            (
                at(1_709_210_096, 7),
                "2024-02-29T12:34:56Z",
                "2024-02-29T12:34:56.007Z",
                "20240229T123456Z",
                "202402291234",
            ),
            (
                at(1_795_651_200, 999),
                "2026-11-26T00:00:00Z",
                "2026-11-26T00:00:00.999Z",
                "20261126T000000Z",
                "202611260000",
            ),
        ];
        for (time, seconds, millis, compact_form, minutes) in cases {
            assert_eq!(rfc3339(time), seconds);
            assert_eq!(rfc3339_millis(time), millis);
            assert_eq!(compact(time), compact_form);
            assert_eq!(minute_stamp(time), minutes);
            assert_eq!(
                parse_rfc3339(seconds),
                Some(
                    time - Duration::from_millis(
                        time.duration_since(UNIX_EPOCH).expect("after").subsec_millis().into()
                    )
                )
            );
        }
        assert_eq!(parse_rfc3339("2026-11-26T01:00:00+01:00"), Some(at(1_795_651_200, 0)));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_secs(5)), "1969-12-31T23:59:55Z");
    }
}
