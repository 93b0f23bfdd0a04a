//! Stage 4, `daemon-join`: Ctrl-C finishes what is under way, joins the client
//! threads, and exits 0; the list of threads never grows without limit.

#![cfg(feature = "daemon-join")]

mod support;

use std::time::{Duration, Instant};

use support::*;

const STAGE: &str = "daemon-join";

/// Ctrl-C during a download lets it finish, byte-exact, and the server then
/// exits with status 0. Compare `not_found::ctrl_c_cuts_a_download_short`.
#[test]
fn ctrl_c_lets_a_download_finish_then_exits_0() {
    let site = Site::new();
    let expected = site.add_big_file("big.bin", 32 * 1024 * 1024);
    let mut server = Server::start(STAGE, &site.root, &["--shutdown-timeout", "60s"]);
    let (promised, body) = download_across_signal(&server, "/big.bin", "INT");
    assert_eq!(promised, expected.len());
    assert!(
        body == expected,
        "the whole file arrived ({} of {promised} bytes)",
        body.len()
    );
    let status = server.wait_exit(PATIENCE).expect("the server exited");
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log());
    assert!(server.log().contains("all clients done"));
}

/// SIGTERM, what `kill` and service managers send, is a graceful stop too.
#[test]
#[cfg_attr(
    windows,
    ignore = "Windows has no SIGTERM for a console program: Ctrl-C is its stop request"
)]
fn sigterm_stops_the_server_cleanly() {
    let site = Site::new();
    let mut server = Server::start(STAGE, &site.root, &[]);
    assert_eq!(get(server.addr, "/").status(), 200);
    server.signal("TERM");
    let status = server.wait_exit(PATIENCE).expect("the server exited");
    assert_eq!(status.code(), Some(0));
}

/// A client that connected and sent nothing cannot hold shutdown open past
/// `--shutdown-timeout`, even though its read timeout is far longer: the
/// server waits for it about that long, neither less nor much more.
#[test]
fn an_idle_client_cannot_hold_shutdown() {
    let site = Site::new();
    let mut server = Server::start(
        STAGE,
        &site.root,
        &["--shutdown-timeout", "1s", "--read-timeout", "120s"],
    );
    let _idle = connect(server.addr);
    // The idle client's thread is running once the server has accepted it; a
    // request on another connection proves the accept loop has moved past it.
    assert_eq!(get(server.addr, "/").status(), 200);
    let started = Instant::now();
    server.signal("INT");
    let status = server
        .wait_exit(PATIENCE)
        .expect("the server exited despite the idle client");
    let waited = started.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        waited >= Duration::from_millis(900),
        "it did not wait for the client ({waited:?})"
    );
    // The default shutdown timeout is 5 s: a server that ignored the flag, or
    // waited for the idle client's read timeout, would say another time. (How
    // long the exit took on the clock depends on the machine's load, so the
    // time it says it waited is what is asserted.)
    assert!(
        server.log_contains("gave up on 1 client(s) after 1s"),
        "{}",
        server.log()
    );
}

/// Once shutdown starts, new clients are refused at once rather than left
/// waiting in the backlog.
#[test]
fn new_clients_are_refused_during_shutdown() {
    use std::io::{Read, Write};
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    let server = Server::start(STAGE, &site.root, &["--shutdown-timeout", "60s"]);
    // Keep a download in flight, unread, so the server stays in its shutdown wait.
    let mut download = connect(server.addr);
    download
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut first = [0; 1];
    download.read_exact(&mut first).unwrap();
    server.signal("INT");
    assert!(server.log_contains("not accepting new clients"));
    assert!(
        server.log_contains("waiting for 1 client"),
        "{}",
        server.log()
    );
    let refused = std::net::TcpStream::connect_timeout(&server.addr, PATIENCE);
    assert!(refused.is_err(), "a new client was let in after Ctrl-C");
}

/// A second Ctrl-C exits at once, without waiting for clients.
#[test]
fn a_second_ctrl_c_exits_at_once() {
    use std::io::{Read, Write};
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    let mut server = Server::start(STAGE, &site.root, &["--shutdown-timeout", "120s"]);
    let mut download = connect(server.addr);
    download
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut first = [0; 1];
    download.read_exact(&mut first).unwrap();
    server.signal("INT");
    assert!(
        server.log_contains("waiting for 1 client"),
        "{}",
        server.log()
    );
    server.signal("INT");
    let status = server
        .wait_exit(PATIENCE)
        .expect("the second Ctrl-C ended it");
    assert_eq!(status.code(), Some(130));
}

/// Finished threads do not pile up: after 1,000 requests the server is back to
/// a handful of threads (main and the signal handler), and its list of thread
/// handles is short too. The list is seen in the log on Ctrl-C, which says how
/// many threads were joined: only those of the last few clients, because each
/// accept first forgets the threads that are done. A list that only grew, as
/// the report's did, would be joined 1,000 times.
#[test]
fn threads_are_not_left_behind_after_1000_requests() {
    let site = Site::new();
    let mut server = Server::start(STAGE, &site.root, &[]);
    let before = server.open_fds();
    for _ in 0..1000 {
        assert_eq!(get(server.addr, "/style.css").status(), 200);
    }
    let threads = server.settle(3, Server::threads);
    assert!(
        threads <= 3,
        "{threads} threads after the requests were done"
    );
    let fds = server.settle(before + HANDLE_SLACK, Server::open_fds);
    assert!(
        fds <= before + HANDLE_SLACK,
        "{fds} descriptors open, {before} before"
    );

    server.signal("INT");
    let status = server.wait_exit(PATIENCE).expect("the server exited");
    assert_eq!(status.code(), Some(0));
    let joined = joined_threads(&server.log())
        .unwrap_or_else(|| panic!("no \"joined\" line in the log:\n{}", server.log()));
    // A thread may still be on its way out when the next client is accepted,
    // so a few are kept; a list that was never pruned would hold 1,000.
    assert!(joined <= 50, "{joined} threads joined after 1,000 clients");
}

/// The number in the log's `joined N client thread(s)` line.
fn joined_threads(log: &str) -> Option<usize> {
    log.lines().find_map(|line| {
        let (_, rest) = line.split_once(" joined ")?;
        rest.strip_suffix(" client thread(s)")?.parse().ok()
    })
}
