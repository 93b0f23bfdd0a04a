//! Grades this exercise with the course's checks for stage 6 (keep-alive) and
//! every stage before it: `cargo test -p ex06-keep-alive`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, with a few workers, a short queue and a short keep-alive timeout
//! (`{threads}`, `{queue}`, `{keep_alive_timeout}`), and sends it real
//! requests. When a check fails, the report says what was sent, what came back
//! (or did not), and a hint.

use grade::{Grader, Stage};

#[test]
fn passes_the_stage_6_checks() {
    let server = env!("CARGO_BIN_EXE_ex06-keep-alive");
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
    .stage(Stage::KeepAlive)
    .run()
    .expect("the grader starts");
    assert!(report.passed(), "\n{report}");
}
