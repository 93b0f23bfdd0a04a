//! Stage 2, `thread-per-client`: every connection on its own thread.

#![cfg(feature = "thread-per-client")]

mod support;

use support::*;

const STAGE: &str = "thread-per-client";

/// Still no error handling: a missing file is a closed connection.
#[test]
fn a_missing_file_gets_no_response_yet() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let bytes = send_raw(
        server.addr,
        b"GET /missing.html HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    assert!(bytes.is_empty(), "expected a bare close, got {bytes:?}");
}

/// Each client is served by a thread of its own, named in the log.
#[test]
fn the_log_names_a_thread_per_client() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    for _ in 0..3 {
        get(server.addr, "/");
    }
    for name in ["client-0 ", "client-1 ", "client-2 "] {
        assert!(
            server.log_contains(name),
            "{name} missing from the log:\n{}",
            server.log()
        );
    }
}
