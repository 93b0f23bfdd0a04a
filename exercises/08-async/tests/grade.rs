//! Grades this exercise with the course's checks for stage 7 (async) and
//! every stage before it: `cargo test -p ex08-async`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, with a few permits, a short queue and a short keep-alive timeout
//! (`{threads}`, `{queue}`, `{keep_alive_timeout}`), and sends it real
//! requests, ten thousand idle connections among them. When a check fails,
//! the report says what was sent, what came back (or did not), and a hint.

use grade::{Grader, Stage};

#[test]
fn passes_the_stage_7_checks() {
    let server = env!("CARGO_BIN_EXE_ex08-async");
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
        "--keep-alive-timeout",
        "{keep_alive_timeout}",
    ])
    .stage(Stage::Async)
    .run()
    .expect("the grader starts");
    assert!(report.passed(), "\n{report}");
}
