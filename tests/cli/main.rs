//! The binary's command line as scripts, graders and students use it, in one
//! test binary with a file for each face of it.
//!
//! | module | what it checks |
//! |---|---|
//! | [`arguments`] | the ready line, and one clear line with a non-zero exit for every mistake |
//! | [`conformance`] | the real `curl` against every stage: a resumed download, `--compressed`, `-T`, a reload with its `ETag` |
//! | [`get`] | `multithreaded-server get`, the course's own client |
//! | [`status`] | `--status`, the live view of a server's threads and queue |
//!
//! `cargo test --test cli` runs them all; `cargo test --test cli status::`
//! runs one file's.

#[path = "../support/mod.rs"]
mod support;

mod arguments;
mod conformance;
mod get;
mod status;
