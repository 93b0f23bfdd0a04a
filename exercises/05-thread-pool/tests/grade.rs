//! Grades this exercise with the course's checks for stage 5 (thread-pool) and
//! every stage before it: `cargo test -p ex05-thread-pool`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, with a few workers and a short queue (`{threads}` and `{queue}`), and
//! sends it real requests. When a check fails, the report says what was sent,
//! what came back (or did not), and a hint.

use grade::{Grader, Stage};

#[test]
fn passes_the_stage_5_checks() {
    let server = env!("CARGO_BIN_EXE_ex05-thread-pool");
    let report = Grader::command([
        server,
        "--port",
        "{port}",
        "--root",
        "{root}",
        "--threads",
        "{threads}",
        "--queue",
        "{queue}",
    ])
    .stage(Stage::ThreadPool)
    .run()
    .expect("the grader starts");
    assert!(report.passed(), "\n{report}");
}

/// A job that panics must not take its worker with it: the pool would shrink
/// by one worker for every panic, and stop serving once none is left. No
/// check from outside can make a server panic, so this test uses the bug on
/// purpose in `handle_connection`: with `PANIC_ON=/boom`, a request for
/// `/boom` panics. Two workers, four panics, then four ordinary requests,
/// one at a time: each must be answered.
#[test]
fn a_panicking_job_leaves_its_worker_serving() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let port = grade::ports::free_port().expect("a free port");
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www");
    let mut server = Command::new(env!("CARGO_BIN_EXE_ex05-thread-pool"))
        .args(["--port", &port.to_string(), "--root", www])
        .args(["--threads", "2", "--queue", "8"])
        .env("PANIC_ON", "/boom")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    // A first build may be slow to start; the server is up once it accepts.
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not accept connections within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // One request on its own connection; what came back before it closed,
    // or before `wait` passed with no close.
    let ask = |path: &str, wait: u64| -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(wait)))
            .unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let _ = stream.write_all(request.as_bytes());
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    };
    // A panicking job closes its connection; with no worker left, it is
    // never read, and 5 s is enough to move on.
    for _ in 0..4 {
        ask("/boom", 5);
    }
    let mut answers = Vec::new();
    for _ in 0..4 {
        let answer = ask("/index.html", 20);
        let served = answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200");
        answers.push(answer);
        if !served {
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    for (i, answer) in answers.iter().enumerate() {
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
            "after four requests whose jobs panicked, GET /index.html number {} got {:?}: \
             a panic took its worker with it (catch it in the worker: \
             std::panic::catch_unwind)",
            i + 1,
            answer.lines().next().unwrap_or("nothing, within 20 s"),
        );
    }
}
