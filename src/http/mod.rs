//! The HTTP core every stage shares, written once.
//!
//! | module | job |
//! |---|---|
//! | [`request`] | parse a request head, within limits |
//! | [`body`] | read a request body framed by `Content-Length` or in chunks, kept or thrown away |
//! | [`session`] | one connection's HTTP with no socket in it: bytes in, events out; a response in, bytes out |
//! | [`connection`] | the blocking connection of stages 1 to 5: read within a deadline, send within a deadline, close cleanly |
//! | [`files`] | map a request target to a file under the root, safely; answer GET and HEAD |
//! | [`response`] | status codes; the one place errors become responses; a response as bytes |
//! | [`mime`] | `Content-Type` by extension |
//! | [`validators`] | `ETag`, `If-None-Match`, `If-Modified-Since`, `If-Range`: when a `304` will do |
//! | [`ranges`] | `Range: bytes=...`: which part of a file to send (`206`, `416`) |
//! | [`compression`] | `Accept-Encoding`: gzip made now, or `.gz` and `.br` files made ready |
//! | [`uploads`] | `PUT` and `DELETE` in the uploads folder (`--uploads`), whole or not at all |
//! | [`date`] | HTTP dates, with the `httpdate` crate |
//! | [`error`] | every reason a request fails, and its status |
//!
//! A stage's module decides only what happens *around* these calls: how many
//! connections at once, on which threads, and what to do with an error.

pub mod body;
pub mod compression;
pub mod connection;
pub mod date;
pub mod error;
pub mod files;
pub mod mime;
pub mod ranges;
pub mod request;
pub mod response;
pub mod session;
pub mod uploads;
pub mod validators;

pub use crate::config::Limits;
pub use connection::Connection;
pub use error::Error;
pub use request::{HttpVersion, Method, Request};
pub use response::{Body, Outgoing, Response, StatusCode, WriteOptions};
pub use session::{Event, Session};
