//! `bad-request`: a request RFC 9112 calls malformed gets `400 Bad Request`
//! (any 4xx will do), not a silent close, a crash, or the file.
//!
//! The status is read as a tolerant client reads it: a server whose error
//! page starts `(null) 400 Bad Request` did answer 400, and `head-syntax`
//! fails it for how it wrote that. This check is risky (a server may wedge or
//! die on what it cannot parse), so it runs after the ordinary ones.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::no_response;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "bad-request",
    stage: Stage::NotFound,
    title: "a request RFC 9112 calls malformed gets 400 Bad Request (any 4xx)",
    limit: Duration::from_secs(15),
    mode: Mode::Risky,
    needs: &[],
    hint: "If the request line is not `METHOD /path HTTP/1.x`, a header line is not `Name: value` (no space before the colon), an HTTP/1.1 request has no Host, or Content-Length is not a number, answer 400 Bad Request instead of closing, crashing or serving the file.",
    run,
};

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
    let host = format!("Host: {}\r\n", probe.addr());
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

fn run(probe: &Probe) -> Result<(), Failure> {
    for (what, request) in malformed_requests(probe) {
        let exchange = probe.send(&request);
        let answered = exchange.reply().is_some();
        if let Some(failure) = probe.exited(&format!("after {what}"), !answered) {
            return Err(failure.sent(exchange.describe_sent()));
        }
        match exchange.reply() {
            Some(reply) if (400..500).contains(&reply.status()) => {}
            Some(reply) => {
                return Err(Failure::of(
                    format!(
                        "{what} got {} instead of 400 (or another 4xx)",
                        reply.status()
                    ),
                    &exchange,
                ));
            }
            // Bytes came back, but no status can be read from them: a
            // server that echoes the request's version (`HTTP/1.1 extra 200
            // Ok`) did answer, and not with a 4xx.
            None if exchange.received.iter().any(|b| !b.is_ascii_whitespace()) => {
                let first = exchange
                    .received
                    .split(|&b| b == b'\n')
                    .next()
                    .unwrap_or(&[]);
                let first = String::from_utf8_lossy(first);
                let first: String = first.trim_end().chars().take(80).collect();
                return Err(Failure::of(
                    format!(
                        "{what} got an answer with no status code to read (its first line is `{first}`), not 400 (or another 4xx)"
                    ),
                    &exchange,
                ));
            }
            None => {
                let failure = no_response(probe, what, &exchange);
                return Err(Failure {
                    problem: format!("{what} got no HTTP response"),
                    ..failure
                });
            }
        }
    }
    Ok(())
}
