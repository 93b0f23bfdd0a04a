//! A web server built in stages, to learn how web servers work.
//!
//! The course starts from a student project report for a distributed computing
//! course (CSE 336) on a simple multithreaded web server in Python, and rebuilds
//! its server in Rust one idea at a time. Each stage is a Cargo feature and a module; each builds on the
//! one before, and each has a chapter in the book (`chapters/`).
//!
//! # Layout
//!
//! The stages, in [`stages`]:
//!
//! | # | module | the idea | what it leaves out on purpose |
//! |---|---|---|---|
//! | 1 | [`stages::single_threaded`] | the report's six steps: accept, read, parse, find, respond, send | concurrency: one idle client blocks everyone; errors get no answer |
//! | 2 | [`stages::thread_per_client`] | a new thread for every connection | a limit on threads; answers to errors |
//! | 3 | [`stages::not_found`] | errors become responses: 404 with `error.html`, 400, 405, 408 | a clean shutdown: Ctrl-C cuts downloads off |
//! | 4 | [`stages::daemon_join`] | join handles kept and pruned; Ctrl-C finishes responses, then exits 0 | a bound on threads |
//! | 5 | [`stages::thread_pool`] | a fixed set of workers, a bounded queue, 503 when full; panics do not shrink the pool | idle clients still hold workers |
//! | 6 | [`stages::keep_alive`] | persistent connections and pipelining; idle connections wait in a readiness loop (mio), not in threads | writes that never block (a slow reader of a large file holds a worker), TLS, HTTP/2 |
//! | 7 | [`stages::async_tokio`] | the same server on tokio: a task per connection, answered on the thread where it woke, small pages read there too; uploads, gzip and large files on blocking threads (`spawn_blocking`) | files read without stalling a thread on a cold disk (`io_uring`); a large file sent without a blocking thread |
//!
//! What every stage shares, written once:
//!
//! - [`http`]: the HTTP core. A session with no socket in it (bytes in, events
//!   out: parsing strictly, within limits, skipping bodies, deciding keep-alive;
//!   a response in, bytes out), the blocking connection of stages 1 to 5 around
//!   it, mapping a path to a file under the root without ever leaving it, and
//!   content types. It is where an error becomes a response, in one place.
//! - [`config`]: the root folder, timeouts and limits a stage serves with.
//! - [`shutdown`]: the stop flag that wakes a blocked `accept`, the count of
//!   clients still being served, and the Ctrl-C handler.
//! - [`log`]: one coloured line per request, naming the thread that served it.
//! - [`status`]: the live view (`--status`) of every thread and what it is
//!   doing, reported by the shared code above and the pool, not by the stages.
//! - [`net`]: the listening socket, with a chosen backlog (`--backlog`).
//! - [`platform`]: what differs by operating system (the open-file limit,
//!   `sendfile`, socket options), in one place, so no stage has a `#[cfg]`.
//!
//! The stages themselves are named in the `course` crate ([`Stage`]), which the
//! grader shares. The command line is the binary's (`src/bin/multithreaded-server/`):
//! serving, `get URL` (a small HTTP client, the report's optional exercise) and
//! `grade` (the black-box grader of the `grade` crate, for a server in any
//! language).
//!
//! Every stage entry point takes a `TcpListener` that is already bound, so tests
//! can bind `127.0.0.1:0` and learn the port before a single request is sent.

#![forbid(unsafe_code)]

pub mod config;
pub mod http;
pub mod log;
pub mod net;
pub mod platform;
pub mod shutdown;
pub mod stages;
pub mod status;

pub use config::Config;
pub use course::Stage;
