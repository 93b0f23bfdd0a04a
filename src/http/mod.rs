//! The HTTP core every stage shares, written once.
//!
//! | module | job |
//! |---|---|
//! | [`request`] | parse a request head, within limits |
//! | [`session`] | one connection's HTTP with no socket in it: bytes in, events out; a response in, bytes out |
//! | [`connection`] | the blocking connection of stages 1 to 5: read within a deadline, send within a deadline, close cleanly |
//! | [`files`] | map a request target to a file under the root, safely; answer GET and HEAD |
//! | [`response`] | status codes; the one place errors become responses; a response as bytes |
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
pub mod session;

pub use crate::config::Limits;
pub use connection::Connection;
pub use error::Error;
pub use request::{HttpVersion, Method, Request};
pub use response::{Body, Outgoing, Response, StatusCode, WriteOptions};
pub use session::{Event, Session};
