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
