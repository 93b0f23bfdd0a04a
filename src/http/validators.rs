//! Validators: how a client asks "has this file changed?" and gets a `304`.
//!
//! A browser that has a file keeps the validators the server sent with it,
//! and asks again with them (RFC 9110 §8.8 and §13):
//!
//! - `Last-Modified` comes back as `If-Modified-Since`. A date has whole
//!   seconds only, so a file changed twice in a second looks unchanged.
//! - `ETag`, an opaque tag that changes whenever the file does, comes back as
//!   `If-None-Match`. Ours is made of the file's length and its modification
//!   time in nanoseconds, as nginx makes its own from the length and the
//!   seconds: both come with the `stat` that finding the file costs anyway,
//!   so it costs one `format!`. A hash of the contents would notice a change
//!   that kept both (rare: a tool that restores the time), but costs reading
//!   every byte on every request.
//!
//! When both come, `If-None-Match` wins and the date is not looked at (RFC
//! 9110 §13.2.2). `If-Range` uses the same validators to ask for part of a
//! file only if it is still the one the client has the rest of.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Request, date};

// ANCHOR: etag
/// The strong `ETag` of a file of `len` bytes modified at `modified`, with
/// `suffix` for a representation of it other than its own bytes (`-gzip`).
pub fn etag(len: u64, modified: SystemTime, suffix: &str) -> String {
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("\"{len:x}-{nanos:x}{suffix}\"")
}
// ANCHOR_END: etag

/// Whether `tag` is weak (`W/"..."`): it promises the same meaning, not the
/// same bytes.
fn is_weak(tag: &str) -> bool {
    tag.starts_with("W/")
}

/// The opaque part of a tag, quotes included: `W/"x"` and `"x"` share `"x"`.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The entity tags of a list such as `"a", W/"b"`, or `None` for `*`.
/// Entries that are not tags are skipped. A tag may hold a comma, so the
/// list is read a tag at a time, not split on commas.
fn tags(list: &str) -> Option<Vec<&str>> {
    if list.trim() == "*" {
        return None;
    }
    let mut found = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(found);
        }
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let prefix = rest.len() - quoted.len();
        match quoted.strip_prefix('"').and_then(|inside| inside.find('"')) {
            Some(end) => {
                let len = prefix + end + 2;
                found.push(&rest[..len]);
                rest = &rest[len..];
            }
            // Not a tag: skip to the next comma.
            None => match rest.find(',') {
                Some(comma) => rest = &rest[comma..],
                None => return Some(found),
            },
        }
    }
}

// ANCHOR: if_none_match
/// Whether the client's copy is the one we would send (`304`): the tag of
/// the representation chosen, `etag`, is in `If-None-Match` by the weak
/// comparison (RFC 9110 §8.8.3.2); or, only when there is no
/// `If-None-Match`, the file is no newer than `If-Modified-Since`.
pub fn not_modified(request: &Request, etag: Option<&str>, modified: Option<SystemTime>) -> bool {
    if let Some(list) = request.header("if-none-match") {
        return match (tags(list), etag) {
            // `*`: any current representation matches.
            (None, _) => true,
            (Some(tags), Some(ours)) => tags.iter().any(|tag| opaque(tag) == opaque(ours)),
            (Some(_), None) => false,
        };
    }
    let (Some(modified), Some(since)) = (
        modified,
        request.header("if-modified-since").and_then(date::parse),
    ) else {
        return false;
    };
    date::whole_seconds(modified) <= since
}
// ANCHOR_END: if_none_match

// ANCHOR: if_range
/// Whether a `Range` may be honoured: there is no `If-Range`, or it names the
/// file as it is now. A tag must match by the strong comparison (a weak tag
/// never does: parts of two different byte sequences do not make a file); a
/// date must be exactly the file's `Last-Modified`.
pub fn range_still_valid(
    request: &Request,
    etag: Option<&str>,
    modified: Option<SystemTime>,
) -> bool {
    let Some(condition) = request.header("if-range") else {
        return true;
    };
    if condition.starts_with('"') || condition.starts_with("W/") {
        return etag.is_some_and(|ours| !is_weak(condition) && !is_weak(ours) && condition == ours);
    }
    match (date::parse(condition), modified) {
        (Some(date), Some(modified)) => date::whole_seconds(modified) == date,
        _ => false,
    }
}
// ANCHOR_END: if_range

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::http::request::{Status, parse_head};
    use std::time::Duration;

    fn with(header: &str) -> Request {
        let head = format!("GET / HTTP/1.1\r\nHost: x\r\n{header}\r\n\r\n");
        match parse_head(head.as_bytes(), &Limits::default()) {
            Ok(Status::Complete(request, _)) => request,
            other => panic!("{other:?}"),
        }
    }

    const TAG: &str = "\"5-3e8\"";

    fn when() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn an_etag_changes_with_the_length_the_time_and_the_representation() {
        let time = UNIX_EPOCH + Duration::from_nanos(1000);
        assert_eq!(etag(5, time, ""), TAG);
        assert_ne!(etag(6, time, ""), TAG);
        // A microsecond: Windows keeps times in steps of 100 ns.
        assert_ne!(etag(5, time + Duration::from_micros(1), ""), TAG);
        assert_eq!(etag(5, time, "-gzip"), "\"5-3e8-gzip\"");
    }

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        for list in [
            TAG,
            "W/\"5-3e8\"",
            "\"other\", \"5-3e8\"",
            "\"a,b\",\"5-3e8\"",
            "  *  ",
            "junk, \"5-3e8\"",
        ] {
            let request = with(&format!("If-None-Match: {list}"));
            assert!(not_modified(&request, Some(TAG), None), "{list}");
        }
        for list in ["\"other\"", "\"5-3e8", "5-3e8", "\"a,\"5-3e8\"\"", ""] {
            let request = with(&format!("If-None-Match: {list}"));
            assert!(!not_modified(&request, Some(TAG), None), "{list}");
        }
    }

    /// RFC 9110 §13.2.2: with `If-None-Match`, the date is not looked at,
    /// even when it alone would say "not modified".
    #[test]
    fn if_none_match_takes_precedence_over_the_date() {
        let date = date::format(when());
        let both = with(&format!(
            "If-None-Match: \"other\"\r\nIf-Modified-Since: {date}"
        ));
        assert!(!not_modified(&both, Some(TAG), Some(when())));
        let date_only = with(&format!("If-Modified-Since: {date}"));
        assert!(not_modified(&date_only, Some(TAG), Some(when())));
    }

    #[test]
    fn if_range_needs_a_strong_match_or_the_exact_date() {
        assert!(range_still_valid(&with("X: 1"), Some(TAG), None));
        let strong = with(&format!("If-Range: {TAG}"));
        assert!(range_still_valid(&strong, Some(TAG), None));
        let weak = with("If-Range: W/\"5-3e8\"");
        assert!(!range_still_valid(&weak, Some(TAG), None));
        assert!(!range_still_valid(
            &with("If-Range: \"old\""),
            Some(TAG),
            None
        ));
        let date = date::format(when());
        let dated = with(&format!("If-Range: {date}"));
        assert!(range_still_valid(&dated, Some(TAG), Some(when())));
        let later = when() + Duration::from_secs(1);
        assert!(!range_still_valid(&dated, Some(TAG), Some(later)));
        let nonsense = with("If-Range: soon");
        assert!(!range_still_valid(&nonsense, Some(TAG), Some(when())));
    }
}
