//! The HTTP core every stage shares, written once.
//!
//! | module | job |
//! |---|---|
//! | [`request`] | parse a request head, within limits |
//! | [`connection`] | read heads from a socket within a deadline, send responses, close cleanly |
//! | [`files`] | map a request target to a file under the root, safely; answer GET and HEAD |
//! | [`response`] | status codes; the one place errors become responses; writing bytes |
//! | [`mime`] | `Content-Type` by extension |
//! | [`date`] | HTTP dates, with the `httpdate` crate |
//! | [`error`] | every reason a request fails, and its status |
//!
//! A stage's module decides only what happens *around* these calls: how many
//! connections at once, on which threads, and what to do with an error.

pub mod connection;
pub mod date;
pub mod error;
pub mod files;
pub mod mime;
pub mod request;
pub mod response;

pub use connection::Connection;
pub use error::Error;
pub use request::{HttpVersion, Limits, Method, Request};
pub use response::{Body, Response, StatusCode, WriteOptions};
