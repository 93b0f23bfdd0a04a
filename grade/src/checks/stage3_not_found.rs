//! Stage 3's checks: errors get answers. A missing file gets `404 Not Found`
//! with the site's own `error.html`, and a request that is not HTTP gets
//! `400 Bad Request`, not a silent close.

use super::{Probe, exited};
use crate::check::Failure;
use crate::client;
use crate::fixture;

// ANCHOR: not_found_page
pub fn not_found_page(probe: &Probe) -> Result<(), Failure> {
    let path = format!("/missing-{}.html", probe.site.token);
    let exchange = probe.get(&path);
    let Some(reply) = exchange.reply() else {
        return Err(Failure::of(
            format!("no HTTP response to GET {path}"),
            &exchange,
        ));
    };
    if reply.status != 404 {
        return Err(Failure::of(
            format!(
                "GET {path} (no such file) got {} instead of 404",
                reply.status
            ),
            &exchange,
        ));
    }
    let page = &probe.site.file(fixture::ERROR_PAGE).bytes;
    let body = reply.body_with_excess();
    if body[..] != page[..] {
        return Err(Failure::of(
            format!(
                "the 404's body is not the root's error.html: {}",
                client::first_difference(page, &body)
            ),
            &exchange,
        ));
    }
    Ok(())
}
// ANCHOR_END: not_found_page

/// Requests RFC 9112 says a server must refuse, or should, with 400, each
/// with what is wrong with it: a request line that is not `METHOD target
/// HTTP/1.x` (§3), a header line that is not `Name: value` (§5), a space
/// between a header's name and its colon (§5.1: a proxy may read such a name
/// one way and the server another), an HTTP/1.1 request with no `Host` (§3.2)
/// and a `Content-Length` that is not a number (§6.3: the server cannot tell
/// where the body ends, or where the next request starts).
///
/// Only such: a request a correct server may answer otherwise is no test of
/// it. (`GET /index.html` with no version is an HTTP/0.9 request, which nginx,
/// Node and Python answer, as servers may; it is not sent. Nor is a header
/// line with bare line feeds, which RFC 9112 lets a server accept.)
pub fn malformed_requests(probe: &Probe) -> Vec<(&'static str, Vec<u8>)> {
    let host = format!("Host: {}\r\n", probe.addr);
    let with = |line: &str| format!("{line}\r\n{host}\r\n").into_bytes();
    let headed =
        |headers: &str| format!("GET /index.html HTTP/1.1\r\n{host}{headers}\r\n").into_bytes();
    vec![
        ("a request line that is not one", b"hello\r\n\r\n".to_vec()),
        (
            "a request line with a fourth part",
            with("GET /index.html HTTP/1.1 extra"),
        ),
        (
            "a request line with an unknown protocol",
            with("GET /index.html FTP/1.0"),
        ),
        (
            "a header line with no colon",
            headed("Accept text/html\r\n"),
        ),
        (
            "a space between a header's name and its colon",
            headed("Accept : text/html\r\n"),
        ),
        (
            "an HTTP/1.1 request with no Host",
            b"GET /index.html HTTP/1.1\r\nAccept: text/html\r\n\r\n".to_vec(),
        ),
        (
            "a Content-Length that is not a number",
            headed("Content-Length: ten\r\n"),
        ),
    ]
}

pub fn bad_request(probe: &Probe) -> Result<(), Failure> {
    for (what, request) in malformed_requests(probe) {
        let exchange = probe.send(&request);
        let answered = exchange.reply().is_some();
        if let Some(failure) = exited(probe, &format!("after {what}"), !answered) {
            return Err(failure.sent(exchange.describe_sent()));
        }
        match exchange.reply() {
            Some(reply) if (400..500).contains(&reply.status) => {}
            Some(reply) => {
                return Err(Failure::of(
                    format!(
                        "{what} got {} instead of 400 (or another 4xx)",
                        reply.status
                    ),
                    &exchange,
                ));
            }
            None => {
                return Err(Failure::of(
                    format!("{what} got no HTTP response"),
                    &exchange,
                ));
            }
        }
    }
    Ok(())
}
