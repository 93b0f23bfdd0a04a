//! A small raw HTTP client: bytes out, bytes back, and a deadline on everything.
//!
//! The grader does not trust the server to be correct, so it keeps every byte
//! that came back, for its reports, and never waits without a limit. A
//! response is read until the server closes the connection, which every stage
//! does after answering a request that says `Connection: close`. A server that
//! keeps the connection open anyway is read to the end of its response (where
//! its framing says: `Content-Length`, or the last chunk), plus a short wait
//! for the close (none if it says `Connection: keep-alive`), so that a
//! keep-alive server is graded too rather than timed out. Where a response
//! ends is the [`response`](crate::response) reader's to say.

use std::borrow::Cow;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::check::Failure;
use crate::response::{Event, ReadError, Reader, Reply, find};

/// The hint for a server that closed the connection without sending a byte.
pub const NOTHING_SENT_HINT: &str = "The server closed the connection without sending a byte: after reading the request, write the status line, the headers, a blank line and the body to the same connection before closing it.";

/// After a whole response has arrived, how long to wait for the server to
/// close, or for bytes beyond what it promised.
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

/// Connects and sends `pieces` one write each, `pause` apart, then reads the
/// response, all before `deadline`: a request that arrives in pieces, as on
/// a slow network. The exchange's `sent` is the pieces joined.
pub fn exchange_in_pieces(
    addr: SocketAddr,
    pieces: &[&[u8]],
    pause: Duration,
    deadline: Instant,
) -> Exchange {
    let request = pieces.concat();
    let mut stream = match connect(addr, deadline) {
        Ok(stream) => stream,
        Err(error) => {
            return Exchange {
                sent: request,
                received: Vec::new(),
                end: End::NotConnected(error),
                took: Duration::ZERO,
            };
        }
    };
    let started = Instant::now();
    for (n, piece) in pieces.iter().enumerate() {
        if n > 0 {
            // The pause is the point: the server must wait for the rest.
            std::thread::sleep(pause.min(time_left(deadline).unwrap_or_default()));
        }
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    let (received, end) = read_response(&mut stream, &method_of(&request), deadline);
    Exchange {
        sent: request,
        received,
        end,
        took: started.elapsed(),
    }
}

/// Sends `request` on a connection already open and reads the response.
pub fn exchange_on(stream: &mut TcpStream, request: &[u8], deadline: Instant) -> Exchange {
    let started = Instant::now();
    // A server may rightly close before reading all of a bad request; what it
    // sent back is what counts, so a failed write is not the end.
    let _ = stream.write_all(request);
    let (received, end) = read_response(stream, &method_of(request), deadline);
    Exchange {
        sent: request.to_vec(),
        received,
        end,
        took: started.elapsed(),
    }
}

/// Reads the response to a `method` request until the server closes, or until
/// `deadline`; see the module docs for servers that keep the connection open.
pub fn read_response(stream: &mut TcpStream, method: &str, deadline: Instant) -> (Vec<u8>, End) {
    let mut incoming = Incoming::new(method);
    let mut received = Vec::new();
    // Set once, when the response is whole: the wait for a close is counted
    // from then, however many reads it takes.
    let mut grace_ends = None;
    loop {
        if grace_ends.is_none() && incoming.is_whole() {
            // A server that says it keeps the connection open is taken at its
            // word: no close is coming.
            if incoming.keep_alive {
                return (received, End::LeftOpen);
            }
            grace_ends = Some(deadline.min(Instant::now() + GRACE_AFTER_RESPONSE));
        }
        let until = grace_ends.unwrap_or(deadline);
        if time_left(until).is_none() {
            let end = if grace_ends.is_some() {
                End::LeftOpen
            } else {
                End::TimedOut
            };
            return (received, end);
        }
        if let Some(end) = incoming.read(stream, &mut received, until) {
            return (received, end);
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
    let (received, end) = read_one(stream, pending, &method_of(request), deadline);
    Exchange {
        sent: request.to_vec(),
        received,
        end,
        took: started.elapsed(),
    }
}

/// Reads one response to a `method` request, and no more, from a connection
/// that may carry several: up to the end of its body, where its framing says.
/// Bytes read beyond it are left in `pending` for the next call. Ends with
/// [`End::Complete`] once a whole response is in; a response framed by
/// neither `Content-Length` nor chunks has no end but the connection's.
pub fn read_one(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    method: &str,
    deadline: Instant,
) -> (Vec<u8>, End) {
    let mut incoming = Incoming::new(method);
    incoming.reader.feed(pending);
    let mut received = std::mem::take(pending);
    loop {
        if incoming.is_whole() {
            *pending = incoming.reader.rest();
            received.truncate(received.len() - pending.len());
            return (received, End::Complete);
        }
        if time_left(deadline).is_none() {
            return (received, End::TimedOut);
        }
        if let Some(end) = incoming.read(stream, &mut received, deadline) {
            return (received, end);
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
    let mut incoming = Incoming::new("GET");
    incoming.reader.feed(pending);
    let mut received = std::mem::take(pending);
    loop {
        if time_left(deadline).is_none() {
            let end = if received.is_empty() {
                End::TimedOut
            } else {
                End::LeftOpen
            };
            return (received, end);
        }
        let before = received.len();
        if let Some(end) = incoming.read(stream, &mut received, deadline) {
            return (received, end);
        }
        // Anything whole is worth reporting at once.
        if received.len() > before && incoming.is_whole() {
            return (received, End::LeftOpen);
        }
    }
}

/// Reads until the server closes the connection (or resets it), or until
/// `deadline`: every byte, whatever it is.
pub fn read_to_close(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, End) {
    let mut incoming = Incoming::new("GET");
    let mut received = Vec::new();
    loop {
        if time_left(deadline).is_none() {
            return (received, End::TimedOut);
        }
        if let Some(end) = incoming.read(stream, &mut received, deadline) {
            return (received, end);
        }
        // Only to let the reader give its buffer up: what it makes of the
        // bytes does not matter here.
        incoming.is_whole();
    }
}

/// A response being read: the reader that finds its end, and what the
/// client needs to know of it so far.
struct Incoming {
    reader: Reader,
    /// Its head says `Connection: keep-alive`.
    keep_alive: bool,
}

impl Incoming {
    fn new(method: &str) -> Incoming {
        Incoming {
            reader: Reader::new(method),
            keep_alive: false,
        }
    }

    /// Whether the response is whole, after the bytes read so far. A
    /// response that breaks its framing is never whole: it is read on to the
    /// close or the deadline, as one without a length would be.
    fn is_whole(&mut self) -> bool {
        loop {
            match self.reader.next_event() {
                Ok(Event::Head(head)) => self.keep_alive = head.says_connection("keep-alive"),
                Ok(Event::Body(_)) => {}
                Ok(Event::End) => return true,
                Ok(Event::NeedMore) | Err(_) => return false,
            }
        }
    }

    /// One read, by `deadline`, into the reader and onto `received`; the way
    /// the connection ended, if it did.
    fn read(
        &mut self,
        stream: &mut TcpStream,
        received: &mut Vec<u8>,
        deadline: Instant,
    ) -> Option<End> {
        match self.reader.read_by(stream, deadline) {
            Ok([]) => Some(End::Closed),
            Ok(bytes) => {
                received.extend_from_slice(bytes);
                None
            }
            // The caller looks at the clock, and ends the wait if it is over.
            Err(ReadError::TimedOut) => None,
            Err(ReadError::Reset(_)) => Some(End::Reset),
            Err(error) => Some(End::Failed(error.to_string())),
        }
    }
}

/// The method of `request` (its first word), for the reader of the response:
/// the answer to `HEAD` has no body.
fn method_of(request: &[u8]) -> Cow<'_, str> {
    let end = request
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(request.len());
    String::from_utf8_lossy(&request[..end])
}

/// Closes the connection with a reset (RST) rather than a normal close, as a
/// client that crashes or gives up does: the server's next read or write on it
/// fails.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
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
        Err(error) => error.kind() == std::io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    open
}

/// The time until `deadline`, or `None` once it has passed.
pub fn time_left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

impl Failure {
    /// A failure of one request, showing both sides of it.
    pub fn of(problem: impl Into<String>, exchange: &Exchange) -> Failure {
        let failure = Failure::new(problem)
            .sent(exchange.describe_sent())
            .received(exchange.describe_received());
        match exchange.evidence_hint() {
            Some(hint) => failure.hint(hint),
            None => failure,
        }
    }
}

impl Exchange {
    /// Whether the server closed or reset the connection (rather than
    /// leaving it open, or refusing it).
    pub fn hung_up(&self) -> bool {
        matches!(self.end, End::Closed | End::Reset)
    }

    /// Whether the server answered, but not with HTTP a client can read:
    /// bytes came back, then the connection closed, and no response can be
    /// read from them (its head never ended).
    pub fn answered_unreadably(&self) -> bool {
        matches!(self.end, End::Closed)
            && self.received.iter().any(|b| !b.is_ascii_whitespace())
            && self.reply().is_none()
    }

    /// The response, if a whole head came back: its body as far as it came,
    /// and whatever followed it (see [`Reply::parse`]).
    pub fn reply(&self) -> Option<Reply> {
        let closed = matches!(self.end, End::Closed | End::Reset | End::Failed(_));
        Reply::parse(&self.received, &method_of(&self.sent), closed)
    }

    /// A hint that what came back calls for, whatever the check: a
    /// connection closed without a byte. (How a head is written is
    /// `head-syntax`'s to judge, and no other check's hint is about it.)
    pub fn evidence_hint(&self) -> Option<&'static str> {
        (self.received.is_empty() && self.end == End::Closed).then_some(NOTHING_SENT_HINT)
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
        None => {
            let shown = escape(bytes, 300);
            // A cut text already says how many bytes there were.
            if shown.ends_with(" bytes in all)") {
                format!("{shown}, no complete head")
            } else {
                format!("{shown} ({} bytes, no complete head)", bytes.len())
            }
        }
    }
}

/// Bytes as one line of text: `\r` and `\n` shown as escapes, a backslash
/// doubled, other control bytes and invalid UTF-8 as `\xNN`, cut after `max`
/// characters.
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for chunk in bytes.utf8_chunks() {
        let invalid = chunk.invalid().iter().map(|byte| format!("\\x{byte:02x}"));
        let valid = chunk.valid().chars().map(|c| match c {
            '\r' => "\\r".to_owned(),
            '\n' => "\\n".to_owned(),
            '\t' => "\\t".to_owned(),
            // Escaped, so that a server that sends the four characters `\r\n`
            // is not shown as one that sends a line end.
            '\\' => "\\\\".to_owned(),
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
    use crate::response::Ending;
    use std::net::TcpListener;

    /// A connected pair: the client's end, and the server's.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    fn exchange_of(sent: &[u8], received: &[u8], end: End) -> Exchange {
        Exchange {
            sent: sent.to_vec(),
            received: received.to_vec(),
            end,
            took: Duration::ZERO,
        }
    }

    #[test]
    fn a_reply_is_read_as_its_request_and_close_say() {
        let received = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nabc";
        let reply = exchange_of(b"GET / HTTP/1.1\r\n\r\n", received, End::Closed)
            .reply()
            .unwrap();
        assert_eq!(reply.head.status, 404);
        assert_eq!(
            (reply.body.as_slice(), reply.excess.as_slice()),
            (&b"ab"[..], &b"c"[..])
        );
        // The answer to HEAD has no body: all after the head is excess.
        let reply = exchange_of(b"HEAD / HTTP/1.1\r\n\r\n", received, End::Closed)
            .reply()
            .unwrap();
        assert_eq!(
            (reply.body.len(), reply.excess.as_slice()),
            (0, &b"abc"[..])
        );
        // Cut short: broken once the server has closed, unfinished before.
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc";
        let closed = exchange_of(b"GET /", cut, End::Closed).reply().unwrap();
        assert!(matches!(closed.ending, Ending::Broken(_)));
        let open = exchange_of(b"GET /", cut, End::TimedOut).reply().unwrap();
        assert_eq!(open.ending, Ending::Unfinished);
        let not_http = exchange_of(b"GET /", b"<html>hello</html>\r\n\r\n", End::Closed);
        assert!(not_http.reply().is_none());
    }

    #[test]
    fn one_response_is_read_and_the_next_left_pending() {
        let (mut client, mut server) = pair();
        server
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab\
                HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n\
                HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nz",
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pending = Vec::new();
        let mut read = |pending: &mut Vec<u8>| {
            let (bytes, end) = read_one(&mut client, pending, "GET", deadline);
            assert_eq!(end, End::Complete);
            Reply::parse(&bytes, "GET", false).unwrap()
        };
        assert_eq!(read(&mut pending).body, b"ab");
        let chunked = read(&mut pending);
        assert_eq!(
            (chunked.body.as_slice(), chunked.excess.len()),
            (&b"z"[..], 0)
        );
        assert_eq!(read(&mut pending).status(), 404);
        assert!(pending.is_empty());
        drop(server);
        let (rest, end) = wait_for_close(&mut client, &mut pending, deadline);
        assert_eq!((rest.len(), end), (0, End::Closed));
    }

    #[test]
    fn a_response_left_open_is_waited_on_briefly() {
        for response in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        ] {
            let (mut client, mut server) = pair();
            server.write_all(response).unwrap();
            let started = Instant::now();
            let (bytes, end) = read_response(&mut client, "GET", started + Duration::from_secs(60));
            assert_eq!(end, End::LeftOpen);
            assert_eq!(bytes, response);
            // The grace is counted from the end of the response, once: not a
            // minute, which is the deadline.
            assert!(started.elapsed() < Duration::from_secs(30));
        }
    }

    #[test]
    fn bytes_are_read_to_the_close_or_the_deadline() {
        let (mut client, mut server) = pair();
        server
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab")
            .unwrap();
        let started = Instant::now();
        let (bytes, end) = read_to_close(&mut client, started + Duration::from_millis(300));
        assert_eq!(
            (bytes.len(), end),
            (40, End::TimedOut),
            "a whole response does not end it"
        );
        drop(server);
        let (bytes, end) = read_to_close(&mut client, Instant::now() + Duration::from_secs(60));
        assert_eq!((bytes.len(), end), (0, End::Closed));
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
    fn descriptions_say_each_thing_once_and_keep_backslashes_apart() {
        // A literal backslash-r is not a line end.
        assert_eq!(escape(b"a\\r\\nb\r\n", 100), "a\\\\r\\\\nb\\r\\n");
        let long = vec![b'x'; 1043];
        let described = describe_bytes(&long);
        assert!(
            described.ends_with("... (1043 bytes in all), no complete head"),
            "{described}"
        );
        assert_eq!(described.matches("1043").count(), 1, "{described}");
        assert_eq!(describe_bytes(b"abc"), "abc (3 bytes, no complete head)");
    }

    #[test]
    fn hints_follow_the_evidence() {
        let closed = exchange_of(b"GET / HTTP/1.1\r\n\r\n", b"", End::Closed);
        assert_eq!(closed.evidence_hint(), Some(NOTHING_SENT_HINT));
        // Bare line feeds are read, as curl reads them: no hint here.
        let bare = exchange_of(
            b"GET /",
            b"HTTP/1.1 200 OK\nContent-Length: 2\n\nab",
            End::Closed,
        );
        assert_eq!(bare.evidence_hint(), None);
        assert_eq!(bare.reply().unwrap().body, b"ab");
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
