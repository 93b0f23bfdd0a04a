//! `content-length`: the body of every file is framed so that a client knows
//! where it ends: a `Content-Length` that counts its bytes, or chunks (RFC
//! 9112 §7.1) that decode to it.
//!
//! HTTP also lets a response without either run to the close, but then a
//! client cannot tell a whole file from one cut off half-way, a browser shows
//! no progress, and the connection can never be kept alive: the course asks
//! for a length. Only the files the server sends with `200` are judged; one it
//! will not serve is the file checks' to fail, and is noted here.

use std::time::Duration;

use super::TOP_FILES;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::expect_200;
use crate::probe::Probe;
use crate::response::{Ending, Framing};
use course::Stage;

pub static CHECK: Check = Check {
    id: "content-length",
    stage: Stage::SingleThreaded,
    title: "Content-Length is the number of bytes in the body (or the body is chunked)",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Content-Length counts bytes, not characters: take the length of the encoded body, after any conversion.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let mut seen = Vec::new();
    let mut not_served = Vec::new();
    for path in TOP_FILES {
        let (reply, exchange) = match expect_200(probe, path) {
            Ok(served) => served,
            // No answer at all is not a file the server refuses: it is the
            // server failing under this check, which says so.
            Err(failure) if failure.blocked.is_some() => return Err(failure),
            Err(failure) => {
                not_served.push(format!("/{path} ({})", failure.problem));
                continue;
            }
        };
        let values: Vec<&str> = reply.head.headers_named("Content-Length").collect();
        if reply.framing == Framing::Chunked {
            if !values.is_empty() {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: both Transfer-Encoding: chunked and Content-Length; send one or the other"
                    ),
                    &exchange,
                ));
            }
            if let Ending::Broken(error) = &reply.ending {
                return Err(Failure::of(format!("GET /{path}: {error}"), &exchange)
                    .hint("Each chunk is its size in hex, CRLF, exactly that many bytes, CRLF; the body ends with a chunk of size 0 and a blank line."));
            }
            if !reply.is_complete() {
                return Err(Failure::of(
                    format!("GET /{path}: the chunked body never reached its last chunk"),
                    &exchange,
                ));
            }
            seen.push("chunked");
            continue;
        }
        let body = reply.body_with_excess().len();
        match values[..] {
            [] => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: no Content-Length header (and not chunked), so a client cannot tell where the body ends, nor a whole file from one cut short"
                    ),
                    &exchange,
                )
                .hint("Send `Content-Length: N` with every response, N being the number of bytes in its body (the file's size), between the other headers and the blank line."));
            }
            [value] if value.trim().parse() == Ok(body) => seen.push("Content-Length"),
            [value] => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: Content-Length says {value}, but the body has {body} bytes"
                    ),
                    &exchange,
                ));
            }
            _ => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: {} Content-Length headers; send exactly one",
                        values.len()
                    ),
                    &exchange,
                ));
            }
        }
    }
    if seen.is_empty() {
        return Err(Failure::new(format!(
            "none of the files came back with 200, so there was no body to measure: {}",
            not_served.join("; ")
        ))
        .unless(
            "a file served with 200",
            &["connects", "text-files", "binary-files"],
        ));
    }
    if !not_served.is_empty() {
        probe.note(format!(
            "not judged here, as they did not come back with 200 (the file checks judge that): {}",
            not_served.join("; ")
        ));
    }
    seen.sort_unstable();
    seen.dedup();
    probe.note(format!("framing seen: {}", seen.join(" and ")));
    Ok(())
}
