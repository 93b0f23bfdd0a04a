//! Grades this exercise with the course's checks for stage 4 (daemon-join) and
//! every stage before it: `cargo test -p ex04-daemon-join`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, and sends it real requests. When a check fails, the report says what
//! was sent, what came back (or did not), and a hint.

use grade::{Grader, Stage};

#[test]
fn passes_the_stage_4_checks() {
    let server = env!("CARGO_BIN_EXE_ex04-daemon-join");
    let report = Grader::command([server, "--port", "{port}", "--root", "{root}"])
        .stage(Stage::DaemonJoin)
        .run()
        .expect("the grader starts");
    assert!(report.passed(), "\n{report}");
}
