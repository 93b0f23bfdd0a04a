//! Hostile clients, against every stage compiled in: what no input from the
//! network may do to a server, in one test binary with a file for each kind of
//! attack.
//!
//! | module | what it sends |
//! |---|---|
//! | [`security`] | every way of spelling `..`, and symlinks out of the root |
//! | [`malformed`] | broken request lines, headers, bodies and ranges, each with the status it must get |
//! | [`properties`] | thousands of generated inputs to the parser, the path check, bodies, ranges and upload names |
//! | [`load`] | crowds of idle, slow and simultaneous clients, and what they must give back |
//!
//! `cargo test --test hardening` runs them all; `cargo test --test hardening
//! security::` runs one file's.

#[path = "../support/mod.rs"]
mod support;

mod load;
mod malformed;
mod properties;
mod security;
