//! The course's black-box grader: it grades a web server, written in any
//! language, stage by stage, by talking to it over real sockets.
//!
//! The same checks grade the course's own stages in `cargo test`
//! (`tests/grading.rs`), the starter projects in `exercises/`, and a student's
//! submission from the command line (`multithreaded-server grade`), so every
//! check is proven on a working server every day, and on a deliberately broken
//! one too. The grader knows nothing of the course's server but its stages'
//! names ([`course`]): it grades the course's server as it grades any other.
//!
//! # Layout
//!
//! | module | job |
//! |---|---|
//! | `grader` | [`Grader`]: what to grade, with which settings, and the run that writes the site, runs the checks and reports |
//! | [`check`] | what a check is: its stage, time limit, needs, hint, and how it fails |
//! | [`checks`] | the table of every check; a folder per stage, a file per check, and what checks share (`common`) |
//! | [`response`] | reads an HTTP response as curl does (bare LF, no reason phrase), sans-IO, by length, chunks or the close; judges a head's strict syntax apart |
//! | [`client`] | raw exchanges: send bytes, read with a deadline, describe what came back |
//! | [`fixture`] | a fresh site with random contents, and a sentinel beside it |
//! | [`random`] | the one random generator, for the site and the tests |
//! | [`process`] | start the server in its own process group, signal it, count its threads, stop it |
//! | [`ports`] | a free port for each server, never one another grader running at once has |
//! | [`report`] | the coloured checklist, the JSON object, and `--list` |
//! | [`formats`] | Gradescope's `results.json`, JUnit XML, and points per check |
//! | [`server`] | the server under grade: started, restarted after a death (a dozen times at most), asked whether it still answers |
//! | [`probe`] | what a check holds: the server's address, the site, and requests that record each step |
//! | `runner` | runs the checks in table order on one server, the risky ones last, those that stop it each on a copy; traces a death to its cause |
//! | [`watch`] | which check was at which step when the server died, and the bytes to replay on a fresh server |
//!
//! ```no_run
//! use grade::{Grader, Stage};
//!
//! let report = Grader::command(["python3", "server.py", "{port}", "{root}"])
//!     .stage(Stage::ThreadPerClient)
//!     .run()?;
//! print!("{report}");
//! assert!(report.passed());
//! # Ok::<(), grade::SetupError>(())
//! ```
//!
//! A program that grades from a terminal should stop the servers and remove
//! the sites when Ctrl-C stops it: the servers run in process groups of their
//! own, out of the terminal's reach. [`process::stop_all`] and
//! [`fixture::remove_temporary`] do that, from its Ctrl-C handler.

// No unsafe code, but for the system calls std does not wrap, in the
// per-OS halves of `process` (Unix, macOS and Windows), where each says why
// it is sound.
#![deny(unsafe_code)]

pub mod check;
pub mod checks;
pub mod client;
pub mod fixture;
pub mod formats;
mod grader;
pub mod ports;
pub mod probe;
pub mod process;
pub mod random;
pub mod report;
pub mod response;
mod runner;
pub mod server;
pub mod watch;

pub use check::{Extension, Failure, Mode, Need, Settings};
pub use checks::{CHECKS, Check};
pub use course::Stage;
pub use fixture::{Fixture, FixtureError};
pub use formats::{Points, PointsError};
pub use grader::{
    DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_QUEUE, DEFAULT_STARTUP_TIMEOUT, DEFAULT_THREADS, Grader,
    SetupError, Target,
};
pub use process::StartError;
pub use report::{CheckResult, NOT_ON_THIS_PLATFORM, Report, Verdict, list};
