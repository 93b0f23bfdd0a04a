//! The extensions' checks: HTTP beyond what the stages need, graded only
//! when asked for (`grade --with validators,ranges,compression,uploads`).
//! Each file is one extension; [`super::EXTENSIONS`] lists which checks are
//! whose.
//!
//! A check here asks for files the stage checks have already judged served,
//! with one header more. When the plain file cannot be had, the fault is
//! the stage check's (`text-files`, `binary-files`), and the verdict here is
//! "not judged", never a second failure for it.

pub mod compression;
pub mod ranges;
pub mod uploads;
pub mod validators;

use crate::check::Failure;
use crate::checks::common::no_response;
use crate::client::Exchange;
use crate::probe::Probe;
use crate::response::Reply;

/// A request for `target` with `headers` besides `Host` and
/// `Connection: close`, and `body` with its `Content-Length` if there is one.
pub fn request(
    probe: &Probe,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        probe.addr()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// `GET` the site's file at `path` with `headers`, and the response; the
/// failure, if nothing readable came back.
pub fn get_with(
    probe: &Probe,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(Exchange, Reply), Failure> {
    let target = Probe::target(path);
    let exchange = probe.send(&request(probe, "GET", &target, headers, None));
    match exchange.reply() {
        Some(reply) => Ok((exchange, reply)),
        None => Err(no_response(
            probe,
            &describe("GET", &target, headers),
            &exchange,
        )),
    }
}

/// `GET /style.css with If-None-Match: "x"`: a request as a problem names it.
pub fn describe(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut text = format!("{method} {target}");
    for (n, (name, value)) in headers.iter().enumerate() {
        text.push_str(if n == 0 { " with " } else { " and " });
        text.push_str(&format!("{name}: {value}"));
    }
    text
}

/// The failure for a file that did not come back with `200` to a request
/// that only added a header this extension is about: whether the server
/// serves the file at all is `by`'s to judge, so unless `by` failed this
/// is the check's own fault.
pub fn not_served(what: &str, reply: &Reply, exchange: &Exchange, by: &'static str) -> Failure {
    Failure::of(
        format!("{what} got {} instead of 200", reply.status()),
        exchange,
    )
    .unless("the file served with 200", &[by])
}
