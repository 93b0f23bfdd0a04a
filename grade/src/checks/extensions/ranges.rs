//! `range-206` and `range-416`: byte ranges, which resume a cut download
//! (`curl -C -`) and let a video seek.
//!
//! A server may ignore `Range` and send the whole file (RFC 9110 §14.2), but
//! a server graded for this extension must not: one range gets `206 Partial
//! Content` with `Content-Range` and exactly those bytes, in each of the
//! three forms (`a-b`, `a-`, `-n`), and a range that starts past the end
//! gets `416 Range Not Satisfiable` with `Content-Range: bytes */LEN`
//! (§15.5.17), which tells the client how long the file is.
//!
//! Both ask for `data.bin`, which holds every byte value: a range cut one
//! byte off shows at once.

use std::time::Duration;

use super::{describe, get_with};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static RANGE: Check = Check {
    id: "range-206",
    stage: Stage::SingleThreaded,
    title: "Range: bytes=a-b, a- and -n each get 206 with Content-Range and exactly those bytes",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Read the Range header: `bytes=a-b` is bytes a to b inclusive, `a-` from a to the end, `-n` the last n. Answer 206 Partial Content with `Content-Range: bytes FIRST-LAST/LENGTH`, a Content-Length of LAST-FIRST+1, and only those bytes.",
    run: run_range,
};

pub static UNSATISFIABLE: Check = Check {
    id: "range-416",
    // An error's answer: stages 1 and 2 close the connection on every error.
    stage: Stage::NotFound,
    title: "a range that starts past the end gets 416 with Content-Range: bytes */LENGTH",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "When the first byte asked for is at or past the end of the file, answer 416 Range Not Satisfiable with `Content-Range: bytes */LENGTH` (the file's length) and no part of the file.",
    run: run_unsatisfiable,
};

/// The ranges `range-206` asks for, in the `Range` header's words, and the
/// first and last byte each means in a file of `len` bytes.
fn ranges(len: usize) -> [(String, usize, usize); 3] {
    [
        ("bytes=1000-1999".to_owned(), 1000, 1999),
        (format!("bytes={}-", len - 700), len - 700, len - 1),
        ("bytes=-500".to_owned(), len - 500, len - 1),
    ]
}

fn run_range(probe: &Probe) -> Result<(), Failure> {
    let file = probe.site.file(fixture::DATA);
    let len = file.bytes.len();
    let target = Probe::target(fixture::DATA);
    for (range, first, last) in ranges(len) {
        let headers = [("Range", range.as_str())];
        let what = describe("GET", &target, &headers);
        let (exchange, reply) = get_with(probe, fixture::DATA, &headers)?;
        if reply.status() == 200 {
            // Served whole: the range ignored, or nothing wrong with the
            // file but this.
            return Err(Failure::of(
                format!(
                    "{what} got 200 with {} bytes: the Range header was ignored",
                    reply.body.len()
                ),
                &exchange,
            ));
        }
        if reply.status() != 206 {
            return Err(Failure::of(
                format!(
                    "{what} got {} instead of 206 Partial Content",
                    reply.status()
                ),
                &exchange,
            )
            .unless("the file served with 200", &["binary-files"]));
        }
        let expected = format!("bytes {first}-{last}/{len}");
        let content_range = reply.header("Content-Range").map(str::trim);
        if content_range != Some(expected.as_str()) {
            return Err(Failure::of(
                format!(
                    "{what} got 206 with Content-Range {}; expected `{expected}`",
                    content_range.map_or("missing".to_owned(), |value| format!("`{value}`"))
                ),
                &exchange,
            ));
        }
        let want = &file.bytes[first..=last];
        if reply.body != want {
            let difference = client::first_difference(want, &reply.body);
            return Err(Failure::of(
                format!(
                    "{what}: the body is not bytes {first} to {last} of the file: {difference}"
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}

fn run_unsatisfiable(probe: &Probe) -> Result<(), Failure> {
    let len = probe.site.file(fixture::DATA).bytes.len();
    let target = Probe::target(fixture::DATA);
    let range = format!("bytes={len}-");
    let headers = [("Range", range.as_str())];
    let what = format!(
        "{} (the file has {len} bytes)",
        describe("GET", &target, &headers)
    );
    let (exchange, reply) = get_with(probe, fixture::DATA, &headers)?;
    if reply.status() == 200 {
        // A server that ignores every range answers this one with the whole
        // file too: that is range-206's fault, and this check cannot tell.
        return Err(Failure::of(
            format!("{what} got 200 with the whole file instead of 416"),
            &exchange,
        )
        .unless("a server that serves ranges", &["range-206"]));
    }
    if reply.status() != 416 {
        return Err(Failure::of(
            format!(
                "{what} got {} instead of 416 Range Not Satisfiable",
                reply.status()
            ),
            &exchange,
        ));
    }
    let expected = format!("bytes */{len}");
    let content_range = reply.header("Content-Range").map(str::trim);
    if content_range != Some(expected.as_str()) {
        return Err(Failure::of(
            format!(
                "{what} got 416 with Content-Range {}; expected `{expected}`, which tells the client the file's length",
                content_range.map_or("missing".to_owned(), |value| format!("`{value}`"))
            ),
            &exchange,
        ));
    }
    Ok(())
}
