//! Fuzzes the request parser with whatever bytes libFuzzer comes up with.
//!
//! A crash is any panic: an index out of range, an overflow (the fuzz build
//! checks arithmetic), or one of the assertions below, which state what must
//! hold for every input:
//!
//! - scanning the bytes in two reads, split where the first byte says, ends
//!   the same way as scanning them in one;
//! - a parsed request's target decodes to segments that cannot climb out of
//!   the root;
//! - the date parser survives every header value, and the input itself.

#![no_main]

use libfuzzer_sys::fuzz_target;

use multithreaded_server::http::request::{HeadScanner, Status, parse, parse_head};
use multithreaded_server::http::{Limits, date, files};

/// Small limits, so that short inputs reach them too.
const SMALL: Limits = Limits {
    request_line: 48,
    header_bytes: 96,
    header_count: 4,
    body: 100,
    upload: 0,
};

fuzz_target!(|data: &[u8]| {
    // The whole input as a date too: header values reach the date parser
    // only through a complete, valid head, which mutations rarely keep.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = date::parse(text);
    }
    for limits in [Limits::default(), SMALL] {
        let whole = HeadScanner::new().scan(data, &limits);
        if let Some(&first) = data.first() {
            let cut = usize::from(first) % (data.len() + 1);
            let mut scanner = HeadScanner::new();
            let in_two = match scanner.scan(&data[..cut], &limits) {
                Ok(None) => scanner.scan(data, &limits),
                done => done,
            };
            assert_eq!(in_two, whole, "split at {cut}");
        }

        if let Ok(Status::Complete(request, len)) = parse_head(data, &limits) {
            assert!(len <= data.len());
            let _ = request.wants_keep_alive();
            let _ = request.line();
            for header in &request.headers {
                let _ = date::parse(&header.value);
            }
            if let Ok(path) = files::decode_path(&request.target) {
                for segment in &path.segments {
                    assert!(!segment.is_empty() && segment != "." && segment != "..");
                    assert!(!segment.contains(['/', '\\', '\0']));
                }
            }
        }
        // `parse` on its own, with bytes the scanner never checked.
        let _ = parse(data, &limits);
    }
});
