//! `etag-304`: every file carries an `ETag`, and a request that already has
//! that version (`If-None-Match` with the tag) gets `304 Not Modified` and
//! no body, while another tag gets the file.
//!
//! A reload in a browser sends the tag it was given back in
//! `If-None-Match`; a server that answers `304` saves sending the file
//! again. RFC 9110 §8.8.3 says what a tag looks like (quoted, perhaps with
//! `W/` before it), and §13.1.2 that `If-None-Match` compares weakly, so a
//! weak tag matches too: the check sends the tag exactly as it came.

use std::time::Duration;

use super::{describe, get_with, not_served};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "etag-304",
    stage: Stage::SingleThreaded,
    title: "files carry an ETag; If-None-Match with it gets 304 and no body, another tag the file",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Send an ETag with every file (a quoted string that changes when the file does: its size and modification time, say). When If-None-Match lists that tag, answer 304 Not Modified with the ETag and no body; otherwise serve the file.",
    run,
};

/// Whether `tag` is an entity tag as RFC 9110 §8.8.3 writes one:
/// `"opaque"` or `W/"opaque"`, with no `"` inside.
fn is_entity_tag(tag: &str) -> bool {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && !opaque[1..opaque.len() - 1].contains('"')
        && opaque.bytes().all(|b| b == 0x21 || b >= 0x23 || b == b'"')
}

fn run(probe: &Probe) -> Result<(), Failure> {
    let file = probe.site.file(fixture::STYLE);
    let target = Probe::target(fixture::STYLE);
    let (exchange, reply) = get_with(probe, fixture::STYLE, &[])?;
    if reply.status() != 200 || !file.is_in(&reply.body_with_excess()) {
        return Err(not_served(
            &format!("GET {target}"),
            &reply,
            &exchange,
            "text-files",
        ));
    }
    let Some(tag) = reply.header("ETag").map(str::trim).map(str::to_owned) else {
        return Err(Failure::of(
            format!("GET {target} came back with no ETag header"),
            &exchange,
        ));
    };
    if !is_entity_tag(&tag) {
        return Err(Failure::of(
            format!(
                "GET {target}: `ETag: {tag}` is not an entity tag, which is quoted: \"...\" or W/\"...\""
            ),
            &exchange,
        ));
    }

    // The tag it gave: 304, with no body.
    let headers = [("If-None-Match", tag.as_str())];
    let what = describe("GET", &target, &headers);
    let (exchange, reply) = get_with(probe, fixture::STYLE, &headers)?;
    if reply.status() != 304 {
        return Err(Failure::of(
            format!(
                "{what} (the tag it just gave) got {} instead of 304 Not Modified",
                reply.status()
            ),
            &exchange,
        ));
    }
    let after = reply.body_with_excess();
    if !after.is_empty() {
        return Err(Failure::of(
            format!(
                "{what} got 304, followed by {} bytes: a 304 has no body, so they would be read as the next response",
                after.len()
            ),
            &exchange,
        ));
    }

    // A tag it never gave: the file.
    let other = format!("\"grade-{}\"", probe.site.token);
    let headers = [("If-None-Match", other.as_str())];
    let what = describe("GET", &target, &headers);
    let (exchange, reply) = get_with(probe, fixture::STYLE, &headers)?;
    if reply.status() != 200 || !file.is_in(&reply.body_with_excess()) {
        let got = if reply.status() == 200 {
            format!(
                "200 without the file: {}",
                client::describe_bytes(&reply.body)
            )
        } else {
            reply.status().to_string()
        };
        return Err(Failure::of(
            format!("{what} (a tag the file never had) got {got}; expected 200 with the file"),
            &exchange,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_are_quoted_strings() {
        for tag in ["\"abc\"", "W/\"abc\"", "\"\"", "\"5f-1a2b\""] {
            assert!(is_entity_tag(tag), "{tag}");
        }
        for tag in ["abc", "\"abc", "W/abc", "\"a\"b\"", "w/\"abc\"", "\"a b\""] {
            assert!(!is_entity_tag(tag), "{tag}");
        }
    }
}
