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
/// the ones `spawn_blocking` starts (to send a large file) are `blocking-N`,
/// and every request's log line names a thread of the runtime. A server that
/// named every runtime thread alike, or counted the blocking ones as task
/// threads, fails. Which thread logs a request is tokio's to choose, not
/// the server's: under load it can move a worker onto an idle thread of its
/// pool (a line from `blocking-0` came in 3 of 30 runs beside a CPU hog), so
/// only that it is one of the runtime's threads is asserted.
#[test]
fn task_threads_and_blocking_threads_have_names_of_their_own() {
    let site = Site::new();
    // Larger than the 64 KiB read on the task: sent from a blocking thread,
    // which then lives for 10 s.
    site.add_big_file("big.bin", 1024 * 1024);
    let server = Server::start(STAGE, &site.root, &[]);
    assert_eq!(get(server.addr, "/big.bin").status(), 200);
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
        "no blocking thread after a large file was sent: {names:?}"
    );
    let served_by = server
        .log()
        .lines()
        .find(|line| line.contains("\"GET /index.html HTTP/1.1\""))
        .and_then(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .expect("the request's log line");
    assert!(
        names.contains(&served_by)
            && (served_by.starts_with("runtime-") || served_by.starts_with("blocking-")),
        "the log says {served_by} served the request; threads: {names:?}"
    );
}

/// A small page is found, opened and read on the task: serving it starts no
/// blocking thread. A page gzipped now is compressed on one, as compressing
/// takes milliseconds where reading a page from the page cache takes
/// microseconds. A server that sent every request to `spawn_blocking` fails
/// the first half; one that compressed on the threads that run its tasks,
/// the second.
#[test]
fn small_pages_are_read_on_the_task_and_compressed_off_it() {
    let site = Site::new();
    site.write("page.html", "Text that gzip shrinks. ".repeat(400));
    let server = Server::start(STAGE, &site.root, &[]);
    let blocking = || {
        let names = server.thread_names();
        let count = names.iter().filter(|name| name.starts_with("blocking-"));
        (count.count(), names)
    };
    for _ in 0..3 {
        let reply = get(server.addr, "/page.html");
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.header("Content-Encoding"), None);
    }
    let (started, names) = blocking();
    assert_eq!(started, 0, "blocking threads for small pages: {names:?}");
    let gzip = ["Accept-Encoding: gzip"];
    let reply = request(server.addr, "GET", "/page.html", &gzip);
    assert_eq!(reply.header("Content-Encoding"), Some("gzip"));
    let (started, names) = blocking();
    assert!(started > 0, "no blocking thread compressed it: {names:?}");
}
