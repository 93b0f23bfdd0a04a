//! Status codes, responses, and writing a response to the client.
//!
//! This is the one place where an [`Error`] becomes a response ([`Response::error`]),
//! and the one place where bytes of a response are put together
//! ([`Response::serialize`]), so every stage sends the same, correct headers. It
//! writes to no socket: each IO layer writes the bytes its own way.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use super::files::{self, Found};
use super::{Error, compression, date};

/// The `Server` header: the crate's name and version.
pub const SERVER: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Sent with files: a browser may keep them, but must ask again before each use
/// (cheaply: with `If-Modified-Since`, answered by a 304). Without it, a browser
/// guesses how long a file stays fresh from its age, and shows the old version
/// of a page you have just edited. (A 301 is left to be cached: it is permanent.)
fn revalidate() -> (&'static str, String) {
    ("Cache-Control", "no-cache".into())
}

/// Files up to this size are read into memory and sent with their headers in a
/// single write. Larger ones are streamed, so a file never has to fit in memory.
const INLINE_LIMIT: u64 = 64 * 1024;

/// An HTTP status code, with the reason phrase RFC 9110 gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(u16);

impl StatusCode {
    pub const CONTINUE: StatusCode = StatusCode(100);
    pub const OK: StatusCode = StatusCode(200);
    pub const CREATED: StatusCode = StatusCode(201);
    pub const NO_CONTENT: StatusCode = StatusCode(204);
    pub const PARTIAL_CONTENT: StatusCode = StatusCode(206);
    pub const MOVED_PERMANENTLY: StatusCode = StatusCode(301);
    pub const NOT_MODIFIED: StatusCode = StatusCode(304);
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    pub const REQUEST_TIMEOUT: StatusCode = StatusCode(408);
    pub const CONFLICT: StatusCode = StatusCode(409);
    pub const LENGTH_REQUIRED: StatusCode = StatusCode(411);
    pub const CONTENT_TOO_LARGE: StatusCode = StatusCode(413);
    pub const URI_TOO_LONG: StatusCode = StatusCode(414);
    pub const RANGE_NOT_SATISFIABLE: StatusCode = StatusCode(416);
    pub const EXPECTATION_FAILED: StatusCode = StatusCode(417);
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: StatusCode = StatusCode(431);
    pub const INTERNAL_SERVER_ERROR: StatusCode = StatusCode(500);
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    pub const HTTP_VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);

    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// The canonical reason phrase: "Not Found", never "NOT FOUND".
    pub fn reason(self) -> &'static str {
        match self.0 {
            100 => "Continue",
            200 => "OK",
            201 => "Created",
            204 => "No Content",
            206 => "Partial Content",
            301 => "Moved Permanently",
            304 => "Not Modified",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            409 => "Conflict",
            411 => "Length Required",
            413 => "Content Too Large",
            414 => "URI Too Long",
            416 => "Range Not Satisfiable",
            417 => "Expectation Failed",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            _ => "Unknown",
        }
    }

    /// 4xx and 5xx.
    pub fn is_error(self) -> bool {
        self.0 >= 400
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}

/// What follows the headers.
#[derive(Debug)]
pub enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// An open file and how many bytes of it to send.
    File(File, u64),
    /// An open file and how many bytes of it to send gzipped. It is
    /// compressed when the response is serialized: that is work of its own
    /// (about a millisecond for 100 KiB), which an async server does off the
    /// threads that run its tasks, where reading a small file is not.
    Gzip(File, u64),
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::File(_, len) => *len,
            // Not the length sent: `serialize` compresses it before it
            // writes the head.
            Body::Gzip(_, len) => *len,
        }
    }

    /// Whether making the body takes work beyond reading a file: compressing
    /// it. See [`Body::Gzip`].
    pub fn is_made_now(&self) -> bool {
        matches!(self, Body::Gzip(..))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response waiting to be written.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub last_modified: Option<SystemTime>,
    /// Headers only some responses carry: `Location`, `Allow`, `Retry-After`,
    /// `Cache-Control`.
    pub extra_headers: Vec<(&'static str, String)>,
    pub body: Body,
}

/// How to write a response on this connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The request was HEAD: send exactly GET's headers and no body.
    pub head_only: bool,
    /// Tell the client the connection stays open (`keep-alive` stage only).
    pub keep_alive: bool,
}

impl Response {
    /// `200 OK` with a file as the body.
    pub fn file(
        file: File,
        len: u64,
        content_type: &'static str,
        modified: Option<SystemTime>,
    ) -> Response {
        Response {
            status: StatusCode::OK,
            content_type: Some(content_type),
            last_modified: modified,
            extra_headers: vec![revalidate()],
            body: Body::File(file, len),
        }
    }

    /// Turns a `200 OK` for a file into `304 Not Modified`. It keeps the headers a
    /// cache needs to update its copy (RFC 9110 §15.4.5), and `Content-Length`,
    /// which may stay because it is the length a 200 would have; but no body will
    /// be written, and no `Content-Type`: that describes a body, and there is none.
    pub fn not_modified(mut self) -> Response {
        self.status = StatusCode::NOT_MODIFIED;
        self.content_type = None;
        self
    }

    /// A response with no body at all (`204 No Content`).
    pub fn empty(status: StatusCode) -> Response {
        Response {
            status,
            content_type: None,
            last_modified: None,
            extra_headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// `301 Moved Permanently` to `location`.
    pub fn redirect(location: String) -> Response {
        let mut response = Response::page(
            StatusCode::MOVED_PERMANENTLY,
            &format!("This folder is at <a href=\"{location}\">{location}</a>."),
        );
        response.extra_headers.push(("Location", location));
        response
    }

    /// A small HTML page of our own for a status.
    pub fn page(status: StatusCode, message: &str) -> Response {
        let body = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <title>{status}</title></head>\n<body>\n<h1>{status}</h1>\n<p>{message}</p>\n\
             <hr><p><small>{SERVER}</small></p>\n</body>\n</html>\n"
        );
        Response {
            status,
            content_type: Some("text/html; charset=utf-8"),
            last_modified: None,
            extra_headers: Vec::new(),
            body: Body::Bytes(body.into_bytes()),
        }
    }

    // ANCHOR: error_response
    /// The response for an error: the root's `error.html` for `404` (a page of our
    /// own if there is none), a small page saying what went wrong otherwise.
    ///
    /// Returns `None` for errors that leave no one to answer.
    pub fn error(root: &Path, error: &Error) -> Option<Response> {
        let status = error.status()?;
        if status == StatusCode::NOT_FOUND
            && let Some(page) = error_page(root)
        {
            return Some(page);
        }
        let mut response = Response::page(status, &escape_html(&error.public_message()));
        let header = match error {
            Error::MethodNotAllowed => ("Allow", "GET, HEAD".into()),
            Error::UploadMethod => ("Allow", "GET, HEAD, PUT, DELETE".into()),
            Error::Overloaded => ("Retry-After", "1".into()),
            // The client learns the file's length, to ask again within it.
            Error::RangeNotSatisfiable(len) => ("Content-Range", format!("bytes */{len}")),
            _ => return Some(response),
        };
        response.extra_headers.push(header);
        Some(response)
    }
    // ANCHOR_END: error_response

    /// The response as bytes for any IO layer to write: the status line, the
    /// headers and (unless `options.head_only`, or the status has no body) the
    /// body, or, for a large file, the file to stream after them.
    ///
    /// The head and a small body go out in one buffer, for one `write`: two
    /// small writes in a row is the pattern that Nagle's algorithm and delayed
    /// ACKs turn into a 40 ms stall. A larger file is left open, so that it
    /// never has to fit in memory.
    // ANCHOR: serialize
    pub fn serialize(mut self, options: WriteOptions) -> io::Result<Outgoing> {
        self.body = match self.body {
            // Compressed even for HEAD: its `Content-Length` is GET's.
            Body::Gzip(file, len) => Body::Bytes(compression::gzip(&file, len)?),
            body => body,
        };
        let mut bytes = Vec::with_capacity(256);
        self.write_head(&mut bytes, self.body.len(), options.keep_alive);
        let send_body = !options.head_only && self.status != StatusCode::NOT_MODIFIED;
        let file = match self.body {
            _ if !send_body => None,
            Body::Empty => None,
            Body::Bytes(body) => {
                bytes.extend_from_slice(&body);
                None
            }
            Body::File(mut file, len) if len <= INLINE_LIMIT => {
                // One read of exactly the promised length; a file that shrank
                // since its length was taken fails here rather than lie.
                let start = bytes.len();
                bytes.resize(start + len as usize, 0);
                file.read_exact(&mut bytes[start..]).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("the file changed while it was sent: {error}"),
                    )
                })?;
                None
            }
            Body::File(file, len) => Some((file, len)),
            Body::Gzip(..) => unreachable!("compressed above"),
        };
        Ok(Outgoing { bytes, file })
    }
    // ANCHOR_END: serialize

    fn write_head(&self, out: &mut Vec<u8>, len: u64, keep_alive: bool) {
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "HTTP/1.1 {}\r\nDate: {}\r\nServer: {SERVER}\r\n",
            self.status,
            date::now()
        );
        if let Some(content_type) = self.content_type {
            let _ = write!(out, "Content-Type: {content_type}\r\n");
        }
        // No length on a 204, and none on a 304 that does not know the
        // length its 200 would have (RFC 9110 §8.6).
        let unknown = self.status == StatusCode::NOT_MODIFIED && matches!(self.body, Body::Empty);
        if self.status != StatusCode::NO_CONTENT && !unknown {
            let _ = write!(out, "Content-Length: {len}\r\n");
        }
        if let Some(modified) = self.last_modified {
            let _ = write!(out, "Last-Modified: {}\r\n", date::format(modified));
        }
        for (name, value) in &self.extra_headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let _ = write!(out, "Connection: {connection}\r\n\r\n");
    }
}

/// A response ready to be written: bytes, then perhaps a file.
#[derive(Debug)]
pub struct Outgoing {
    /// The head, and the body with it when the body is small.
    pub bytes: Vec<u8>,
    /// A large file's body, to be sent after `bytes`: the file, and how many
    /// bytes of it (its `Content-Length`).
    pub file: Option<(File, u64)>,
}

impl Outgoing {
    /// Writes as much of `bytes` as `out`, a non-blocking socket, takes now,
    /// and keeps the rest; a file is left to be streamed. Returns how many
    /// bytes went. For an IO layer that must not wait (`keep-alive`'s workers
    /// try this first, as most responses fit the socket's buffer).
    pub fn write_available(&mut self, mut out: impl Write) -> io::Result<u64> {
        let mut sent = 0;
        while !self.bytes.is_empty() {
            match out.write(&self.bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.bytes.drain(..n);
                    sent += n as u64;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(sent)
    }

    /// Whether all of it has been written.
    pub fn is_done(&self) -> bool {
        self.bytes.is_empty() && self.file.is_none()
    }

    /// Checks how much of the file an IO layer managed to send: a file that
    /// shrank while it was sent breaks the promise of `Content-Length`, and the
    /// only honest thing left is to close.
    pub fn check_sent(promised: u64, sent: u64) -> io::Result<()> {
        if sent == promised {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the file changed while it was sent ({sent} of {promised} bytes)"),
            ))
        }
    }
}

/// The root's `error.html` as a 404 page, if there is one.
///
/// It is looked up like any requested file, so an `error.html` that is a symlink
/// out of the root, a folder or a FIFO is passed over for our own page.
fn error_page(root: &Path) -> Option<Response> {
    let Ok(Found::File {
        file,
        len,
        modified,
        ..
    }) = files::find(root, "/error.html")
    else {
        return None;
    };
    let mut response = Response::file(file, len, "text/html; charset=utf-8", modified);
    response.status = StatusCode::NOT_FOUND;
    Some(response)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole response as text, a streamed file's bytes included.
    fn written(response: Response, options: WriteOptions) -> String {
        let Outgoing { mut bytes, file } = response.serialize(options).unwrap();
        if let Some((file, len)) = file {
            let sent = file.take(len).read_to_end(&mut bytes).unwrap() as u64;
            Outgoing::check_sent(len, sent).unwrap();
        }
        String::from_utf8(bytes).unwrap()
    }

    /// A socket that takes `room` more bytes, then would block.
    struct Full {
        taken: Vec<u8>,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let n = bytes.len().min(self.room).min(3); // a few at a time
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.room -= n;
            self.taken.extend_from_slice(&bytes[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A non-blocking writer sends what the socket takes and keeps the rest,
    /// to be written later from where it stopped.
    #[test]
    fn what_a_full_socket_does_not_take_is_kept_for_later() {
        let page = || Response::page(StatusCode::OK, "hello");
        let whole = written(page(), WriteOptions::default());
        let mut out = page().serialize(WriteOptions::default()).unwrap();
        let mut socket = Full {
            taken: Vec::new(),
            room: 10,
        };
        assert_eq!(out.write_available(&mut socket).unwrap(), 10);
        assert!(!out.is_done());
        socket.room = usize::MAX;
        let rest = out.write_available(&mut socket).unwrap();
        assert!(out.is_done());
        assert_eq!(10 + rest as usize, whole.len());
        // The Date header may differ by a second; everything else may not.
        assert_eq!(socket.taken.len(), whole.len());
        assert!(
            String::from_utf8(socket.taken)
                .unwrap()
                .ends_with("</html>\n")
        );
    }

    #[test]
    fn reason_phrases_are_canonical() {
        assert_eq!(StatusCode::NOT_FOUND.to_string(), "404 Not Found");
        assert_eq!(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.to_string(),
            "431 Request Header Fields Too Large"
        );
    }

    #[test]
    fn a_page_has_every_required_header_and_a_matching_length() {
        let text = written(
            Response::page(StatusCode::BAD_REQUEST, "nope"),
            WriteOptions::default(),
        );
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        for name in [
            "Date: ",
            "Server: multithreaded-server/",
            "Content-Type: text/html; charset=utf-8",
        ] {
            assert!(head.contains(name), "{name} missing from {head}");
        }
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(head.ends_with("Connection: close"));
    }

    #[test]
    fn head_only_keeps_the_length_and_drops_the_body() {
        let get = written(Response::page(StatusCode::OK, "x"), WriteOptions::default());
        let head = written(
            Response::page(StatusCode::OK, "x"),
            WriteOptions {
                head_only: true,
                keep_alive: true,
            },
        );
        assert!(head.ends_with("Connection: keep-alive\r\n\r\n"));
        let strip = |text: &str| {
            text.split("\r\n")
                .filter(|line| !line.starts_with("Date:") && !line.starts_with("Connection:"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let get_head = get.split_once("\r\n\r\n").unwrap().0;
        assert_eq!(strip(get_head), strip(head.trim_end()));
    }

    #[test]
    fn a_304_has_no_content_type_and_no_body() {
        let file = File::open(file!()).unwrap();
        let len = file.metadata().unwrap().len();
        let response = Response::file(file, len, "text/plain; charset=utf-8", None);
        let text = written(response.not_modified(), WriteOptions::default());
        assert!(text.starts_with("HTTP/1.1 304 Not Modified\r\n"));
        assert!(!text.contains("Content-Type"), "{text}");
        assert!(text.contains(&format!("Content-Length: {len}\r\n")));
        assert!(text.ends_with("\r\n\r\n"), "no body: {text}");
    }

    #[test]
    fn files_must_be_revalidated_before_reuse() {
        let file = File::open(file!()).unwrap();
        let len = file.metadata().unwrap().len();
        let response = Response::file(file, len, "text/plain; charset=utf-8", None);
        let head_only = WriteOptions {
            head_only: true,
            keep_alive: false,
        };
        assert!(written(response, head_only).contains("\r\nCache-Control: no-cache\r\n"));
    }

    #[test]
    fn errors_get_their_status_and_405_says_what_is_allowed() {
        let root = Path::new("/nonexistent-root");
        let response = Response::error(root, &Error::MethodNotAllowed).unwrap();
        let text = written(response, WriteOptions::default());
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"));
        let response = Response::error(root, &Error::NotFound).unwrap();
        assert!(written(response, WriteOptions::default()).contains("<h1>404 Not Found</h1>"));
        assert!(Response::error(root, &Error::Closed).is_none());
    }
}
