//! Stage 1, `single-threaded`: the report's six steps, one client at a time.

#![cfg(feature = "single-threaded")]

mod support;

use std::time::Duration;

use support::*;

const STAGE: &str = "single-threaded";

/// The stage's weakness: while one client sits connected and silent, the next
/// client is not answered at all, because the only thread is busy waiting for
/// the first. It is answered as soon as the idle client leaves.
#[test]
fn an_idle_client_blocks_everyone_else() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--read-timeout", "60s"]);
    let reply = request_while_idle_client_waits(server.addr, Duration::from_secs(2));
    assert!(
        reply.is_none(),
        "answered despite the idle client: {reply:?}"
    );
    // The idle client has gone now; the server is free again.
    assert_eq!(get(server.addr, "/index.html").status(), 200);
}

/// No error handling yet: a missing file or a malformed request gets no
/// response at all, just a closed connection, and the server goes on.
#[test]
fn errors_close_the_connection_without_a_response() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    for request in [
        &b"GET /missing.html HTTP/1.1\r\nHost: test\r\n\r\n"[..],
        b"this is not http\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
    ] {
        let bytes = send_raw(server.addr, request);
        assert!(bytes.is_empty(), "expected a bare close, got {bytes:?}");
    }
    assert!(
        server.log_contains("dropped: no such file"),
        "{}",
        server.log()
    );
    assert_eq!(get(server.addr, "/").status(), 200, "still serving");
}
