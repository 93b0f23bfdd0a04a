//! `gzip`: a page asked for with `Accept-Encoding: gzip` comes gzipped,
//! with `Vary: Accept-Encoding`, and un-gzips to the file's exact bytes; a
//! client that refuses gzip (`gzip;q=0`) gets the page as it is.
//!
//! The page is `index.html`, a few hundred bytes of HTML: the one type
//! every server that compresses at all compresses (nginx's `gzip_types`
//! starts with `text/html` alone), and more than any minimum length. `Vary`
//! is part of the behaviour, not a nicety: without it a cache between the
//! two may hand the gzipped page to a client that never asked for it.

use std::io::Read;
use std::time::Duration;

use super::{describe, get_with, not_served};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "gzip",
    stage: Stage::SingleThreaded,
    title: "Accept-Encoding: gzip gets the page gzipped, with Vary: Accept-Encoding; gzip;q=0 gets it plain",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Read Accept-Encoding with its q-values (q=0 means \"not this\"). When gzip is acceptable, compress text types and send Content-Encoding: gzip; always send Vary: Accept-Encoding for a file you might compress.",
    run,
};

/// What a body that is not the file needed, when a server that changes
/// text files (their line ends, say) changes them here too.
const EXACT: &str = "text files served byte for byte";

/// Whether a header's comma-separated list names `token`, in any case.
fn lists(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|value| {
        value
            .split(',')
            .any(|item| item.trim().eq_ignore_ascii_case(token) || item.trim() == "*")
    })
}

/// The bytes gzip `body` holds, or why it holds none.
fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut bytes)
        .map(|_| bytes)
        .map_err(|error| error.to_string())
}

fn run(probe: &Probe) -> Result<(), Failure> {
    let file = probe.site.file(fixture::INDEX);
    let target = Probe::target(fixture::INDEX);

    let headers = [("Accept-Encoding", "gzip")];
    let what = describe("GET", &target, &headers);
    let (exchange, reply) = get_with(probe, fixture::INDEX, &headers)?;
    if reply.status() != 200 {
        return Err(not_served(&what, &reply, &exchange, "text-files"));
    }
    let encoding = reply.header("Content-Encoding").map(str::trim);
    if !encoding.is_some_and(|coding| coding.eq_ignore_ascii_case("gzip")) {
        return Err(Failure::of(
            format!(
                "{what} came back {}; expected Content-Encoding: gzip",
                encoding.map_or("with no Content-Encoding".to_owned(), |c| format!(
                    "with Content-Encoding: {c}"
                ))
            ),
            &exchange,
        ));
    }
    match gunzip(&reply.body) {
        Ok(bytes) if bytes == file.bytes => {}
        Ok(bytes) => {
            return Err(Failure::of(
                format!(
                    "{what}: the body un-gzips, but not to the file: {}",
                    client::first_difference(&file.bytes, &bytes)
                ),
                &exchange,
            )
            .unless(EXACT, &["text-files"]));
        }
        Err(error) => {
            return Err(Failure::of(
                format!("{what}: the body says gzip but is not gzip a client can read: {error}"),
                &exchange,
            ));
        }
    }
    if !lists(reply.header("Vary"), "Accept-Encoding") {
        return Err(Failure::of(
            format!(
                "{what} got it gzipped, with no Vary: Accept-Encoding: a cache would give the gzipped page to clients that cannot read it"
            ),
            &exchange,
        ));
    }

    let headers = [("Accept-Encoding", "gzip;q=0, identity")];
    let what = describe("GET", &target, &headers);
    let (exchange, reply) = get_with(probe, fixture::INDEX, &headers)?;
    if reply.status() != 200 {
        return Err(not_served(&what, &reply, &exchange, "text-files"));
    }
    if let Some(coding) = reply.header("Content-Encoding").map(str::trim)
        && !coding.eq_ignore_ascii_case("identity")
    {
        return Err(Failure::of(
            format!(
                "{what} came back with Content-Encoding: {coding}, which the client said with q=0 it does not take"
            ),
            &exchange,
        ));
    }
    if reply.body_with_excess()[..] != file.bytes[..] {
        return Err(Failure::of(
            format!(
                "{what}: the body is not the file: {}",
                client::first_difference(&file.bytes, &reply.body_with_excess())
            ),
            &exchange,
        )
        .unless(EXACT, &["text-files"]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_lists_are_read_as_lists() {
        assert!(lists(Some("Accept-Encoding"), "Accept-Encoding"));
        assert!(lists(Some("Origin, accept-encoding"), "Accept-Encoding"));
        assert!(lists(Some("*"), "Accept-Encoding"));
        assert!(!lists(Some("Accept-Language"), "Accept-Encoding"));
        assert!(!lists(None, "Accept-Encoding"));
    }
}
