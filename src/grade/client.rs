//! A small raw HTTP client: bytes out, bytes back, and a deadline on everything.
//!
//! The grader does not trust the server to be correct, so it never parses more
//! than it must, and never waits without a limit. A response is read until the
//! server closes the connection, which every stage does after answering a
//! request that says `Connection: close`. A server that keeps the connection
//! open anyway is read up to its `Content-Length`, plus a short wait for the
//! close (none if it says `Connection: keep-alive`), so that a keep-alive
//! server is graded too rather than timed out.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// After a whole response (by its `Content-Length`) has arrived, how long to
/// wait for the server to close, or for bytes beyond what it promised.
const GRACE_AFTER_RESPONSE: Duration = Duration::from_millis(300);

/// How a read of a response ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The server closed the connection.
    Closed,
    /// A whole response arrived and the connection stayed open.
    LeftOpen,
    /// A whole response arrived, and reading stopped there, on a connection
    /// meant to carry more (see [`read_one`]).
    Complete,
    /// The deadline passed with the connection still open.
    TimedOut,
    /// The server reset the connection.
    Reset,
    /// The connection could not be made.
    NotConnected(String),
    /// Reading failed in another way.
    Failed(String),
}

/// One request sent and what came back.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
    pub end: End,
    /// How long after the request was sent the reading ended.
    pub took: Duration,
}

/// A response as it came off the wire.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    /// Everything after the blank line, whatever `Content-Length` said.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header called `name`.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Parses a response head and takes the rest as its body; `None` if `bytes`
/// do not start with a complete `HTTP/1.x NNN` head.
pub fn parse_reply(bytes: &[u8]) -> Option<Reply> {
    let end = find(bytes, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.to_owned();
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        status_line,
        headers,
        body: bytes[end + 4..].to_vec(),
    })
}

/// The request the grader sends for `path`.
pub fn get_request(addr: SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Connects, giving up at `deadline`.
pub fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, String> {
    let left = time_left(deadline).ok_or("no time left to connect")?;
    let stream = TcpStream::connect_timeout(&addr, left).map_err(|error| error.to_string())?;
    // Both directions get a limit: a server that stops reading must not block a
    // write forever either.
    let _ = stream.set_write_timeout(Some(left));
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Connects, sends `request` and reads the response, all before `deadline`.
pub fn exchange(addr: SocketAddr, request: &[u8], deadline: Instant) -> Exchange {
    match connect(addr, deadline) {
        Ok(mut stream) => exchange_on(&mut stream, request, deadline),
        Err(error) => Exchange {
            sent: request.to_vec(),
            received: Vec::new(),
            end: End::NotConnected(error),
            took: Duration::ZERO,
        },
    }
}

/// Sends `request` on a connection already open and reads the response.
pub fn exchange_on(stream: &mut TcpStream, request: &[u8], deadline: Instant) -> Exchange {
    let started = Instant::now();
    // A server may rightly close before reading all of a bad request; what it
    // sent back is what counts, so a failed write is not the end.
    let _ = stream.write_all(request);
    let (received, end) = read_response(stream, deadline);
    Exchange {
        sent: request.to_vec(),
        received,
        end,
        took: started.elapsed(),
    }
}

/// Reads a response until the server closes, or until `deadline`; see the
/// module docs for servers that keep the connection open.
pub fn read_response(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, End) {
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    // Set once, when the response is complete: the wait for a close is
    // counted from then, however many reads it takes.
    let mut grace_ends = None;
    loop {
        if grace_ends.is_none() && is_complete(&bytes) {
            // A server that says it keeps the connection open is taken at its
            // word: no close is coming.
            if parse_reply(&bytes).is_some_and(|reply| says_connection(&reply, "keep-alive")) {
                return (bytes, End::LeftOpen);
            }
            grace_ends = Some(deadline.min(Instant::now() + GRACE_AFTER_RESPONSE));
        }
        let complete = grace_ends.is_some();
        let Some(left) = time_left(grace_ends.unwrap_or(deadline)) else {
            let end = if complete {
                End::LeftOpen
            } else {
                End::TimedOut
            };
            return (bytes, end);
        };
        let _ = stream.set_read_timeout(Some(left));
        match read_chunk(stream, &mut chunk) {
            Ok(0) => return (bytes, End::Closed),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(None) => {}
            Err(Some(end)) => return (bytes, end),
        }
    }
}

/// Sends `request` on a connection that may carry more than one, and reads
/// exactly one response (see [`read_one`]).
pub fn exchange_one(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    request: &[u8],
    deadline: Instant,
) -> Exchange {
    let started = Instant::now();
    let _ = stream.write_all(request);
    let (received, end) = read_one(stream, pending, deadline);
    Exchange {
        sent: request.to_vec(),
        received,
        end,
        took: started.elapsed(),
    }
}

/// Reads one response, and no more, from a connection that may carry several:
/// up to the end of its body, by its `Content-Length`. Bytes read beyond it are
/// left in `pending` for the next call. Ends with [`End::Complete`] once a
/// whole response is in; a response without `Content-Length` has no end but
/// the connection's.
pub fn read_one(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    deadline: Instant,
) -> (Vec<u8>, End) {
    let mut chunk = vec![0; 64 * 1024];
    loop {
        if let Some(len) = response_len(pending).filter(|len| pending.len() >= *len) {
            let rest = pending.split_off(len);
            return (std::mem::replace(pending, rest), End::Complete);
        }
        let Some(left) = time_left(deadline) else {
            return (std::mem::take(pending), End::TimedOut);
        };
        let _ = stream.set_read_timeout(Some(left));
        match read_chunk(stream, &mut chunk) {
            Ok(0) => return (std::mem::take(pending), End::Closed),
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(None) => {}
            Err(Some(end)) => return (std::mem::take(pending), end),
        }
    }
}

/// Waits until the server closes the connection, or sends something, or
/// `deadline` passes. Returns what arrived (with `pending` first) and how the
/// wait ended: [`End::Closed`] or [`End::Reset`] for a close; [`End::LeftOpen`]
/// if bytes arrived and the connection is still open.
pub fn wait_for_close(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    deadline: Instant,
) -> (Vec<u8>, End) {
    let mut received = std::mem::take(pending);
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let Some(left) = time_left(deadline) else {
            let end = if received.is_empty() {
                End::TimedOut
            } else {
                End::LeftOpen
            };
            return (received, end);
        };
        let _ = stream.set_read_timeout(Some(left));
        match read_chunk(stream, &mut chunk) {
            Ok(0) => return (received, End::Closed),
            Ok(n) => {
                received.extend_from_slice(&chunk[..n]);
                // Anything complete is worth reporting at once.
                if response_len(&received).is_some_and(|len| received.len() >= len) {
                    return (received, End::LeftOpen);
                }
            }
            Err(None) => {}
            Err(Some(end)) => return (received, end),
        }
    }
}

/// Closes the connection with a reset (RST) rather than a normal close, as a
/// client that crashes or gives up does: the server's next read or write on it
/// fails.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Whether the response's `Connection` header holds `option` (`close`,
/// `keep-alive`), in any case, in any of its comma-separated parts.
pub fn says_connection(reply: &Reply, option: &str) -> bool {
    reply
        .headers_named("Connection")
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(option))
}

/// One read with the stream's read timeout: `Ok(n)` bytes (0 when the server
/// has closed), `Err(None)` when it is worth reading again (the timeout passed,
/// or a signal came), `Err(Some(end))` when the connection has ended so.
fn read_chunk(stream: &mut TcpStream, chunk: &mut [u8]) -> Result<usize, Option<End>> {
    stream.read(chunk).map_err(|error| match error.kind() {
        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut => None,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => Some(End::Reset),
        _ => Some(End::Failed(error.to_string())),
    })
}

/// Whether the connection is still open: nothing to read yet, and no close.
/// Data waiting to be read counts as open.
pub fn is_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0; 1];
    let open = match stream.peek(&mut byte) {
        Ok(0) => false,
        Ok(_) => true,
        Err(error) => error.kind() == ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    open
}

/// Whether `bytes` hold a head and as many body bytes as its `Content-Length`.
fn is_complete(bytes: &[u8]) -> bool {
    response_len(bytes).is_some_and(|len| bytes.len() >= len)
}

/// How long the response at the start of `bytes` is, head and body, if its
/// head has arrived and says (by `Content-Length`).
fn response_len(bytes: &[u8]) -> Option<usize> {
    let head_end = find(bytes, b"\r\n\r\n")? + 4;
    let reply = parse_reply(&bytes[..head_end])?;
    let body = reply.header("Content-Length")?.parse::<usize>().ok()?;
    Some(head_end + body)
}

/// The time until `deadline`, or `None` once it has passed.
pub fn time_left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl Exchange {
    /// The response, if a complete head came back.
    pub fn reply(&self) -> Option<Reply> {
        parse_reply(&self.received)
    }

    /// What was sent, for a report: the text with `\r\n` shown.
    pub fn describe_sent(&self) -> String {
        escape(&self.sent, 400)
    }

    /// What came back (or did not), for a report.
    pub fn describe_received(&self) -> String {
        let seconds = self.took.as_secs_f64();
        if self.received.is_empty() {
            return match &self.end {
                End::Closed => {
                    "nothing: the server closed the connection without a response".to_owned()
                }
                End::LeftOpen | End::Complete | End::TimedOut => {
                    format!("nothing within {seconds:.1} s; the connection was still open")
                }
                End::Reset => "nothing: the server reset the connection".to_owned(),
                End::NotConnected(error) => format!("no connection: {error}"),
                End::Failed(error) => format!("nothing: reading failed: {error}"),
            };
        }
        let end = match &self.end {
            End::Closed => "then the server closed the connection".to_owned(),
            End::LeftOpen => "and the connection stayed open".to_owned(),
            End::Complete => return describe_bytes(&self.received),
            End::TimedOut => {
                format!("then nothing more until {seconds:.1} s; the connection was still open")
            }
            End::Reset => "then the server reset the connection".to_owned(),
            End::NotConnected(error) => format!("then the connection failed: {error}"),
            End::Failed(error) => format!("then reading failed: {error}"),
        };
        format!("{}, {end}", describe_bytes(&self.received))
    }
}

/// Bytes from the server as a reader wants to see them: a head as text, a body
/// by its size, and its start when it is text.
pub fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".to_owned();
    }
    match find(bytes, b"\r\n\r\n") {
        Some(end) => {
            let head = escape(&bytes[..end + 4], 600);
            let body = &bytes[end + 4..];
            if body.is_empty() {
                format!("{head} (no body)")
            } else if body.len() <= 120 && std::str::from_utf8(body).is_ok() {
                format!("{head}{}", escape(body, 120))
            } else {
                format!("{head}[{} bytes of body]", body.len())
            }
        }
        None => format!(
            "{} ({} bytes, no complete head)",
            escape(bytes, 300),
            bytes.len()
        ),
    }
}

/// Bytes as one line of text: `\r` and `\n` shown as escapes, other control
/// bytes and invalid UTF-8 as `\xNN`, cut after `max` characters.
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for chunk in bytes.utf8_chunks() {
        let invalid = chunk.invalid().iter().map(|byte| format!("\\x{byte:02x}"));
        let valid = chunk.valid().chars().map(|c| match c {
            '\r' => "\\r".to_owned(),
            '\n' => "\\n".to_owned(),
            '\t' => "\\t".to_owned(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        });
        for piece in valid.chain(invalid) {
            if count == max {
                out.push_str(&format!("... ({} bytes in all)", bytes.len()));
                return out;
            }
            out.push_str(&piece);
            count += 1;
        }
    }
    out
}

/// Where two byte strings first differ, in words.
pub fn first_difference(expected: &[u8], got: &[u8]) -> String {
    match expected.iter().zip(got).position(|(a, b)| a != b) {
        Some(at) => format!(
            "they differ from byte {at} on (expected 0x{:02x}, got 0x{:02x}); {} bytes expected, {} received",
            expected[at],
            got[at],
            expected.len(),
            got.len()
        ),
        None if got.len() < expected.len() => format!(
            "only the first {} of {} bytes arrived",
            got.len(),
            expected.len()
        ),
        None => format!(
            "the file arrived, followed by {} extra bytes",
            got.len() - expected.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_parsed_and_its_body_kept_whole() {
        let reply = parse_reply(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nabc").unwrap();
        assert_eq!(reply.status, 404);
        assert_eq!(reply.header("content-length"), Some("2"));
        assert_eq!(reply.body, b"abc");
        assert!(parse_reply(b"<html>hello</html>\r\n\r\n").is_none());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\n").is_none());
    }

    #[test]
    fn one_response_is_read_and_the_next_left_pending() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nz")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pending = Vec::new();
        let (first, end) = read_one(&mut client, &mut pending, deadline);
        assert_eq!(end, End::Complete);
        assert_eq!(parse_reply(&first).unwrap().body, b"ab");
        let (second, _) = read_one(&mut client, &mut pending, deadline);
        assert_eq!(parse_reply(&second).unwrap().status, 404);
        assert!(pending.is_empty());
        drop(server);
        let (rest, end) = wait_for_close(&mut client, &mut pending, deadline);
        assert_eq!((rest.len(), end), (0, End::Closed));
    }

    #[test]
    fn a_response_left_open_is_waited_on_briefly() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab")
            .unwrap();
        let started = Instant::now();
        let (bytes, end) = read_response(&mut client, started + Duration::from_secs(60));
        assert_eq!(end, End::LeftOpen);
        assert_eq!(parse_reply(&bytes).unwrap().body, b"ab");
        // The grace is counted from the end of the response, once: not a
        // minute, which is the deadline.
        assert!(started.elapsed() < Duration::from_secs(30));
        drop(server);
    }

    #[test]
    fn completeness_follows_content_length() {
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        ));
        assert!(!is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"
        ));
        assert!(!is_complete(b"HTTP/1.1 200 OK\r\n\r\nabc"));
    }

    #[test]
    fn descriptions_show_line_ends_and_sizes() {
        assert_eq!(escape(b"GET / HTTP/1.1\r\n", 100), "GET / HTTP/1.1\\r\\n");
        assert_eq!(escape(b"\x00a", 100), "\\x00a");
        let described =
            describe_bytes(&[b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &[0xff; 500]].concat());
        assert_eq!(described, "HTTP/1.1 200 OK\\r\\n\\r\\n[500 bytes of body]");
        assert_eq!(describe_bytes(b""), "nothing");
    }

    #[test]
    fn differences_are_located() {
        assert!(first_difference(b"abc", b"abd").starts_with("they differ from byte 2"));
        assert_eq!(
            first_difference(b"abc", b"ab"),
            "only the first 2 of 3 bytes arrived"
        );
        assert_eq!(
            first_difference(b"ab", b"abcd"),
            "the file arrived, followed by 2 extra bytes"
        );
    }
}
