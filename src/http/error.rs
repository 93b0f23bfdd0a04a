//! Everything that can stop a request from getting its file, one variant per cause.
//!
//! Each cause maps to one status code in [`Error::status`]; the response itself is
//! made in one place, [`crate::http::Response::error`]. A stage that does not
//! answer errors yet (`single-threaded`, `thread-per-client`) just logs the error
//! and closes the connection.

use std::io;

use super::StatusCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The client closed the connection part-way through a request head.
    #[error("the client closed the connection mid-request")]
    Closed,
    /// Reading from or writing to the connection failed (reset, broken pipe...).
    #[error("connection error: {0}")]
    Io(io::ErrorKind),
    /// The request head did not arrive in full before the read deadline.
    #[error("the request did not arrive in time")]
    Timeout,
    /// The request line is longer than the limit.
    #[error("the request line is too long")]
    UriTooLong,
    /// The header block is longer than the limit, or has too many lines.
    #[error("the request headers are too large")]
    HeadersTooLarge,
    /// A line ended in LF alone; HTTP/1 lines end in CRLF.
    #[error("lines must end in CRLF, not a bare LF")]
    BareLf,
    /// A NUL byte in the request head.
    #[error("the request contains a NUL byte")]
    Nul,
    /// The request line is not `METHOD SP TARGET SP HTTP/1.x`.
    #[error("the request line is not `METHOD /path HTTP/1.1`")]
    RequestLine,
    /// A well-formed HTTP version other than 1.0 and 1.1.
    #[error("only HTTP/1.0 and HTTP/1.1 are supported")]
    VersionNotSupported,
    /// A header line is not `name: value` (no colon, space before the colon,
    /// folded onto the next line, or a control character in the value).
    #[error("a header line is not `Name: value`")]
    HeaderLine,
    /// HTTP/1.1 without exactly one valid `Host` header.
    #[error("HTTP/1.1 requests need exactly one valid Host header")]
    Host,
    /// `Content-Length` is not a number, or has two different values.
    #[error("the Content-Length header is invalid")]
    ContentLength,
    /// The announced request body is larger than we are willing to read.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// The request's body is in a transfer coding other than `chunked`.
    #[error("only the chunked transfer coding is supported")]
    TransferEncoding,
    /// The head does not say where the body ends, or says it twice; the text
    /// says how.
    #[error("the body's framing is ambiguous: {0}")]
    Framing(&'static str),
    /// A chunked body is not in chunks; the text says where it broke.
    #[error("bad chunked body: {0}")]
    Chunked(&'static str),
    /// An upload without `Content-Length` or chunks.
    #[error("an upload needs a Content-Length or a chunked body")]
    LengthRequired,
    /// An `Expect` other than `100-continue`.
    #[error("the only expectation met is 100-continue")]
    Expectation,
    /// A `Range` that selects no byte of the file, whose length is given.
    #[error("the range asked for is not in the file")]
    RangeNotSatisfiable(u64),
    /// An upload whose name is taken by a folder.
    #[error("a folder has that name")]
    Conflict,
    /// A method the uploads folder does not take.
    #[error("only GET, HEAD, PUT and DELETE are allowed here")]
    UploadMethod,
    /// The request target cannot name a file; the text says why.
    #[error("bad request target: {0}")]
    Target(&'static str),
    /// A method other than GET or HEAD.
    #[error("only GET and HEAD are allowed")]
    MethodNotAllowed,
    /// No such file under the root.
    #[error("no such file")]
    NotFound,
    /// The path exists but leads outside the root (through a symlink). Answered
    /// exactly like [`Error::NotFound`], so it reveals nothing; only the log differs.
    #[error("the path leads outside the root")]
    OutsideRoot,
    /// The file exists but the server may not read it.
    #[error("the file may not be read")]
    Forbidden,
    /// Something went wrong on our side while opening or reading a file.
    #[error("could not read the file: {0}")]
    Internal(io::ErrorKind),
    /// Every worker is busy and no more clients can wait (`thread-pool` on).
    #[error("the server is busy; try again in a moment")]
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
            | Error::Framing(_)
            | Error::Chunked(_)
            | Error::Target(_) => StatusCode::BAD_REQUEST,
            Error::LengthRequired => StatusCode::LENGTH_REQUIRED,
            Error::Expectation => StatusCode::EXPECTATION_FAILED,
            Error::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Error::Conflict => StatusCode::CONFLICT,
            Error::UploadMethod => StatusCode::METHOD_NOT_ALLOWED,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages appear in the log, in error pages and in the book's
    /// transcripts, so they are pinned here word for word.
    #[test]
    fn every_cause_says_what_it_says_in_the_book() {
        let expected = [
            (
                Error::Closed,
                "the client closed the connection mid-request",
            ),
            (
                Error::Io(io::ErrorKind::ConnectionReset),
                "connection error: connection reset",
            ),
            (Error::Timeout, "the request did not arrive in time"),
            (Error::UriTooLong, "the request line is too long"),
            (Error::HeadersTooLarge, "the request headers are too large"),
            (Error::BareLf, "lines must end in CRLF, not a bare LF"),
            (Error::Nul, "the request contains a NUL byte"),
            (
                Error::RequestLine,
                "the request line is not `METHOD /path HTTP/1.1`",
            ),
            (
                Error::VersionNotSupported,
                "only HTTP/1.0 and HTTP/1.1 are supported",
            ),
            (Error::HeaderLine, "a header line is not `Name: value`"),
            (
                Error::Host,
                "HTTP/1.1 requests need exactly one valid Host header",
            ),
            (Error::ContentLength, "the Content-Length header is invalid"),
            (Error::BodyTooLarge, "the request body is too large"),
            (
                Error::TransferEncoding,
                "only the chunked transfer coding is supported",
            ),
            (
                Error::Framing("both Content-Length and chunked"),
                "the body's framing is ambiguous: both Content-Length and chunked",
            ),
            (
                Error::Chunked("a chunk size overflows"),
                "bad chunked body: a chunk size overflows",
            ),
            (
                Error::LengthRequired,
                "an upload needs a Content-Length or a chunked body",
            ),
            (
                Error::Expectation,
                "the only expectation met is 100-continue",
            ),
            (
                Error::RangeNotSatisfiable(5),
                "the range asked for is not in the file",
            ),
            (Error::Conflict, "a folder has that name"),
            (
                Error::UploadMethod,
                "only GET, HEAD, PUT and DELETE are allowed here",
            ),
            (
                Error::Target("it climbs above the root"),
                "bad request target: it climbs above the root",
            ),
            (Error::MethodNotAllowed, "only GET and HEAD are allowed"),
            (Error::NotFound, "no such file"),
            (Error::OutsideRoot, "the path leads outside the root"),
            (Error::Forbidden, "the file may not be read"),
            (
                Error::Internal(io::ErrorKind::PermissionDenied),
                "could not read the file: permission denied",
            ),
            (
                Error::Overloaded,
                "the server is busy; try again in a moment",
            ),
        ];
        for (error, message) in expected {
            assert_eq!(error.to_string(), message, "{error:?}");
        }
        assert_eq!(Error::OutsideRoot.public_message(), "no such file");
    }
}
