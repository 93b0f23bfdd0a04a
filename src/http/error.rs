//! Everything that can stop a request from getting its file, one variant per cause.
//!
//! Each cause maps to one status code in [`Error::status`]; the response itself is
//! made in one place, [`crate::http::Response::error`]. A stage that does not
//! answer errors yet (`single-threaded`, `thread-per-client`) just logs the error
//! and closes the connection.

use std::fmt;
use std::io;

use super::StatusCode;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The client closed the connection part-way through a request head.
    Closed,
    /// Reading from or writing to the connection failed (reset, broken pipe...).
    Io(io::ErrorKind),
    /// The request head did not arrive in full before the read deadline.
    Timeout,
    /// The request line is longer than the limit.
    UriTooLong,
    /// The header block is longer than the limit, or has too many lines.
    HeadersTooLarge,
    /// A line ended in LF alone; HTTP/1 lines end in CRLF.
    BareLf,
    /// A NUL byte in the request head.
    Nul,
    /// The request line is not `METHOD SP TARGET SP HTTP/1.x`.
    RequestLine,
    /// A well-formed HTTP version other than 1.0 and 1.1.
    VersionNotSupported,
    /// A header line is not `name: value` (no colon, space before the colon,
    /// folded onto the next line, or a control character in the value).
    HeaderLine,
    /// HTTP/1.1 without exactly one valid `Host` header.
    Host,
    /// `Content-Length` is not a number, or has two different values.
    ContentLength,
    /// The announced request body is larger than we are willing to read.
    BodyTooLarge,
    /// The request uses `Transfer-Encoding`, which this server does not implement.
    TransferEncoding,
    /// The request target cannot name a file; the text says why.
    Target(&'static str),
    /// A method other than GET or HEAD.
    MethodNotAllowed,
    /// No such file under the root.
    NotFound,
    /// The path exists but leads outside the root (through a symlink). Answered
    /// exactly like [`Error::NotFound`], so it reveals nothing; only the log differs.
    OutsideRoot,
    /// The file exists but the server may not read it.
    Forbidden,
    /// Something went wrong on our side while opening or reading a file.
    Internal(io::ErrorKind),
    /// Every worker is busy and no more clients can wait (`thread-pool` on).
    Overloaded,
}

impl Error {
    // ANCHOR: status
    /// The status this error is answered with, or `None` when no answer can be
    /// sent because the connection itself is gone.
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            Error::Closed | Error::Io(_) => return None,
            Error::Timeout => StatusCode::REQUEST_TIMEOUT,
            Error::UriTooLong => StatusCode::URI_TOO_LONG,
            Error::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Error::BareLf
            | Error::Nul
            | Error::RequestLine
            | Error::HeaderLine
            | Error::Host
            | Error::ContentLength
            | Error::Target(_) => StatusCode::BAD_REQUEST,
            Error::VersionNotSupported => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Error::BodyTooLarge => StatusCode::CONTENT_TOO_LARGE,
            Error::TransferEncoding => StatusCode::NOT_IMPLEMENTED,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::NotFound | Error::OutsideRoot => StatusCode::NOT_FOUND,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        })
    }
    // ANCHOR_END: status

    /// The sentence shown to the client in an error page. It never repeats what
    /// the client sent, so a page cannot be made to carry someone else's script.
    /// [`Error::OutsideRoot`] says what [`Error::NotFound`] says, on purpose.
    pub fn public_message(&self) -> String {
        match self {
            Error::OutsideRoot => Error::NotFound.to_string(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => f.write_str("the client closed the connection mid-request"),
            Error::Io(kind) => write!(f, "connection error: {kind}"),
            Error::Timeout => f.write_str("the request did not arrive in time"),
            Error::UriTooLong => f.write_str("the request line is too long"),
            Error::HeadersTooLarge => f.write_str("the request headers are too large"),
            Error::BareLf => f.write_str("lines must end in CRLF, not a bare LF"),
            Error::Nul => f.write_str("the request contains a NUL byte"),
            Error::RequestLine => f.write_str("the request line is not `METHOD /path HTTP/1.1`"),
            Error::VersionNotSupported => f.write_str("only HTTP/1.0 and HTTP/1.1 are supported"),
            Error::HeaderLine => f.write_str("a header line is not `Name: value`"),
            Error::Host => f.write_str("HTTP/1.1 requests need exactly one valid Host header"),
            Error::ContentLength => f.write_str("the Content-Length header is invalid"),
            Error::BodyTooLarge => f.write_str("the request body is too large"),
            Error::TransferEncoding => {
                f.write_str("Transfer-Encoding is not supported by this server")
            }
            Error::Target(why) => write!(f, "bad request target: {why}"),
            Error::MethodNotAllowed => f.write_str("only GET and HEAD are allowed"),
            Error::NotFound => f.write_str("no such file"),
            Error::OutsideRoot => f.write_str("the path leads outside the root"),
            Error::Forbidden => f.write_str("the file may not be read"),
            Error::Internal(kind) => write!(f, "could not read the file: {kind}"),
            Error::Overloaded => f.write_str("the server is busy; try again in a moment"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    /// A socket error while reading a request. A timeout is the read deadline.
    fn from(error: io::Error) -> Error {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout,
            io::ErrorKind::UnexpectedEof => Error::Closed,
            kind => Error::Io(kind),
        }
    }
}
