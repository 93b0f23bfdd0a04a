//! Byte ranges: part of a file, for a download that resumes (`curl -C -`) or
//! a video that seeks (RFC 9110 §14).
//!
//! A client asks with `Range: bytes=FIRST-LAST` (both included), `bytes=500-`
//! (from 500 to the end) or `bytes=-500` (the last 500), and gets `206
//! Partial Content` with `Content-Range: bytes 500-999/1000`. A range that
//! starts past the end gets `416 Range Not Satisfiable` with
//! `Content-Range: bytes */1000`, so the client learns the length.
//!
//! **Several ranges** (`bytes=0-9,20-29`) could be sent as one
//! `multipart/byteranges` body. We send the whole file with `200` instead,
//! which RFC 9110 §14.2 allows (a server may ignore `Range`): browsers and
//! download tools ask for one range at a time, and a server that answers
//! many ranges, overlapping ones too, can be made to send a file many times
//! over for one request (Apache's "Range header DoS", CVE-2011-3192). A
//! `Range` we cannot read, or in a unit other than bytes, is ignored too.

/// What a `Range` header asks of a file of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranged {
    /// Send the whole file (no range, several, or one we cannot read).
    Whole,
    /// Send bytes `first..=last`.
    Part { first: u64, last: u64 },
    /// The range starts past the end: `416`.
    Unsatisfiable,
}

// ANCHOR: parse_range
/// Reads a `Range` header's value for a file of `len` bytes.
pub fn parse(value: &str, len: u64) -> Ranged {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ranged::Whole; // another unit, or not a range at all
    };
    if spec.contains(',') {
        return Ranged::Whole; // several ranges: see the module's docs
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ranged::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse().ok()).flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-500`: the last 500 bytes, or all of a shorter file.
        (true, _, Some(0)) => Ranged::Unsatisfiable,
        (true, _, Some(_)) if len == 0 => Ranged::Unsatisfiable,
        (true, _, Some(suffix)) => Ranged::Part {
            first: len.saturating_sub(suffix),
            last: len - 1,
        },
        (false, Some(first), _) if first >= len => Ranged::Unsatisfiable,
        // `500-`: to the end.
        (false, Some(first), None) if last.trim().is_empty() => Ranged::Part {
            first,
            last: len - 1,
        },
        // `500-999`, with a last byte past the end meaning the end.
        (false, Some(first), Some(last)) if first <= last => Ranged::Part {
            first,
            last: last.min(len - 1),
        },
        _ => Ranged::Whole,
    }
}
// ANCHOR_END: parse_range

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Ranged {
        Ranged::Part { first, last }
    }

    #[test]
    fn the_three_forms_of_a_range() {
        assert_eq!(parse("bytes=0-9", 100), part(0, 9));
        assert_eq!(parse("bytes=90-", 100), part(90, 99));
        assert_eq!(parse("bytes=-10", 100), part(90, 99));
        assert_eq!(parse(" bytes=5-5 ", 100), part(5, 5));
    }

    #[test]
    fn ranges_past_the_end_are_cut_to_it() {
        assert_eq!(parse("bytes=90-1000", 100), part(90, 99));
        assert_eq!(parse("bytes=-1000", 100), part(0, 99));
        assert_eq!(parse("bytes=0-18446744073709551615", 100), part(0, 99));
    }

    #[test]
    fn a_range_that_starts_past_the_end_is_unsatisfiable() {
        assert_eq!(parse("bytes=100-", 100), Ranged::Unsatisfiable);
        assert_eq!(parse("bytes=100-200", 100), Ranged::Unsatisfiable);
        assert_eq!(parse("bytes=-0", 100), Ranged::Unsatisfiable);
        assert_eq!(parse("bytes=0-", 0), Ranged::Unsatisfiable);
        assert_eq!(parse("bytes=-5", 0), Ranged::Unsatisfiable);
    }

    /// What cannot be read as one range of bytes gets the whole file.
    #[test]
    fn anything_else_is_the_whole_file() {
        for value in [
            "bytes=0-9,20-29",
            "bytes=9-0",
            "bytes=-",
            "bytes=",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=99999999999999999999-",
            "items=0-9",
            "0-9",
            "",
        ] {
            assert_eq!(parse(value, 100), Ranged::Whole, "{value:?}");
        }
    }
}
