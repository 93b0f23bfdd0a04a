//! Stage 7, `async`: stage 6's contract (keep-alive, pipelining, deadlines,
//! lingering closes, Ctrl-C) on tokio tasks, and what tasks change.
//!
//! The contract itself is tested in `tests/keep_alive.rs`, on stage 6 and on
//! this stage alike, as are the threads that do not grow with connections or
//! with `--threads`. Here: the bound on responses under way that `--threads`
//! and `--queue` set now that they count permits, not workers, and the names
//! that tell the runtime's two kinds of thread apart.

#![cfg(feature = "async")]

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use grade::client;
use support::*;

const STAGE: &str = "async";

/// With every permit taken (`--threads 1`: one download its client does not
/// read) and no room to wait (`--queue 0`), a new request gets 503 with
/// `Retry-After` at once; once the download's client goes, 200 again. A
/// server that let every task answer at once would serve it, and one that
/// made it wait would time out.
#[test]
fn with_every_permit_taken_and_no_queue_a_request_gets_503() {
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    let server = Server::start(STAGE, &site.root, &["--threads", "1", "--queue", "0"]);
    let mut download = connect(server.addr);
    download
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut first = [0; 1];
    std::io::Read::read_exact(&mut download, &mut first).unwrap();
    let busy = get(server.addr, "/index.html");
    assert_eq!(busy.status(), 503);
    assert!(busy.header("Retry-After").is_some());
    client::reset(download);
    // The permit comes back when the download fails on the reset.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = get(server.addr, "/index.html");
        if reply.head.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} after the reset",
            reply.head.status
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The threads that run tasks are `runtime-0` to `runtime-{cores - 1}`, and
/// the ones `spawn_blocking` starts (to open a file) are `blocking-N`: the log
/// names the first kind, and a name for both would say a request was served
/// by a blocking thread. A server that named every runtime thread alike, or
/// counted the blocking ones as task threads, fails.
#[test]
fn task_threads_and_blocking_threads_have_names_of_their_own() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    // The file is opened on a blocking thread, which then lives for 10 s.
    assert_eq!(get(server.addr, "/index.html").status(), 200);
    assert!(server.log_contains("\"GET /index.html HTTP/1.1\" 200"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let names = server.thread_names();
    let mut runtime: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| name.starts_with("runtime-"))
        .collect();
    runtime.sort_unstable();
    let mut expected: Vec<String> = (0..cores).map(|n| format!("runtime-{n}")).collect();
    expected.sort_unstable();
    assert_eq!(runtime, expected, "the threads: {names:?}");
    assert!(
        names.iter().any(|name| name.starts_with("blocking-")),
        "no blocking thread after a file was opened: {names:?}"
    );
    let served_by = server
        .log()
        .lines()
        .find(|line| line.contains("\"GET /index.html HTTP/1.1\""))
        .and_then(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .expect("the request's log line");
    assert!(
        expected.contains(&served_by),
        "the log says {served_by} served the request; threads: {names:?}"
    );
}
