//! Grades this exercise with the course's checks for stage 3 (not-found) and
//! every stage before it: `cargo test -p ex03-not-found`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, and sends it real requests. When a check fails, the report says what
//! was sent, what came back (or did not), and a hint.

use grade::{Grader, Stage};

#[test]
fn passes_the_stage_3_checks() {
    let server = env!("CARGO_BIN_EXE_ex03-not-found");
    let report = Grader::command([server, "--port", "{port}", "--root", "{root}"])
        .stage(Stage::NotFound)
        .run()
        .expect("the grader starts");
    assert!(report.passed(), "\n{report}");
}
