//! Stage 2, `thread-per-client`: every connection on its own thread.

#![cfg(feature = "thread-per-client")]

mod support;

use support::*;

const STAGE: &str = "thread-per-client";

/// Text and binary files come back byte-exact, with the right type and length.
#[test]
fn serves_files_byte_exact_with_their_headers() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_serves_site(server.addr, &site);
}

/// The fix for stage 1's weakness: a silent client holds only its own thread, so
/// another client is answered while it is still connected.
#[test]
fn an_idle_client_does_not_block_others() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--read-timeout", "60s"]);
    let reply = request_while_idle_client_waits(server.addr, PATIENCE);
    assert_eq!(
        reply
            .expect("answered while the idle client waits")
            .status(),
        200
    );
}

/// Connections opened in one order can be answered in another: each has its
/// own thread, so the last one to send its request is not stuck behind the
/// first ones, which have not sent anything yet.
#[test]
fn connections_are_answered_in_any_order() {
    use std::io::Write;
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--read-timeout", "60s"]);
    let mut streams: Vec<_> = (0..5).map(|_| connect(server.addr)).collect();
    for stream in streams.iter_mut().rev() {
        stream
            .write_all(b"GET /style.css HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let reply = parse_reply(&read_to_close(stream)).expect("a response");
        assert_eq!(reply.body, site.read("style.css"));
    }
}

/// Fifty clients at once all get the whole file, byte-exact.
#[test]
fn fifty_concurrent_clients_are_all_served() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_concurrent_clients(server.addr, &site, 50);
}

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

/// Nothing outside the root can be read.
#[test]
fn no_path_leaves_the_root() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_no_traversal(server.addr, &site);
}

/// The timeout still frees a thread held by a silent client.
#[test]
fn the_read_timeout_drops_a_silent_client() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--read-timeout", "300ms"]);
    let mut idle = connect(server.addr);
    let bytes = wait_for_close(&mut idle).expect("the server closed the silent connection");
    assert!(bytes.is_empty(), "no response yet in this stage: {bytes:?}");
}
