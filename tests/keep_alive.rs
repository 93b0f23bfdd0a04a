//! Stage 6, `keep-alive`: many requests per connection, and idle connections
//! that wait in a readiness loop instead of holding threads.
//!
//! Stage 7 (`async`) keeps the same contract on tokio tasks, so every test here
//! but the last runs on each of the two that this build has;
//! `tests/async_tokio.rs` holds only what tasks change.

#![cfg(feature = "keep-alive")]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use grade::client::{self, End};
use grade::response::Framing;
use support::*;

/// The stages that keep connections alive, of those this build has: stage 6,
/// and stage 7 where it is compiled in.
fn kept_alive_stages() -> Vec<&'static str> {
    support::hardening::compiled_stages()
        .into_iter()
        .filter(|stage| *stage >= multithreaded_server::Stage::KeepAlive)
        .map(|stage| stage.name())
        .collect()
}

/// A client that keeps its connection and reads responses one at a time, by
/// their `Content-Length`, the way a browser does (with the grader's reader).
struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    fn connect(server: &Server) -> Client {
        Client {
            stream: connect(server.addr),
            buffer: Vec::new(),
        }
    }

    fn send(&mut self, request: &str) {
        self.stream.write_all(request.as_bytes()).unwrap();
    }

    /// `GET path` with the given extra header lines.
    fn get(&mut self, path: &str, headers: &str) -> Reply {
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: test\r\n{headers}\r\n"
        ));
        self.response()
    }

    /// Reads exactly one response, which must say where it ends with a
    /// `Content-Length`; bytes after it wait in the buffer for the next.
    fn response(&mut self) -> Reply {
        let deadline = Instant::now() + PATIENCE;
        let (bytes, end) = client::read_one(&mut self.stream, &mut self.buffer, "GET", deadline);
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        assert_eq!(end, End::Complete, "not one whole response: {shown:?}");
        let reply = parse_reply(&bytes).expect("a response");
        assert!(
            matches!(reply.framing, Framing::Length(_)),
            "framed by {}, not Content-Length: {shown:?}",
            reply.framing
        );
        reply
    }

    /// Whether the server closes the connection (within the test's patience).
    fn closed_by_server(&mut self) -> bool {
        self.buffer.is_empty()
            && wait_for_close(&mut self.stream).is_some_and(|rest| rest.is_empty())
    }
}

/// Two, then ten requests on one connection, each answered in full, and the
/// server says each time that it keeps the connection open.
#[test]
fn many_requests_share_one_connection() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &[]);
        let mut client = Client::connect(&server);
        for (round, path) in ["/index.html", "/data.bin"]
            .iter()
            .cycle()
            .take(12)
            .enumerate()
        {
            let reply = client.get(path, "");
            assert_eq!(reply.head.status, 200, "request {round}");
            assert_eq!(reply.header("Connection"), Some("keep-alive"));
            assert_eq!(
                reply.body,
                site.read(path.trim_start_matches('/')),
                "request {round}"
            );
        }
        let last = client.get("/style.css", "Connection: close\r\n");
        assert_eq!(last.header("Connection"), Some("close"));
        assert!(client.closed_by_server());
    }
}

/// Requests sent back to back, without waiting, are answered in order.
#[test]
fn pipelined_requests_are_answered_in_order() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &[]);
        let mut client = Client::connect(&server);
        let paths = [
            "/style.css",
            "/image.png",
            "/sub/page.html",
            "/index.html",
            "/data.bin",
        ];
        let all: String = paths
            .iter()
            .map(|path| format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"))
            .collect();
        client.send(&all);
        for path in paths {
            let reply = client.response();
            assert_eq!(
                reply.body,
                site.read(path.trim_start_matches('/')),
                "{path}"
            );
        }
    }
}

/// `Connection: close` is honoured: the response says so and the server closes.
#[test]
fn connection_close_closes() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &[]);
        let mut client = Client::connect(&server);
        let reply = client.get("/", "Connection: close\r\n");
        assert_eq!(reply.head.status, 200);
        assert_eq!(reply.header("Connection"), Some("close"));
        assert!(client.closed_by_server());
    }
}

/// HTTP/1.0 closes after each response unless the client asks to keep alive.
#[test]
fn http_10_keeps_alive_only_when_asked() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &[]);
        let mut plain = Client::connect(&server);
        plain.send("GET / HTTP/1.0\r\n\r\n");
        assert_eq!(plain.response().header("Connection"), Some("close"));
        assert!(plain.closed_by_server());

        let mut asking = Client::connect(&server);
        for _ in 0..3 {
            asking.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            let reply = asking.response();
            assert_eq!(reply.head.status, 200);
            assert_eq!(reply.header("Connection"), Some("keep-alive"));
        }
    }
}

/// An error response closes the connection, even a kept-alive one.
#[test]
fn an_error_closes_the_connection() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &[]);
        let mut client = Client::connect(&server);
        assert_eq!(client.get("/", "").status(), 200);
        let reply = client.get("/missing", "");
        assert_eq!(reply.head.status, 404);
        assert_eq!(reply.body, site.read("error.html"));
        assert_eq!(reply.header("Connection"), Some("close"));
        assert!(client.closed_by_server());
    }
}

/// An idle connection is closed after `--keep-alive-timeout`, quietly.
#[test]
fn an_idle_connection_is_closed_after_the_timeout() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &["--keep-alive-timeout", "300ms"]);
        let mut client = Client::connect(&server);
        assert_eq!(client.get("/", "").status(), 200);
        let started = Instant::now();
        assert!(client.closed_by_server(), "closed, with no bytes");
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "not before the timeout"
        );
    }
}

/// A request started but not finished in time gets `408`, as in the other
/// stages, even on a connection that was kept alive.
#[test]
fn a_slow_request_gets_408() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &["--read-timeout", "500ms"]);
        let mut client = Client::connect(&server);
        assert_eq!(client.get("/", "").status(), 200);
        client.send("GET /index.html HTTP/1.1\r\nHost: te");
        let reply = client.response();
        assert_eq!(reply.head.status, 408);
        assert!(client.closed_by_server());
    }
}

/// A request whose body arrives slowly does not hold a worker while it does:
/// the worker answers at once and closes the connection, and the loop, not
/// the worker, reads and throws away the rest of the body. With a single
/// worker, another client is served while the slow body is still coming. (On
/// stage 7 the task gives its permit back before it reads the rest.)
#[test]
fn a_slow_request_body_does_not_hold_a_worker() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(
            stage,
            &site.root,
            &["--threads", "1", "--read-timeout", "60s"],
        );
        let mut slow = Client::connect(&server);
        slow.send(
            "GET /style.css HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\nfirst bytes",
        );
        let reply = slow.response();
        assert_eq!(reply.head.status, 200);
        assert_eq!(reply.body, site.read("style.css"));
        assert_eq!(reply.header("Connection"), Some("close"));
        // More of the body, while another client asks for a page: with the only
        // worker waiting for the body, that client would wait the whole 60 s.
        slow.send(&"x".repeat(1000));
        let started = Instant::now();
        let other = get(server.addr, "/index.html");
        assert_eq!(other.status(), 200);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(20),
            "the other client waited {took:?}"
        );
        // The slow client stops sending, and the server closes the connection.
        assert!(slow.closed_by_server());
    }
}

/// 1,000 idle connections, half of them kept alive after a request and half
/// never saying a word, cost no threads: a normal client is served while they
/// are all open, and the server has its workers and a few more threads. On
/// stage 7, `--threads` counts permits, not threads: with 64 of them it still
/// has a thread per core and a few more.
#[test]
fn a_thousand_idle_connections_cost_no_threads() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let workers = if stage == "async" { "64" } else { "4" };
        let site = Site::new();
        let server = Server::start(
            stage,
            &site.root,
            &[
                "--threads",
                workers,
                "--read-timeout",
                "60s",
                "--keep-alive-timeout",
                "60s",
                "--quiet",
            ],
        );
        let mut kept = Vec::new();
        for _ in 0..500 {
            let mut client = Client::connect(&server);
            assert_eq!(client.get("/style.css", "").status(), 200);
            kept.push(client);
        }
        let silent: Vec<_> = (0..500).map(|_| connect(server.addr)).collect();
        let started = Instant::now();
        let reply = get(server.addr, "/index.html");
        let took = started.elapsed();
        println!("with 1,000 idle connections a request took {took:?}");
        assert_eq!(reply.head.status, 200);
        // It takes milliseconds. A server that gave the idle connections its
        // workers would answer only when the 60 s read timeout freed one; the
        // bound is half that, so that a busy machine cannot fail it.
        assert!(
            took < Duration::from_secs(30),
            "a request took {took:?} with 1,000 idle connections"
        );
        // Stage 6: the workers, the loop, the Ctrl-C thread and a few more.
        // Stage 7: the main thread, the Ctrl-C thread, a task thread per core,
        // and the few blocking threads that opened files (each lives 10 s and
        // is reused).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let bound = if stage == "async" {
            cores + 2 + 8
        } else {
            4 + 4
        };
        let threads = server.threads();
        assert!(
            threads <= bound,
            "{threads} threads with 1,000 idle connections ({workers} workers, {cores} cores): {:?}",
            server.thread_names()
        );
        // And the kept connections still work.
        assert_eq!(kept[0].get("/", "").status(), 200);
        assert_eq!(kept[499].get("/", "").status(), 200);
        drop(silent);
    }
}

/// 5,000 requests on 100 kept-alive connections leave no descriptor behind.
#[test]
fn descriptors_are_flat_after_5000_requests_on_100_connections() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage, &site.root, &["--quiet"]);
        // The ready line comes before the loop has made its poller: count once
        // the server has answered a request.
        assert_eq!(get(server.addr, "/").status(), 200);
        let before = server.open_fds();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let addr = server.addr;
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        let mut client = Client {
                            stream: connect(addr),
                            buffer: Vec::new(),
                        };
                        for _ in 0..50 {
                            assert_eq!(client.get("/style.css", "").status(), 200);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let after = server.settle(before + HANDLE_SLACK, Server::open_fds);
        assert!(
            after <= before + HANDLE_SLACK,
            "{after} descriptors open, {before} before"
        );
    }
}

/// Ctrl-C lets a download finish, closes the idle connections at once, and
/// exits 0.
#[test]
fn ctrl_c_finishes_the_download_and_closes_idle_connections() {
    for stage in kept_alive_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let expected = site.add_big_file("big.bin", 32 * 1024 * 1024);
        let mut server = Server::start(stage, &site.root, &["--shutdown-timeout", "60s"]);
        let mut idle = Client::connect(&server);
        assert_eq!(idle.get("/", "").status(), 200);
        let (promised, body) = download_across_signal(&server, "/big.bin", "INT");
        assert_eq!(promised, expected.len());
        assert!(body == expected, "the whole file arrived");
        assert!(idle.closed_by_server(), "the idle connection was closed");
        let status = server.wait_exit(PATIENCE).expect("the server exited");
        assert_eq!(status.code(), Some(0), "{}", server.log());
    }
}

/// Started with a soft limit of 64 open files (many systems start a process
/// with 1024), the server raises it to the hard limit, so that it can hold
/// the crowds of idle connections this stage is for.
#[cfg(target_os = "linux")]
#[test]
fn the_open_file_limit_is_raised_to_the_hard_limit() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    fn soft_and_hard(limits: &str) -> (String, String) {
        let line = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .expect("a line for open files");
        let mut numbers = line["Max open files".len()..].split_whitespace();
        (
            numbers.next().unwrap().to_owned(),
            numbers.next().unwrap().to_owned(),
        )
    }
    let (_, hard) = soft_and_hard(&std::fs::read_to_string("/proc/self/limits").unwrap());
    if hard == "64" || hard.parse::<u64>().is_ok_and(|hard| hard < 64) {
        eprintln!("the hard limit is {hard}: nothing to raise");
        return;
    }
    let site = Site::new();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -Sn 64 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_multithreaded-server"))
        .args(["--stage", "keep-alive", "--port", "0", "--quiet", "--root"])
        .arg(&site.root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready.starts_with("Listening on"), "{ready}");
    assert_eq!(soft_and_hard(&limits), (hard.clone(), hard), "{limits}");
}
