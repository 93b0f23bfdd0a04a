//! `--status`: the live view of a running server's threads, queue, idle
//! connections and counters, checked against what the server is made to do.
//!
//! Each test sets up a situation with real clients (a silent one holding
//! stage 1's only thread, a pool with every worker busy...) and asks the view's
//! JSON, again and again until a deadline, for what it must then show. The
//! view is a snapshot taken while threads move on, so the tests wait for a
//! state rather than sleep and hope.

// Each test needs its stage's feature; with fewer stages compiled in, some
// helpers go unused.
#![cfg_attr(not(feature = "keep-alive"), allow(dead_code, unused_imports))]

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

/// The address in `Status view on http://127.0.0.1:40124/_status`.
fn status_address(server: &Server) -> SocketAddr {
    let log = server.log();
    let line = log
        .lines()
        .find_map(|line| line.strip_prefix("Status view on http://"))
        .unwrap_or_else(|| panic!("no status line; log:\n{log}"));
    line.trim_end_matches("/_status").parse().unwrap()
}

/// The view's JSON now.
fn snapshot(view: SocketAddr) -> Value {
    let reply = get(view, "/_status?json");
    assert_eq!(reply.head.status, 200);
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    serde_json::from_slice(&reply.body).expect("the view answers JSON")
}

/// Asks the view until `shows` holds, and returns that snapshot; fails the test
/// with the last one seen after [`PATIENCE`].
fn wait_until(view: SocketAddr, what: &str, shows: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = snapshot(view);
        if shows(&status) {
            return status;
        }
        if Instant::now() >= deadline {
            panic!("the view never showed {what}; it last showed:\n{status:#}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The threads whose names start with `prefix`, and what each is doing.
fn doing<'a>(status: &'a Value, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let threads = status["threads"].as_array().expect("a list of threads");
    threads
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["doing"].as_str().unwrap()))
        .filter(|(name, _)| name.starts_with(prefix))
        .collect()
}

fn gauge(status: &Value, name: &str) -> Option<u64> {
    let gauges = status["gauges"].as_array()?;
    let gauge = gauges.iter().find(|gauge| gauge["name"] == name)?;
    gauge["value"].as_u64()
}

fn counter(status: &Value, name: &str) -> u64 {
    status["counters"][name].as_u64().expect("a counter")
}

/// A client that connects and sends nothing: it holds whatever thread reads
/// its request, until it is dropped or the read timeout comes.
fn silent_client(addr: SocketAddr) -> TcpStream {
    connect(addr)
}

/// Without `--status` there is no view: no status line, no port, and the
/// server's own `/_status` is an ordinary missing file.
#[test]
#[cfg(feature = "not-found")]
fn the_view_is_off_by_default() {
    let site = Site::new();
    let server = Server::start("not-found", &site.root, &[]);
    assert!(!server.log().contains("Status view"), "{}", server.log());
    assert_eq!(get(server.addr, "/_status").status(), 404);
    assert_eq!(get(server.addr, "/_status?json").status(), 404);
}

/// The view is served on its own port, never from the root: a file named
/// `_status` in the root is served as a file on the server's port, and cannot
/// take the view's place on the view's.
#[test]
#[cfg(feature = "not-found")]
fn no_file_in_the_root_can_shadow_the_view() {
    let site = Site::new();
    site.write("_status", "a file, not the view");
    let server = Server::start("not-found", &site.root, &["--status"]);
    let view = status_address(&server);
    assert_ne!(view.port(), server.addr.port());

    let page = get(view, "/_status");
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let page = String::from_utf8_lossy(&page.body);
    assert!(page.contains("<title>Server status</title>"), "{page}");
    assert_eq!(get(server.addr, "/_status").body, b"a file, not the view");
    // The view's port serves the view and nothing else.
    assert_eq!(get(view, "/index.html").status(), 404);
    assert_eq!(get(view, "/_status/../index.html").status(), 404);
}

/// Stage 1 with a silent client: the one thread there is waits for that
/// client's request head, and the view, on its own thread, says so. When the
/// client goes, the thread is back accepting.
#[test]
#[cfg(feature = "single-threaded")]
fn stage_1_shows_its_one_thread_held_by_a_silent_client() {
    let site = Site::new();
    let server = Server::start("single-threaded", &site.root, &["--status"]);
    let view = status_address(&server);
    let status = wait_until(view, "main accepting", |s| {
        doing(s, "") == [("main", "accepting")]
    });
    assert_eq!(status["stage"], "single-threaded");
    assert_eq!(status["gauges"], serde_json::json!([]));

    let client = silent_client(server.addr);
    wait_until(view, "main reading a head", |s| {
        doing(s, "") == [("main", "reading a head")]
    });
    drop(client);
    wait_until(view, "main accepting again", |s| {
        doing(s, "") == [("main", "accepting")]
    });
}

/// Stage 2: each client's thread appears while it serves, and vanishes when
/// its client is done.
#[test]
#[cfg(feature = "thread-per-client")]
fn stage_2_shows_client_threads_appear_and_vanish() {
    let site = Site::new();
    let server = Server::start("thread-per-client", &site.root, &["--status"]);
    let view = status_address(&server);
    let clients: Vec<_> = (0..3).map(|_| silent_client(server.addr)).collect();
    let status = wait_until(view, "three client threads reading", |s| {
        let clients = doing(s, "client-");
        clients.len() == 3 && clients.iter().all(|(_, doing)| *doing == "reading a head")
    });
    assert_eq!(doing(&status, "main"), [("main", "accepting")]);
    drop(clients);
    wait_until(view, "no client thread", |s| doing(s, "client-").is_empty());
}

/// Stage 5 with every worker held by a silent client: the rest wait in the
/// queue, and the view counts them; one more than the queue holds is turned
/// away with 503, and counted.
#[test]
#[cfg(feature = "thread-pool")]
fn stage_5_shows_busy_workers_and_the_queue_length() {
    let site = Site::new();
    let server = Server::start(
        "thread-pool",
        &site.root,
        &["--threads", "2", "--queue", "3", "--status"],
    );
    let view = status_address(&server);
    wait_until(view, "two idle workers", |s| {
        doing(s, "worker-")
            == [
                ("worker-0", "idle in the pool"),
                ("worker-1", "idle in the pool"),
            ]
    });

    let mut clients: Vec<_> = (0..2).map(|_| silent_client(server.addr)).collect();
    wait_until(view, "both workers reading", |s| {
        doing(s, "worker-")
            .iter()
            .all(|(_, d)| *d == "reading a head")
    });
    clients.extend((0..3).map(|_| silent_client(server.addr)));
    let status = wait_until(view, "three queued", |s| gauge(s, "queued") == Some(3));
    let queued = &status["gauges"].as_array().unwrap()[0];
    assert_eq!(queued["limit"], 3);
    assert_eq!(counter(&status, "503"), 0);

    let reply = get(server.addr, "/index.html");
    assert_eq!(reply.head.status, 503);
    let status = wait_until(view, "one 503", |s| counter(s, "503") == 1);
    assert_eq!(counter(&status, "5xx"), 1);
    assert_eq!(counter(&status, "requests"), 1);

    drop(clients);
    wait_until(view, "an empty queue and idle workers", |s| {
        gauge(s, "queued") == Some(0)
            && doing(s, "worker-")
                .iter()
                .all(|(_, d)| *d == "idle in the pool")
    });
}

/// Stage 6: connections kept alive between requests wait in the loop's table,
/// not in threads; the view counts them, and shows the loop's thread waiting
/// in the readiness loop and the workers idle.
#[test]
#[cfg(feature = "keep-alive")]
fn stage_6_shows_idle_connections_held_by_the_loop() {
    let site = Site::new();
    let server = Server::start(
        "keep-alive",
        &site.root,
        &["--threads", "2", "--keep-alive-timeout", "60s", "--status"],
    );
    let view = status_address(&server);
    let mut clients = Vec::new();
    for _ in 0..10 {
        let mut stream = connect(server.addr);
        stream
            .write_all(b"GET /index.html HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        clients.push(stream);
    }
    let status = wait_until(view, "ten idle connections", |s| {
        gauge(s, "idle connections") == Some(10)
            && counter(s, "requests") == 10
            && doing(s, "worker-")
                .iter()
                .all(|(_, d)| *d == "idle in the pool")
    });
    assert_eq!(
        doing(&status, "main"),
        [("main", "waiting in the readiness loop")]
    );
    drop(clients);
    wait_until(view, "no idle connection", |s| {
        gauge(s, "idle connections") == Some(0)
    });
}

/// The counters add up what was sent: requests, bytes (head and body), and
/// client errors; a thread's `served` counts its responses.
#[test]
#[cfg(feature = "not-found")]
fn the_counters_add_up_what_was_sent() {
    let site = Site::new();
    let server = Server::start("not-found", &site.root, &["--status"]);
    let view = status_address(&server);
    let mut sent = 0;
    for path in ["/index.html", "/data.bin", "/missing", "/sub"] {
        let bytes = send_raw(
            server.addr,
            format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
        );
        sent += bytes.len() as u64;
    }
    let status = wait_until(view, "four requests", |s| counter(s, "requests") == 4);
    assert_eq!(counter(&status, "bytes"), sent);
    // `/missing` is 404; `/sub` is a redirect to `/sub/`, not an error.
    assert_eq!(counter(&status, "4xx"), 1);
    assert_eq!(counter(&status, "5xx"), 0);
    assert_eq!(counter(&status, "failed"), 0);
}

/// A client that connects to the view and sends nothing does not stop the
/// view from answering others (a browser opens such connections ahead of
/// time).
#[test]
#[cfg(feature = "single-threaded")]
fn a_silent_client_of_the_view_does_not_stall_it() {
    let site = Site::new();
    let server = Server::start("single-threaded", &site.root, &["--status"]);
    let view = status_address(&server);
    let _idle: Vec<_> = (0..3).map(|_| silent_client(view)).collect();
    let started = Instant::now();
    let status = snapshot(view);
    assert_eq!(status["stage"], "single-threaded");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

/// The view's clients are served on short-lived threads: after many of them,
/// the server is back to the threads and descriptors it had.
#[test]
#[cfg(feature = "thread-pool")]
fn the_view_leaves_no_thread_or_descriptor_behind() {
    let site = Site::new();
    let server = Server::start("thread-pool", &site.root, &["--threads", "2", "--status"]);
    let view = status_address(&server);
    // Once both workers are up (the view shows them), and its one client is
    // gone: the stage's threads and the view's own.
    wait_until(view, "two workers", |s| doing(s, "worker-").len() == 2);
    let threads = server.settle(5, |s| s.threads());
    // A Windows process has threads the system starts for it (one more was
    // counted under Wine), so only elsewhere is the count exact; everywhere,
    // it must come back to where it was.
    #[cfg(not(windows))]
    assert_eq!(
        threads, 5,
        "main, two workers, the Ctrl-C handler, the view"
    );
    let fds = server.open_fds();
    for _ in 0..50 {
        snapshot(view);
    }
    // Fewer is no leak: such a system thread may end meanwhile.
    let left = server.settle(threads, |s| s.threads());
    assert!(left <= threads, "threads {threads} -> {left}");
    let after = server.settle(fds, |s| s.open_fds());
    assert!(
        after <= fds + HANDLE_SLACK,
        "{after} descriptors open, {fds} before"
    );
}

/// A port the view cannot have is a one-line error and a failed start, not a
/// server running without the view it was asked for.
#[test]
#[cfg(feature = "single-threaded")]
fn a_taken_port_for_the_view_is_an_error() {
    let site = Site::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_multithreaded-server"))
        .args(["--stage", "1", "--port", "0", "--status", &port, "--root"])
        .arg(&site.root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("for --status"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Listening"));
}
