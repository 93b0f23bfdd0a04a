//! HTTP dates (RFC 9110 §5.6.7), by the [`httpdate`] crate.
//!
//! Servers send one format, the IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), but must
//! accept all three that HTTP has used, so [`parse`] also reads the obsolete RFC 850 and
//! C `asctime()` forms that old clients may still put in `If-Modified-Since`.
//!
//! `httpdate` covers the years 1970 to 9999 and panics outside them. A server's clock
//! is inside; a file's modification time need not be (`touch -d 1960-01-01`), so every
//! time is brought into that range before it is formatted.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use httpdate::HttpDate;

/// The last second `httpdate` can write: 9999-12-31 23:59:59.
const LAST: Duration = Duration::from_secs(253_402_300_799);

/// `time` as `httpdate` takes it: whole seconds, from 1970 to 9999.
fn http_date(time: SystemTime) -> HttpDate {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    HttpDate::from(UNIX_EPOCH + since.min(LAST))
}

/// Formats `time` as an IMF-fixdate, the only format a server may send.
pub fn format(time: SystemTime) -> String {
    http_date(time).to_string()
}

/// The `Date` header's value for this moment: `format(SystemTime::now())`,
/// made at most once a second on each thread, as nginx keeps its own.
///
/// A date changes once a second, and a busy server sends thousands a second:
/// formatting each anew would cost more than the rest of the head.
pub fn now() -> Rc<str> {
    thread_local! {
        static LAST: RefCell<(u64, Rc<str>)> = RefCell::new((u64::MAX, Rc::from("")));
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    LAST.with_borrow_mut(|(made, text)| {
        if *made != second {
            (*made, *text) = (second, Rc::from(format(now)));
        }
        Rc::clone(text)
    })
}

/// Truncates a time to whole seconds, the precision of an HTTP date.
///
/// File modification times have nanoseconds; without this a file would never
/// match the `If-Modified-Since` date we sent for it ourselves.
pub fn whole_seconds(time: SystemTime) -> SystemTime {
    http_date(time).into()
}

/// Parses any of the three HTTP date formats. Anything else is `None`, and the
/// caller must then act as if the header were absent (RFC 9110 §13.1.3).
pub fn parse(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text).ok()
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
    fn rejects_dates_that_are_not_http_dates() {
        for text in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun Nov  6 08:49:37 99999999999999999",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    /// A file dated before 1970 or after 9999 is served with the nearest date
    /// there is, not a panic.
    #[test]
    fn times_outside_httpdates_range_are_clamped() {
        let before = UNIX_EPOCH - Duration::from_secs(86_400 * 365);
        assert_eq!(format(before), "Thu, 01 Jan 1970 00:00:00 GMT");
        let after = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format(after), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(whole_seconds(before), UNIX_EPOCH);
    }

    /// The cached date is the date now, to the second.
    #[test]
    fn now_is_the_date_now() {
        let before = format(SystemTime::now());
        let cached = now();
        let after = format(SystemTime::now());
        assert!(*cached == before || *cached == after, "{cached}");
        assert_eq!(parse(&cached).map(|_| ()), Some(()));
    }

    #[test]
    fn whole_seconds_drops_the_fraction() {
        let time = UNIX_EPOCH + Duration::from_millis(RFC_EXAMPLE * 1000 + 999);
        assert_eq!(
            whole_seconds(time),
            UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE)
        );
    }
}
