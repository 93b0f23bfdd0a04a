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

pub fn bad_request(probe: &Probe) -> Result<(), Failure> {
    for request in [
        &b"hello\r\n\r\n"[..],
        b"GET /index.html\r\n\r\n",
        b"GET /index.html FTP/1.0\r\n\r\n",
    ] {
        let exchange = probe.send(request);
        let answered = exchange.reply().is_some();
        if let Some(failure) = exited(probe, "after a malformed request", !answered) {
            return Err(failure.sent(exchange.describe_sent()));
        }
        match exchange.reply() {
            Some(reply) if reply.status == 400 => {}
            Some(reply) => {
                return Err(Failure::of(
                    format!("a malformed request got {} instead of 400", reply.status),
                    &exchange,
                ));
            }
            None => {
                return Err(Failure::of(
                    "a malformed request got no HTTP response",
                    &exchange,
                ));
            }
        }
    }
    Ok(())
}
