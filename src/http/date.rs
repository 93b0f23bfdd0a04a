//! HTTP dates (RFC 9110 §5.6.7), written by hand so the crate needs no calendar library.
//!
//! Servers send one format, the IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), but must
//! accept all three that HTTP has used, so [`parse`] also reads the obsolete RFC 850 and
//! C `asctime()` forms that old clients may still put in `If-Modified-Since`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 1970-01-01 was a Thursday, so day 0 of the epoch is index 0 here.
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whole seconds since the Unix epoch; times before it count as the epoch itself.
fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

/// Formats `time` as an IMF-fixdate, the only format a server may send.
pub fn format(time: SystemTime) -> String {
    let secs = epoch_seconds(time);
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rest = secs % 86_400;
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        day,
        MONTHS[month as usize - 1],
        year,
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The time of day in UTC as `HH:MM:SS.mmm`, for the request log.
pub fn clock(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let rest = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Truncates a time to whole seconds, the precision of an HTTP date.
///
/// File modification times have nanoseconds; without this a file would never
/// match the `If-Modified-Since` date we sent for it ourselves.
pub fn whole_seconds(time: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(epoch_seconds(time))
}

/// Parses any of the three HTTP date formats. Anything else is `None`, and the
/// caller must then act as if the header were absent (RFC 9110 §13.1.3).
pub fn parse(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [weekday, day, month, year, time, "GMT"] if weekday.ends_with(',') => {
            if day.len() != 2 || year.len() != 4 {
                return None;
            }
            (*day, *month, year.parse::<i64>().ok()?, *time)
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [weekday, date, time, "GMT"] if weekday.ends_with(',') => {
            let mut fields = date.split('-');
            let (day, month, year) = (fields.next()?, fields.next()?, fields.next()?);
            if fields.next().is_some() || year.len() != 2 {
                return None;
            }
            // Two-digit years: RFC 9110 says to read one that looks more than 50 years
            // ahead as the past; with a 1970 epoch, 70-99 is the 1900s.
            let short: i64 = year.parse().ok()?;
            let year = if short >= 70 {
                1900 + short
            } else {
                2000 + short
            };
            (day, month, year, *time)
        }
        // asctime: Sun Nov  6 08:49:37 1994. The year is four digits here too: a
        // longer one would overflow the day count below.
        [_weekday, month, day, time, year] if year.len() == 4 => {
            (*day, *month, year.parse::<i64>().ok()?, *time)
        }
        _ => return None,
    };
    if !day.bytes().all(|b| b.is_ascii_digit()) || !(1..=2).contains(&day.len()) {
        return None;
    }
    let day: i64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|name| *name == month)? as i64 + 1;
    let mut clock = time.split(':');
    let mut field = |max: i64| -> Option<i64> {
        let text = clock.next()?;
        let value: i64 = text.parse().ok()?;
        (text.len() == 2 && (0..=max).contains(&value)).then_some(value)
    };
    let (hour, minute, second) = (field(23)?, field(59)?, field(60)?);
    if clock.next().is_some() || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// `civil_from_days`, which counts years from March so leap days fall last.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example date of RFC 9110, in seconds since the epoch.
    const RFC_EXAMPLE: u64 = 784_111_777;

    #[test]
    fn formats_the_rfc_example() {
        let time = UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE);
        assert_eq!(format(time), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn parses_all_three_formats_to_the_same_instant() {
        let expected = UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE);
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn round_trips_leap_days_and_century_edges() {
        for secs in [0, 951_782_400, 4_107_542_399, 1_709_164_800, 1_234_567_890] {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse(&format(time)), Some(time), "{}", format(time));
        }
    }

    #[test]
    fn rejects_dates_that_are_not_http_dates() {
        for text in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 99999999999999999",
            "Sun Nov  6 08:49:37 19940",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn clock_shows_utc_time_of_day_with_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(RFC_EXAMPLE * 1000 + 42);
        assert_eq!(clock(time), "08:49:37.042");
    }
}
