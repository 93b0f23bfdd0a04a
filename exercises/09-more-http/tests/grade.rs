//! Grades this exercise with the course's checks for stage 3 (not-found) and
//! every stage before it, and with the checks of one extension each:
//! `cargo test -p ex09-more-http`, or one step's test alone, such as
//! `cargo test -p ex09-more-http ranges`.
//!
//! The grader starts the server below on a free port, serving a fresh test
//! site, with an empty folder for uploads beside it (`{uploads}`), and sends
//! it real requests. When a check fails, the report says what was sent, what
//! came back (or did not), and a hint.

use grade::{Extension, Grader, Report, Stage};

/// The stage-3 checks, and those of `extensions`.
fn grade(extensions: &[Extension]) -> Report {
    let server = env!("CARGO_BIN_EXE_ex09-more-http");
    Grader::command([
        server,
        "--port",
        "{port}",
        "--root",
        "{root}",
        "--uploads",
        "{uploads}",
    ])
    .stage(Stage::NotFound)
    .with(extensions)
    .run()
    .expect("the grader starts")
}

/// What the server could do before the steps: files, 404 and 400. The
/// steps must not break it.
#[test]
fn passes_the_stage_3_checks() {
    let report = grade(&[]);
    assert!(report.passed(), "\n{report}");
}

/// Step 1: an `ETag` on every file, and `304` for `If-None-Match` with it.
#[test]
fn validators() {
    let report = grade(&[Extension::Validators]);
    assert!(report.passed(), "\n{report}");
}

/// Step 2: `206` for one range in each of its three forms, `416` past the end.
#[test]
fn ranges() {
    let report = grade(&[Extension::Ranges]);
    assert!(report.passed(), "\n{report}");
}

/// Step 3: gzip for a client that takes it, with `Vary`; none for one that
/// does not.
#[test]
fn compression() {
    let report = grade(&[Extension::Compression]);
    assert!(report.passed(), "\n{report}");
}

/// Step 4: `PUT /uploads/NAME`, written whole and into its folder only.
#[test]
fn uploads() {
    let report = grade(&[Extension::Uploads]);
    assert!(report.passed(), "\n{report}");
}
