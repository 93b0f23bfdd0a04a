//! Reading an HTTP/1.1 response, as a client must (RFC 9112).
//!
//! A response is a head (status line and header lines, up to a blank line) and
//! a body, and the hard part is where the body ends. RFC 9112 §6.3 gives a
//! client the order in which to ask:
//!
//! 1. The answer to `HEAD`, and every `1xx`, `204` and `304`, has no body,
//!    whatever its headers say.
//! 2. `Transfer-Encoding: chunked`: the body comes in chunks, each after its
//!    size in hex, up to a chunk of size 0 (then optional trailer lines, then a
//!    blank line). Any other transfer coding: the body runs to the close.
//! 3. `Content-Length: N`: exactly `N` bytes.
//! 4. Neither: everything until the server closes the connection.
//!
//! [`Reader`] does that and nothing else: it is fed bytes, however they arrive,
//! and gives [`Event`]s: "need more", the [`Head`], pieces of the body (decoded,
//! if chunked), the end. Its heart never touches a socket (the "sans-IO" design
//! of python-hyper/h11), so one reader serves the grader's checks, which keep
//! every byte for their reports, `multithreaded-server get`, which streams a
//! body of any size to a file, and tests that feed it bytes by hand.
//! [`Reader::read_by`] is its blocking side: one read from a `TcpStream`, by a
//! deadline.
//!
//! [`Reply::parse`] takes the bytes of a whole exchange at once and forgives
//! what a reader may not: a body cut short, framing that breaks. The grader
//! reports what came back; it must not lose it for being wrong.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::time::Instant;

/// The longest head accepted: far more than any real response needs, and a
/// bound on what a server that never ends its head can make us keep.
pub const MAX_HEAD: usize = 64 * 1024;

/// The longest chunk-size line (size and extensions) accepted.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// How the end of a response's body is found (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: the answer to `HEAD`, or a `1xx`, `204` or `304`.
    NoBody,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// `Content-Length`: this many bytes.
    Length(u64),
    /// Neither: the body is everything until the server closes.
    Close,
}

impl fmt::Display for Framing {
    /// How a report says it: "no body", "chunked", "Content-Length: 12",
    /// "read until the close".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::NoBody => f.write_str("no body"),
            Framing::Chunked => f.write_str("chunked"),
            Framing::Length(length) => write!(f, "Content-Length: {length}"),
            Framing::Close => f.write_str("read until the close"),
        }
    }
}

/// A status line and the header lines after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// `HTTP/1.1 200 OK`, as it came (without its line end).
    pub status_line: String,
    pub status: u16,
    /// Names as sent, values without the spaces around them, in order; a
    /// folded line (obs-fold) joined to the value it continues.
    pub headers: Vec<(String, String)>,
    /// The head's bytes as they came, the blank line that ends it included:
    /// for [`Head::syntax`], which judges what the rest of the reader forgives.
    pub raw: Vec<u8>,
}

impl Head {
    /// The first header called `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }

    /// Every header called `name`.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        named(&self.headers, name)
    }

    /// Whether `Connection` holds `option` (`close`, `keep-alive`), in any
    /// case, in any of its comma-separated parts.
    pub fn says_connection(&self, option: &str) -> bool {
        says_connection(&self.headers, option)
    }

    /// Where the body of this response ends, if the request was `HEAD` or not.
    pub fn framing(&self, answers_head: bool) -> Result<Framing, HeadError> {
        if answers_head || matches!(self.status, 100..=199 | 204 | 304) {
            return Ok(Framing::NoBody);
        }
        // Transfer-Encoding wins over Content-Length. A server may list several
        // codings, in one header or several; the body is chunked only if
        // chunked is the last, and otherwise only the close ends it.
        let codings: Vec<&str> = self
            .headers_named("Transfer-Encoding")
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|coding| !coding.is_empty())
            .collect();
        if let Some(last) = codings.last() {
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::Close
            });
        }
        // `Content-Length: 5, 5` and two headers saying 5 are one length; two
        // different lengths are none (RFC 9110 §8.6).
        let mut length = None;
        for value in self
            .headers_named("Content-Length")
            .flat_map(|value| value.split(','))
        {
            let value = value.trim();
            let parsed = value
                .parse::<u64>()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit()));
            match (parsed, length) {
                (None, _) => return Err(HeadError::ContentLength(value.to_owned())),
                (Some(n), Some(before)) if n != before => {
                    return Err(HeadError::ContentLengths(before, n));
                }
                (Some(n), _) => length = Some(n),
            }
        }
        Ok(length.map_or(Framing::Close, Framing::Length))
    }
}

/// Parses a head: `bytes` from its first byte to the end of its blank line.
///
/// It reads a head as curl and browsers do, so that a server is judged on
/// what it meant, and only [`Head::syntax`] judges how it wrote it: lines may
/// end in a bare `\n`; the status line needs only a word and a three-digit
/// code (`HTTP/1.1 200`, even `(null) 400 Bad Request`); a line that starts
/// with a space or a tab continues the header before it (obs-fold); a header
/// line with no colon is passed over, as browsers pass it over.
pub fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let status_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = status_line
        .split([' ', '\t'])
        .filter(|part| !part.is_empty());
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..=999).contains(code));
    let Some(status) = status.filter(|_| !version.is_empty()) else {
        return Err(HeadError::StatusLine(
            status_line.chars().take(60).collect(),
        ));
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                let more = line.trim();
                if !more.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(more);
                }
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(Head {
        status_line,
        status,
        headers,
        raw: bytes.to_vec(),
    })
}

/// Where the head at the start of `bytes` ends: the index just past its blank
/// line, found as a tolerant client finds it (`\r\n\r\n`, or the same with
/// bare `\n`s), looking from `from` on.
fn head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'\n') {
        let lf = at + offset;
        match &bytes[lf + 1..] {
            [b'\n', ..] => return Some(lf + 2),
            [b'\r', b'\n', ..] => return Some(lf + 3),
            _ => at = lf + 1,
        }
    }
    None
}

/// What is wrong with how a head was written, by RFC 9112's grammar, though
/// a tolerant client reads it: see [`Head::syntax`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadSyntax {
    /// A line of the head ends in `\n` alone.
    #[error("line {line} of the head (`{text}`) ends with a bare \\n, not \\r\\n")]
    BareLineFeed { line: usize, text: String },
    /// The status line does not start with `HTTP/1.x` and a code.
    #[error("the status line `{0}` is not `HTTP/1.x NNN reason`")]
    StatusLine(String),
    /// `HTTP/1.1 200` with no space after the code.
    #[error(
        "the status line `{0}` has no space after its code (`HTTP/1.1 200 OK`; the reason may be empty, the space may not)"
    )]
    NoSpaceAfterCode(String),
    /// A header line without a colon.
    #[error("header line `{0}` has no colon")]
    HeaderLine(String),
    /// Whitespace between a header's name and its colon.
    #[error("header line `{0}` has a space before its colon")]
    SpaceBeforeColon(String),
    /// A header name that is not a token.
    #[error(
        "header line `{0}` has a name that is not a token (letters, digits, `-`, and a few marks)"
    )]
    HeaderName(String),
    /// A line that continues the one before it (obs-fold), which RFC 9112
    /// forbids in a response.
    #[error("header line `{0}` starts with a space: it folds onto the line before (obs-fold)")]
    ObsFold(String),
}

impl Head {
    /// Whether the head is written as RFC 9112 asks (§4, §5): a status line
    /// `HTTP/1.x NNN reason`, header lines `Name: value`, every line, the last
    /// blank one included, ending in `\r\n`; no folded lines. The first
    /// problem found.
    pub fn syntax(&self) -> Result<(), HeadSyntax> {
        let shown = |line: &[u8]| {
            String::from_utf8_lossy(line)
                .chars()
                .take(60)
                .collect::<String>()
        };
        let mut lines: Vec<&[u8]> = self.raw.split(|&b| b == b'\n').collect();
        // The split leaves an empty piece after the blank line's `\n`.
        if lines.last().is_some_and(|last| last.is_empty()) {
            lines.pop();
        }
        for (n, line) in lines.iter().enumerate() {
            if !line.ends_with(b"\r") {
                return Err(HeadSyntax::BareLineFeed {
                    line: n + 1,
                    text: shown(line),
                });
            }
        }
        let lines: Vec<&[u8]> = lines.iter().map(|line| &line[..line.len() - 1]).collect();
        let Some((status, headers)) = lines.split_first() else {
            return Err(HeadSyntax::StatusLine(String::new()));
        };
        let version_ok = status.len() >= 12
            && status.starts_with(b"HTTP/")
            && status[5].is_ascii_digit()
            && status[6] == b'.'
            && status[7].is_ascii_digit()
            && status[8] == b' '
            && status[9..12].iter().all(u8::is_ascii_digit);
        if !version_ok {
            return Err(HeadSyntax::StatusLine(shown(status)));
        }
        if status.len() == 12 {
            return Err(HeadSyntax::NoSpaceAfterCode(shown(status)));
        }
        if status[12] != b' ' {
            return Err(HeadSyntax::StatusLine(shown(status)));
        }
        // The last line is the blank one that ends the head.
        let headers = headers.strip_suffix(&[&b""[..]]).unwrap_or(headers);
        for line in headers {
            if line.starts_with(b" ") || line.starts_with(b"\t") {
                return Err(HeadSyntax::ObsFold(shown(line)));
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                return Err(HeadSyntax::HeaderLine(shown(line)));
            };
            let name = &line[..colon];
            if name.ends_with(b" ") || name.ends_with(b"\t") {
                return Err(HeadSyntax::SpaceBeforeColon(shown(line)));
            }
            let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
            if name.is_empty() || !name.iter().all(token) {
                return Err(HeadSyntax::HeaderName(shown(line)));
            }
        }
        Ok(())
    }
}

/// Why a response failed to be one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The head: nothing usable came, or not an HTTP/1 head.
    #[error("not an HTTP response: {0}")]
    Head(#[from] HeadError),
    /// The body: it broke off, or its chunks are malformed.
    #[error(transparent)]
    Body(#[from] BodyError),
}

/// What is wrong with a response's head.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// The connection closed before a single byte.
    #[error("the server closed the connection without a word")]
    Nothing,
    /// The connection closed in the middle of the head.
    #[error("the head was cut short")]
    CutShort,
    /// No blank line within [`MAX_HEAD`] bytes.
    #[error("the head is longer than 64 KiB")]
    TooLong,
    /// The first line is not a word and a three-digit code (its start is kept).
    #[error("the first line is `{0}`")]
    StatusLine(String),
    /// `Content-Length` is not a number.
    #[error("Content-Length `{0}` is not a number")]
    ContentLength(String),
    /// Two `Content-Length`s that disagree.
    #[error("two Content-Lengths disagree: {0} and {1}")]
    ContentLengths(u64, u64),
}

/// What is wrong with a response's body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The connection closed before `Content-Length` bytes arrived.
    #[error("the body was cut short: {received} of {expected} bytes arrived")]
    Truncated { expected: u64, received: u64 },
    /// The connection closed before the chunk of size 0.
    #[error("the body was cut short: {received} bytes arrived, but not the last chunk")]
    ChunksCutShort { received: u64 },
    /// The chunks are malformed.
    #[error("the chunked body is malformed: {0}")]
    Chunk(#[from] ChunkError),
}

/// What is wrong with a chunked body's framing (RFC 9112 §7.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A chunk's size is not a hexadecimal number (its line is kept).
    #[error("chunk size line `{0}` does not start with a size in hex")]
    Size(String),
    /// A chunk's size is more than 16 hex digits.
    #[error("chunk size `{0}` is too large")]
    TooLarge(String),
    /// No line end within [`MAX_CHUNK_LINE`] bytes of a chunk's start.
    #[error("a chunk size line is longer than 4 KiB")]
    LineTooLong,
    /// The bytes after a chunk's data are not CRLF: the chunk is longer than
    /// its size says (or the size is wrong).
    #[error("a chunk's data is not followed by CRLF: it is longer than its size says")]
    NoLineEnd,
    /// A trailer line without a colon (its start is kept).
    #[error("trailer line `{0}` has no colon")]
    Trailer(String),
    /// No blank line within [`MAX_HEAD`] bytes of trailers.
    #[error("the trailers are longer than 64 KiB")]
    TrailersTooLong,
}

/// What a [`Reader`] has for its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing until more bytes are fed, or the close.
    NeedMore,
    /// The status line and headers. Comes once, first.
    Head(Head),
    /// A piece of the body, decoded if chunked. Never empty.
    Body(Vec<u8>),
    /// The response is whole. Bytes fed after its end wait in
    /// [`Reader::rest`]; every later call gives `End` again.
    End,
}

/// Reads one response from bytes fed to it; see the module docs.
#[derive(Debug)]
pub struct Reader {
    /// Bytes fed and not yet given out.
    buffer: Vec<u8>,
    /// How far the search for the head's blank line has looked already.
    searched: usize,
    state: State,
    answers_head: bool,
    closed: bool,
    framing: Option<Framing>,
    /// Body bytes given out so far (decoded).
    received: u64,
    /// Trailer bytes read so far, against [`MAX_HEAD`].
    trailers: usize,
}

#[derive(Clone, Debug)]
enum State {
    Head,
    /// The head has been given out; its framing is settled on the next call.
    Framing(Result<Framing, HeadError>),
    Length {
        left: u64,
    },
    ChunkSize,
    ChunkData {
        left: u64,
    },
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
    Failed(ResponseError),
}

impl Reader {
    /// A reader for the response to a request made with `method` (`GET`,
    /// `HEAD`...): the answer to `HEAD` has no body.
    pub fn new(method: &str) -> Reader {
        Reader {
            buffer: Vec::new(),
            searched: 0,
            state: State::Head,
            answers_head: method.eq_ignore_ascii_case("HEAD"),
            closed: false,
            framing: None,
            received: 0,
            trailers: 0,
        }
    }

    /// Bytes from the server, as they came.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The server has closed the connection: no more bytes will come.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// How the body is framed, once the head has been given out (and if its
    /// framing headers are usable).
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// The body bytes given out so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Takes the bytes fed and not given out: after [`Event::End`], what came
    /// after the response (the next one, on a kept-alive connection).
    pub fn rest(&mut self) -> Vec<u8> {
        self.searched = 0;
        std::mem::take(&mut self.buffer)
    }

    /// The next event. After an error, every call gives the same error.
    pub fn next_event(&mut self) -> Result<Event, ResponseError> {
        let result = self.step();
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    fn step(&mut self) -> Result<Event, ResponseError> {
        loop {
            match self.state.clone() {
                State::Head => return self.head(),
                State::Framing(framing) => {
                    self.state = match framing? {
                        Framing::NoBody | Framing::Length(0) => State::Done,
                        Framing::Length(left) => State::Length { left },
                        Framing::Chunked => State::ChunkSize,
                        Framing::Close => State::UntilClose,
                    };
                }
                State::Length { left } => {
                    if self.buffer.is_empty() {
                        let expected = self.received + left;
                        let cut = BodyError::Truncated {
                            expected,
                            received: self.received,
                        };
                        return self.wait_or(cut);
                    }
                    let piece = self.take(left);
                    let left = left - piece.len() as u64;
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length { left }
                    };
                    return Ok(Event::Body(piece));
                }
                State::ChunkSize => {
                    let Some(line) = self.line(MAX_CHUNK_LINE, ChunkError::LineTooLong)? else {
                        return self.wait_or(self.chunks_cut_short());
                    };
                    let size = chunk_size(&line)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData { left: size }
                    };
                }
                State::ChunkData { left } => {
                    if self.buffer.is_empty() {
                        return self.wait_or(self.chunks_cut_short());
                    }
                    let piece = self.take(left);
                    let left = left - piece.len() as u64;
                    self.state = if left == 0 {
                        State::ChunkEnd
                    } else {
                        State::ChunkData { left }
                    };
                    return Ok(Event::Body(piece));
                }
                State::ChunkEnd => match self.buffer.get(..2) {
                    Some(b"\r\n") => {
                        self.buffer.drain(..2);
                        self.state = State::ChunkSize;
                    }
                    Some(_) => return Err(BodyError::from(ChunkError::NoLineEnd).into()),
                    None if self.buffer.first().is_some_and(|&b| b != b'\r') => {
                        return Err(BodyError::from(ChunkError::NoLineEnd).into());
                    }
                    None => return self.wait_or(self.chunks_cut_short()),
                },
                State::Trailers => {
                    let room = MAX_HEAD.saturating_sub(self.trailers);
                    let Some(line) = self.line(room, ChunkError::TrailersTooLong)? else {
                        return self.wait_or(self.chunks_cut_short());
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                    } else if !line.contains(&b':') {
                        let line = String::from_utf8_lossy(&line).chars().take(60).collect();
                        return Err(BodyError::from(ChunkError::Trailer(line)).into());
                    } else {
                        self.trailers += line.len() + 2;
                    }
                }
                State::UntilClose => {
                    if !self.buffer.is_empty() {
                        let piece = self.take(u64::MAX);
                        return Ok(Event::Body(piece));
                    }
                    if !self.closed {
                        return Ok(Event::NeedMore);
                    }
                    self.state = State::Done;
                }
                State::Done => return Ok(Event::End),
                State::Failed(error) => return Err(error),
            }
        }
    }

    /// Looks for the blank line that ends the head, and parses the head.
    fn head(&mut self) -> Result<Event, ResponseError> {
        // Look again only where the blank line could now be: a head that
        // arrives a byte at a time is not searched from the start every time.
        let from = self.searched.saturating_sub(2);
        match head_end(&self.buffer, from) {
            Some(end) => {
                let head = parse_head(&self.buffer[..end])?;
                self.buffer.drain(..end);
                self.searched = 0;
                // Known as the head is given out, so that a caller can get
                // ready for the body; an error in it comes on the next call.
                let framing = head.framing(self.answers_head);
                self.framing = framing.as_ref().ok().copied();
                self.state = State::Framing(framing);
                Ok(Event::Head(head))
            }
            None if self.buffer.len() > MAX_HEAD => Err(HeadError::TooLong.into()),
            None if self.closed && self.buffer.is_empty() => Err(HeadError::Nothing.into()),
            None if self.closed => Err(HeadError::CutShort.into()),
            None => {
                self.searched = self.buffer.len();
                Ok(Event::NeedMore)
            }
        }
    }

    /// Up to `most` bytes from the front of the buffer.
    fn take(&mut self, most: u64) -> Vec<u8> {
        let piece = if most >= self.buffer.len() as u64 {
            std::mem::take(&mut self.buffer)
        } else {
            let rest = self.buffer.split_off(most as usize);
            std::mem::replace(&mut self.buffer, rest)
        };
        self.received += piece.len() as u64;
        piece
    }

    /// The next line, without its CRLF, if it is all here; an error if none
    /// ends within `most` bytes.
    fn line(
        &mut self,
        most: usize,
        too_long: ChunkError,
    ) -> Result<Option<Vec<u8>>, ResponseError> {
        match find(&self.buffer, b"\r\n") {
            Some(end) if end <= most => {
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..end + 2);
                Ok(Some(line))
            }
            Some(_) => Err(BodyError::from(too_long).into()),
            None if self.buffer.len() > most => Err(BodyError::from(too_long).into()),
            None => Ok(None),
        }
    }

    /// [`Event::NeedMore`], or `cut` if no more is coming.
    fn wait_or(&self, cut: BodyError) -> Result<Event, ResponseError> {
        if self.closed {
            Err(cut.into())
        } else {
            Ok(Event::NeedMore)
        }
    }

    fn chunks_cut_short(&self) -> BodyError {
        BodyError::ChunksCutShort {
            received: self.received,
        }
    }

    /// One read from `stream` into the reader, waiting until `deadline` at
    /// most: the blocking side, for a caller that reads a socket. Returns the
    /// bytes read, for a caller that keeps them too; none when the server has
    /// closed, which the reader then knows.
    pub fn read_by(
        &mut self,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<&[u8], ReadError> {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
        else {
            return Err(ReadError::TimedOut);
        };
        stream.set_read_timeout(Some(left)).map_err(ReadError::Io)?;
        let start = self.buffer.len();
        self.buffer.resize(start + 64 * 1024, 0);
        let result = loop {
            match stream.read(&mut self.buffer[start..]) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        let read = result.as_ref().map_or(0, |n| *n);
        self.buffer.truncate(start + read);
        match result {
            Ok(0) => {
                self.closed = true;
                Ok(&[])
            }
            Ok(_) => Ok(&self.buffer[start..]),
            Err(error) => Err(ReadError::from(error)),
        }
    }
}

/// The size at the start of a chunk-size line: hex digits, then nothing, or
/// extensions after a `;` (which say nothing we need, so they are skipped).
fn chunk_size(line: &[u8]) -> Result<u64, BodyError> {
    let text = String::from_utf8_lossy(line);
    let digits = text.len()
        - text
            .trim_start_matches(|c: char| c.is_ascii_hexdigit())
            .len();
    let (size, after) = text.split_at(digits);
    let after = after.trim_start_matches([' ', '\t']);
    if size.is_empty() || !(after.is_empty() || after.starts_with(';')) {
        return Err(ChunkError::Size(text.chars().take(60).collect()).into());
    }
    u64::from_str_radix(size, 16)
        .map_err(|_| ChunkError::TooLarge(size.chars().take(60).collect()).into())
}

/// Why a blocking read gave no bytes.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The deadline passed first.
    #[error("timed out")]
    TimedOut,
    /// The server reset the connection.
    #[error("the server reset the connection")]
    Reset(io::Error),
    /// Reading failed in another way.
    #[error(transparent)]
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> ReadError {
        match error.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => ReadError::TimedOut,
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => ReadError::Reset(error),
            _ => ReadError::Io(error),
        }
    }
}

/// A response as a whole: the head, the body, how it was framed, and what
/// came after it.
#[derive(Clone, Debug)]
pub struct Reply {
    pub head: Head,
    pub framing: Framing,
    /// The body as its framing delimits it, decoded if chunked.
    pub body: Vec<u8>,
    /// Whether the body ended where its framing says.
    pub ending: Ending,
    /// What came after the end of the response: more than `Content-Length`
    /// promised, say, or what follows a broken chunk.
    pub excess: Vec<u8>,
}

/// How a [`Reply`]'s body ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Where its framing says.
    Complete,
    /// It had not ended when the bytes stopped, with the connection still open.
    Unfinished,
    /// It broke off at a close, or broke its framing (or the head's framing
    /// headers are unusable, and the body is the rest, in [`Reply::excess`]).
    Broken(ResponseError),
}

impl Reply {
    /// Reads the response at the start of `bytes`, all that came in answer to
    /// a `method` request (`closed`: and then the server closed). `None` if
    /// they do not start with a whole head; a body that is cut short or
    /// broken is kept as far as it goes, and the rest kept in `excess`.
    pub fn parse(bytes: &[u8], method: &str, closed: bool) -> Option<Reply> {
        let mut reader = Reader::new(method);
        reader.feed(bytes);
        if closed {
            reader.close();
        }
        let Ok(Event::Head(head)) = reader.next_event() else {
            return None;
        };
        let mut body = Vec::new();
        let ending = loop {
            match reader.next_event() {
                Ok(Event::Body(piece)) => body.extend(piece),
                Ok(Event::End) => break Ending::Complete,
                Ok(Event::NeedMore) => break Ending::Unfinished,
                Ok(Event::Head(_)) => unreachable!("one head to a response"),
                Err(error) => break Ending::Broken(error),
            }
        };
        let framing = reader.framing().unwrap_or(Framing::Close);
        Some(Reply {
            head,
            framing,
            body,
            ending,
            excess: reader.rest(),
        })
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The first header called `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// Whether the body ended where its framing says: the whole response came.
    pub fn is_complete(&self) -> bool {
        self.ending == Ending::Complete
    }

    /// The body followed by everything after it: all the server sent past its
    /// head. Where `Content-Length` is wrong, this is still the whole file
    /// that was sent, which is what a check of the file itself should see.
    pub fn body_with_excess(&self) -> Cow<'_, [u8]> {
        if self.excess.is_empty() {
            Cow::Borrowed(&self.body)
        } else {
            Cow::Owned([&self.body[..], &self.excess].concat())
        }
    }

    /// The body as text, any invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn first<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn named<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn says_connection(headers: &[(String, String)], option: &str) -> bool {
    named(headers, "Connection")
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(option))
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Duration;

    /// Everything a reader makes of `bytes` (fed `step` bytes at a time, then
    /// closed if `closed`): the head, the body, and how it ended.
    fn read_all(
        method: &str,
        bytes: &[u8],
        step: usize,
        closed: bool,
    ) -> (Option<Head>, Vec<u8>, Result<Event, ResponseError>) {
        let mut reader = Reader::new(method);
        let mut head = None;
        let mut body = Vec::new();
        let mut pieces = bytes.chunks(step);
        loop {
            match reader.next_event() {
                Ok(Event::NeedMore) => match pieces.next() {
                    Some(piece) => reader.feed(piece),
                    None if closed && !reader.closed => reader.close(),
                    None => return (head, body, Ok(Event::NeedMore)),
                },
                Ok(Event::Head(h)) => head = Some(h),
                Ok(Event::Body(piece)) => {
                    assert!(!piece.is_empty(), "a body event is never empty");
                    body.extend(piece);
                }
                Ok(Event::End) => return (head, body, Ok(Event::End)),
                Err(error) => return (head, body, Err(error)),
            }
        }
    }

    /// The body of `bytes` as a `GET` response, fed whole and a byte at a
    /// time, which must agree; and whether it ended.
    fn body_of(bytes: &[u8], closed: bool) -> (Vec<u8>, Result<Event, ResponseError>) {
        let (_, whole, ended) = read_all("GET", bytes, bytes.len().max(1), closed);
        let (_, bytewise, ended_bytewise) = read_all("GET", bytes, 1, closed);
        assert_eq!(whole, bytewise, "fed whole and fed bytewise agree");
        assert_eq!(ended, ended_bytewise);
        (whole, ended)
    }

    #[test]
    fn a_head_is_read_as_a_tolerant_client_reads_it() {
        let head =
            parse_head(b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nX :  y \r\n\r\n").unwrap();
        assert_eq!(head.status, 404);
        assert_eq!(head.status_line, "HTTP/1.1 404 Not Found");
        assert_eq!(head.header("content-length"), Some("12"));
        assert_eq!(head.header("x"), Some("y"));
        // Bare line feeds, no reason phrase, a folded line, a line with no
        // colon, and a status line a C server printed a null pointer into:
        // each read for what it says.
        let head = parse_head(b"HTTP/1.0 200\nA: one\n  two\nno colon\nB: 3\n\n").unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(
            head.headers,
            [("A".into(), "one two".into()), ("B".into(), "3".into())]
        );
        assert_eq!(
            parse_head(b"(null) 400 Bad Request\r\n\r\n")
                .unwrap()
                .status,
            400
        );
        let (head, body, ended) =
            read_all("GET", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 1, false);
        assert_eq!(head.unwrap().status, 200);
        assert_eq!((body, ended), (b"ok".to_vec(), Ok(Event::End)));
    }

    #[test]
    fn a_head_that_is_not_http_is_refused() {
        for (bytes, error) in [
            (
                &b"SSH-2.0-OpenSSH_9.2\r\n\r\n"[..],
                "the first line is `SSH-2.0-OpenSSH_9.2`",
            ),
            (
                b"HTTP/1.1 2000 OK\r\n\r\n",
                "the first line is `HTTP/1.1 2000 OK`",
            ),
            (
                b"HTTP/1.1 099 Low\r\n\r\n",
                "the first line is `HTTP/1.1 099 Low`",
            ),
            (
                b"<!doctype html>\n\n",
                "the first line is `<!doctype html>`",
            ),
            (b"\r\n\r\n", "the first line is ``"),
        ] {
            assert_eq!(parse_head(bytes).unwrap_err().to_string(), error);
        }
    }

    #[test]
    fn the_syntax_of_a_head_is_judged_strictly() {
        let syntax = |bytes: &[u8]| parse_head(bytes).unwrap().syntax();
        assert_eq!(syntax(b"HTTP/1.1 200 OK\r\nA: b\r\nC:d\r\n\r\n"), Ok(()));
        assert_eq!(syntax(b"HTTP/1.1 204 \r\n\r\n"), Ok(()), "an empty reason");
        for (bytes, problem) in [
            (
                &b"HTTP/1.1 200 OK\nA: b\n\n"[..],
                "line 1 of the head (`HTTP/1.1 200 OK`) ends with a bare \\n, not \\r\\n",
            ),
            (
                b"HTTP/1.1 200 OK\r\nA: b\r\n\n",
                "line 3 of the head (``) ends with a bare \\n, not \\r\\n",
            ),
            (
                b"(null) 400 Bad Request\r\n\r\n",
                "the status line `(null) 400 Bad Request` is not `HTTP/1.x NNN reason`",
            ),
            (
                b"HTTP/1.1 200\r\n\r\n",
                "the status line `HTTP/1.1 200` has no space after its code (`HTTP/1.1 200 OK`; the reason may be empty, the space may not)",
            ),
            (
                b"HTTP/1.1  200 OK\r\n\r\n",
                "the status line `HTTP/1.1  200 OK` is not `HTTP/1.x NNN reason`",
            ),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                "header line `no colon` has no colon",
            ),
            (
                b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
                "header line `A : b` has a space before its colon",
            ),
            (
                b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
                "header line ` c` starts with a space: it folds onto the line before (obs-fold)",
            ),
        ] {
            assert_eq!(syntax(bytes).unwrap_err().to_string(), problem);
        }
    }

    #[test]
    fn content_length_delimits_the_body_and_leaves_the_rest() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 304";
        let mut reader = Reader::new("GET");
        reader.feed(bytes);
        assert!(matches!(reader.next_event(), Ok(Event::Head(h)) if h.status == 200));
        assert_eq!(reader.next_event(), Ok(Event::Body(b"hello".to_vec())));
        assert_eq!(reader.next_event(), Ok(Event::End));
        assert_eq!(reader.next_event(), Ok(Event::End), "and stays ended");
        assert_eq!(reader.framing(), Some(Framing::Length(5)));
        assert_eq!(reader.rest(), b"HTTP/1.1 304");
        let (body, ended) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
        assert_eq!((body, ended), (Vec::new(), Ok(Event::End)));
    }

    #[test]
    fn a_body_cut_short_is_an_error_only_once_the_server_closes() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..";
        let (body, ended) = body_of(bytes, false);
        assert_eq!(
            (&body[..], ended),
            (&b"only ten.."[..], Ok(Event::NeedMore))
        );
        let (body, ended) = body_of(bytes, true);
        assert_eq!(body, b"only ten..");
        let error = ended.unwrap_err();
        assert_eq!(
            error,
            ResponseError::Body(BodyError::Truncated {
                expected: 100,
                received: 10
            })
        );
        assert_eq!(
            error.to_string(),
            "the body was cut short: 10 of 100 bytes arrived"
        );
    }

    #[test]
    fn without_a_length_the_body_runs_to_the_close() {
        let bytes = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, just close";
        let (body, ended) = body_of(bytes, false);
        assert_eq!(
            (&body[..], ended),
            (&b"no length, just close"[..], Ok(Event::NeedMore))
        );
        let (body, ended) = body_of(bytes, true);
        assert_eq!(
            (&body[..], ended),
            (&b"no length, just close"[..], Ok(Event::End))
        );
        // A transfer coding other than chunked has no end but the close.
        let (head, body, ended) = read_all(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc",
            64,
            true,
        );
        assert_eq!(head.unwrap().framing(false), Ok(Framing::Close));
        assert_eq!((&body[..], ended), (&b"abc"[..], Ok(Event::End)));
    }

    #[test]
    fn head_1xx_204_and_304_have_no_body_whatever_they_say() {
        let with_length = b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n";
        let (_, body, ended) = read_all("HEAD", with_length, 64, false);
        assert_eq!((body, ended), (Vec::new(), Ok(Event::End)));
        for status in ["100 Continue", "204 No Content", "304 Not Modified"] {
            let bytes = format!("HTTP/1.1 {status}\r\nContent-Length: 42\r\n\r\nnext");
            let mut reader = Reader::new("GET");
            reader.feed(bytes.as_bytes());
            assert!(
                matches!(reader.next_event(), Ok(Event::Head(_))),
                "{status}"
            );
            assert_eq!(reader.next_event(), Ok(Event::End), "{status}");
            assert_eq!(reader.framing(), Some(Framing::NoBody));
            assert_eq!(
                reader.rest(),
                b"next",
                "{status}: the next response is left"
            );
        }
    }

    #[test]
    fn chunks_are_decoded_with_extensions_and_trailers() {
        let bytes =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n\
            5;name=value\r\nhello\r\n\
            7 ; quoted=\"a;b\"\r\n, world\r\n\
            1A\r\nabcdefghijklmnopqrstuvwxyz\r\n\
            0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\nafter";
        let (body, ended) = body_of(bytes, false);
        assert_eq!(body, b"hello, worldabcdefghijklmnopqrstuvwxyz");
        assert_eq!(ended, Ok(Event::End));
        let mut reader = Reader::new("GET");
        reader.feed(bytes);
        while reader.next_event() != Ok(Event::End) {}
        assert_eq!(
            reader.framing(),
            Some(Framing::Chunked),
            "chunked wins over Content-Length"
        );
        assert_eq!(reader.received(), 38);
        assert_eq!(reader.rest(), b"after");
    }

    #[test]
    fn bad_chunk_framing_is_its_own_error() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (chunks, error) in [
            ("zz\r\nhello\r\n0\r\n\r\n", ChunkError::Size("zz".into())),
            ("\r\nhello\r\n0\r\n\r\n", ChunkError::Size(String::new())),
            ("5 x\r\nhello\r\n0\r\n\r\n", ChunkError::Size("5 x".into())),
            ("-5\r\nhello\r\n0\r\n\r\n", ChunkError::Size("-5".into())),
            (
                "10000000000000000\r\nx\r\n",
                ChunkError::TooLarge("10000000000000000".into()),
            ),
            ("3\r\nhello\r\n0\r\n\r\n", ChunkError::NoLineEnd),
            ("5\r\nhello0\r\n\r\n", ChunkError::NoLineEnd),
            (
                "0\r\nno colon\r\n\r\n",
                ChunkError::Trailer("no colon".into()),
            ),
        ] {
            let bytes = format!("{head}{chunks}");
            let (_, ended) = body_of(bytes.as_bytes(), false);
            assert_eq!(ended, Err(BodyError::Chunk(error).into()), "{chunks:?}");
        }
        let endless = format!("{head}5{}", ";x".repeat(MAX_CHUNK_LINE));
        let (_, ended) = body_of(endless.as_bytes(), false);
        assert_eq!(ended, Err(BodyError::Chunk(ChunkError::LineTooLong).into()));
        let message = ResponseError::from(BodyError::from(ChunkError::Size("zz".into())));
        assert_eq!(
            message.to_string(),
            "the chunked body is malformed: chunk size line `zz` does not start with a size in hex"
        );
    }

    #[test]
    fn chunks_cut_short_wait_until_the_close() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for chunks in [
            "",
            "5\r\nhel",
            "5\r\nhello",
            "5\r\nhello\r",
            "5\r\nhello\r\n0\r\n",
        ] {
            let bytes = format!("{head}{chunks}");
            let (_, ended) = body_of(bytes.as_bytes(), false);
            assert_eq!(ended, Ok(Event::NeedMore), "{chunks:?}");
            let (body, ended) = body_of(bytes.as_bytes(), true);
            let received = body.len() as u64;
            assert_eq!(
                ended,
                Err(BodyError::ChunksCutShort { received }.into()),
                "{chunks:?}"
            );
        }
    }

    #[test]
    fn a_head_that_never_comes_is_an_error() {
        let (_, _, ended) = read_all("GET", b"", 1, true);
        assert_eq!(ended, Err(HeadError::Nothing.into()));
        let (_, _, ended) = read_all("GET", b"HTTP/1.1 200 OK\r\nContent-", 1, true);
        assert_eq!(ended, Err(HeadError::CutShort.into()));
        let endless = format!("HTTP/1.1 200 OK\r\n{}", "X: y\r\n".repeat(MAX_HEAD / 6 + 1));
        let (_, _, ended) = read_all("GET", endless.as_bytes(), 1000, false);
        assert_eq!(ended, Err(HeadError::TooLong.into()));
    }

    #[test]
    fn unusable_lengths_come_after_the_head() {
        for (value, error) in [
            ("ten", HeadError::ContentLength("ten".into())),
            ("+5", HeadError::ContentLength("+5".into())),
            ("5, 7", HeadError::ContentLengths(5, 7)),
        ] {
            let bytes = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nhello");
            let (head, _, ended) = read_all("GET", bytes.as_bytes(), 64, true);
            assert!(head.is_some(), "the head is given out first");
            assert_eq!(ended, Err(error.into()), "{value}");
        }
        let same = b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(body_of(same, false), (b"hello".to_vec(), Ok(Event::End)));
    }

    #[test]
    fn a_reply_keeps_what_a_reader_refuses() {
        let bytes =
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: Keep-Alive, x\r\n\r\nabcdef";
        let reply = Reply::parse(bytes, "GET", true).unwrap();
        assert_eq!(reply.body, b"abc");
        assert_eq!(reply.excess, b"def");
        assert_eq!(&*reply.body_with_excess(), b"abcdef");
        assert_eq!(reply.ending, Ending::Complete);
        assert!(reply.head.says_connection("keep-alive") && !reply.head.says_connection("close"));

        let cut = Reply::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
            "GET",
            true,
        );
        let cut = cut.unwrap();
        assert_eq!(
            (cut.body.as_slice(), cut.framing),
            (&b"abc"[..], Framing::Length(9))
        );
        assert!(matches!(cut.ending, Ending::Broken(ResponseError::Body(_))));
        let open = Reply::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
            "GET",
            false,
        );
        assert_eq!(open.unwrap().ending, Ending::Unfinished);

        let unusable = Reply::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nabc",
            "GET",
            true,
        );
        let unusable = unusable.unwrap();
        assert!(unusable.body.is_empty());
        assert_eq!(&*unusable.body_with_excess(), b"abc");

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let chunked = Reply::parse(chunked, "GET", true).unwrap();
        assert_eq!(
            (chunked.text(), chunked.framing),
            ("abc".into(), Framing::Chunked)
        );

        assert!(Reply::parse(b"<html>hello</html>\r\n\r\n", "GET", true).is_none());
        assert!(Reply::parse(b"<html>\n\n", "GET", true).is_none());
        assert!(Reply::parse(b"HTTP/1.1 200 OK\r\n", "GET", true).is_none());
    }

    #[test]
    fn a_socket_is_read_by_a_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        server.write_all(response).unwrap();
        let mut reader = Reader::new("GET");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut read: Vec<u8> = Vec::new();
        let mut events = Vec::new();
        loop {
            match reader.next_event().unwrap() {
                Event::NeedMore => {
                    read.extend_from_slice(reader.read_by(&mut client, deadline).unwrap())
                }
                Event::End => break,
                event => events.push(event),
            }
        }
        assert_eq!(read, response, "the bytes read are given back too");
        assert_eq!(events.last(), Some(&Event::Body(b"ok".to_vec())));

        // The connection stays open and nothing more comes: the deadline ends
        // the wait, and a deadline already past ends it at once.
        let started = Instant::now();
        let soon = started + Duration::from_millis(200);
        assert!(matches!(
            reader.read_by(&mut client, soon),
            Err(ReadError::TimedOut)
        ));
        assert!(matches!(
            reader.read_by(&mut client, soon),
            Err(ReadError::TimedOut)
        ));
        assert!(started.elapsed() < Duration::from_secs(30));

        // A close is no bytes, and the reader knows it.
        drop(server);
        let mut reader = Reader::new("GET");
        assert!(reader.read_by(&mut client, deadline).unwrap().is_empty());
        assert_eq!(reader.next_event(), Err(HeadError::Nothing.into()));
    }
}
