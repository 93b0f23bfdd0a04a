//! Parsing a request head: the request line and the header lines, up to the blank line.
//!
//! The parser works on bytes already received and never reads the socket itself, so
//! the blocking stages and the readiness loop of `keep-alive` share it, and so it can be
//! tested (and fuzzed) without a network. Like `httparse`, it answers "not yet"
//! ([`Status::Partial`]) when the blank line has not arrived, which is not an error.
//!
//! It is strict where being lenient has been a source of attacks (request smuggling,
//! header injection): bare LF line ends, a space before a colon, folded header lines,
//! conflicting `Content-Length`s and `Transfer-Encoding` are all refused, not guessed at.

use std::fmt;
use std::str::FromStr;

use super::Error;
pub use super::body::Framing;
use crate::config::Limits;

/// The request method. GET and HEAD are served everywhere; PUT and DELETE
/// only in the uploads folder, when uploads are on. Any other well-formed
/// method is kept so the server can answer `405 Method Not Allowed` with the
/// right `Allow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Delete,
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Other(name) => name,
        }
    }
}

impl FromStr for Method {
    type Err = Error;

    /// Methods are case-sensitive tokens: `get` is a different (unknown) method.
    fn from_str(text: &str) -> Result<Method, Error> {
        match text {
            "GET" => Ok(Method::Get),
            "HEAD" => Ok(Method::Head),
            "PUT" => Ok(Method::Put),
            "DELETE" => Ok(Method::Delete),
            _ if is_token(text.as_bytes()) => Ok(Method::Other(text.to_owned())),
            _ => Err(Error::RequestLine),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two versions of HTTP/1 this server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    Http10,
    Http11,
}

impl HttpVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
        }
    }
}

impl FromStr for HttpVersion {
    type Err = Error;

    /// `HTTP/1.0` and `HTTP/1.1`; any other `HTTP/d.d` is well-formed but not ours
    /// (`505`), and anything else is not a version at all (`400`).
    fn from_str(text: &str) -> Result<HttpVersion, Error> {
        match text.as_bytes() {
            b"HTTP/1.1" => Ok(HttpVersion::Http11),
            b"HTTP/1.0" => Ok(HttpVersion::Http10),
            [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
                if major.is_ascii_digit() && minor.is_ascii_digit() =>
            {
                Err(Error::VersionNotSupported)
            }
            _ => Err(Error::RequestLine),
        }
    }
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line, with the name as the client spelled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target exactly as sent: `/a%20b?x=1`, or `http://host/a` in
    /// absolute form. [`crate::http::files`] decodes it.
    pub target: String,
    pub version: HttpVersion,
    pub headers: Vec<Header>,
    /// The body length the client announced (0 when there is none, or when
    /// the body comes in chunks).
    pub content_length: u64,
    /// How the body is framed: by its length, in chunks, or not at all.
    pub framing: Framing,
    /// The client asked for `100 Continue` before it sends the body.
    pub expects_continue: bool,
    /// The body, for a request whose body is kept (an upload); empty for
    /// every other request, whose body is read past and thrown away.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of the first header with this name (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value.as_str())
    }

    /// Whether the client asked to keep the connection open after this request:
    /// HTTP/1.1 does unless it says `Connection: close`; HTTP/1.0 does not unless
    /// it says `Connection: keep-alive` (RFC 9112 §9.3).
    // ANCHOR: wants_keep_alive
    pub fn wants_keep_alive(&self) -> bool {
        let has_option = |option: &str| {
            self.headers
                .iter()
                .filter(|header| header.name.eq_ignore_ascii_case("connection"))
                .flat_map(|header| header.value.split(','))
                .any(|token| token.trim().eq_ignore_ascii_case(option))
        };
        match self.version {
            HttpVersion::Http11 => !has_option("close"),
            HttpVersion::Http10 => has_option("keep-alive") && !has_option("close"),
        }
    }
    // ANCHOR_END: wants_keep_alive

    /// The request line as sent, for the log.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.method, self.target, self.version)
    }
}

/// The answer of a parser that may not have all its input yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Parsed; the value and the number of bytes it used.
    Complete(T, usize),
    /// More bytes are needed.
    Partial,
}

/// Finds the end of a request head in bytes that arrive in pieces, enforcing the
/// size limits as it goes, so that a client cannot make us buffer more than the
/// limits allow before we refuse it.
///
/// It remembers how far it has looked, so a head that arrives a byte at a time is
/// scanned once in all, not once per byte.
#[derive(Clone, Debug, Default)]
pub struct HeadScanner {
    /// How many bytes have been looked at.
    scanned: usize,
    /// Where the line being scanned starts.
    line_start: usize,
    /// Where the request line ends (just past its CRLF), once it has.
    request_line_end: Option<usize>,
    /// How many header lines have ended so far.
    header_lines: usize,
}

impl HeadScanner {
    pub fn new() -> HeadScanner {
        HeadScanner::default()
    }

    /// Looks at the bytes of `buffer` not yet seen. `Ok(Some(n))` means the head is
    /// the first `n` bytes, blank line included; `Ok(None)` means not yet.
    /// `buffer` must only ever grow between calls (the scanner does not look back).
    pub fn scan(&mut self, buffer: &[u8], limits: &Limits) -> Result<Option<usize>, Error> {
        while self.scanned < buffer.len() {
            let at = self.scanned;
            self.scanned += 1;
            match buffer[at] {
                0 => return Err(Error::Nul),
                b'\n' => {}
                _ => {
                    self.check_size(limits)?;
                    continue;
                }
            }
            if at == 0 || buffer[at - 1] != b'\r' {
                return Err(Error::BareLf);
            }
            let line_len = at - 1 - self.line_start;
            let next_line = at + 1;
            match self.request_line_end {
                // RFC 9112 §2.2: ignore empty lines before the request line (some
                // clients send a stray CRLF after a body).
                None if line_len == 0 => self.line_start = next_line,
                None => {
                    if next_line > limits.request_line {
                        return Err(Error::UriTooLong);
                    }
                    self.request_line_end = Some(next_line);
                    self.line_start = next_line;
                }
                Some(headers_start) => {
                    if next_line - headers_start > limits.header_bytes {
                        return Err(Error::HeadersTooLarge);
                    }
                    if line_len == 0 {
                        return Ok(Some(next_line));
                    }
                    self.header_lines += 1;
                    if self.header_lines > limits.header_count {
                        return Err(Error::HeadersTooLarge);
                    }
                    self.line_start = next_line;
                }
            }
            self.check_size(limits)?;
        }
        Ok(None)
    }

    // ANCHOR: check_size
    /// Refuses a head as soon as the part scanned so far is too long, rather than
    /// wait for a line end that may never come. It is checked after every byte,
    /// not where a read happened to end, so that the answer (414 or 431, or 400
    /// for a NUL further on) does not depend on how TCP split the bytes.
    fn check_size(&self, limits: &Limits) -> Result<(), Error> {
        match self.request_line_end {
            None if self.scanned > limits.request_line => Err(Error::UriTooLong),
            Some(headers_start) if self.scanned - headers_start > limits.header_bytes => {
                Err(Error::HeadersTooLarge)
            }
            _ => Ok(()),
        }
    }
    // ANCHOR_END: check_size
}

/// Parses a request head from the start of `buffer`.
///
/// This is the whole parser in one call, for code that holds the bytes already.
/// [`crate::http::Connection`] keeps a [`HeadScanner`] between reads instead.
pub fn parse_head(buffer: &[u8], limits: &Limits) -> Result<Status<Request>, Error> {
    match HeadScanner::new().scan(buffer, limits)? {
        Some(len) => Ok(Status::Complete(parse(&buffer[..len], limits)?, len)),
        None => Ok(Status::Partial),
    }
}

/// Parses a complete head, as found by [`HeadScanner`]: lines ending in CRLF, the
/// last of them empty, no NUL anywhere.
pub fn parse(head: &[u8], limits: &Limits) -> Result<Request, Error> {
    // Skip the empty lines the scanner allowed before the request line.
    let mut start = 0;
    while head[start..].starts_with(b"\r\n") {
        start += 2;
    }
    let mut lines = head[start..].split(|&b| b == b'\n').map(|line| {
        // The scanner has checked that every LF follows a CR.
        &line[..line.len().saturating_sub(1)]
    });
    let (method, target, version) = parse_request_line(lines.next().unwrap_or_default())?;

    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        headers.push(parse_header(line)?);
    }

    let mut request = Request {
        method,
        target,
        version,
        headers,
        content_length: 0,
        framing: Framing::None,
        expects_continue: false,
        body: Vec::new(),
    };
    check_framing_and_host(&mut request, limits)?;
    check_expect(&mut request)?;
    Ok(request)
}

/// `METHOD SP request-target SP HTTP-version`, with exactly one space between.
fn parse_request_line(line: &[u8]) -> Result<(Method, String, HttpVersion), Error> {
    let text = std::str::from_utf8(line).map_err(|_| Error::RequestLine)?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::RequestLine);
    };
    // Targets are visible ASCII only; a raw space, control byte or UTF-8 means the
    // client did not percent-encode, and guessing what it meant is how proxies
    // and servers come to disagree.
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::RequestLine);
    }
    let method: Method = method.parse()?;
    let version: HttpVersion = version.parse()?;
    Ok((method, target.to_owned(), version))
}

/// `name: value`: a token, a colon straight after it, and a value without control
/// characters, optional whitespace around it.
fn parse_header(line: &[u8]) -> Result<Header, Error> {
    if line[0] == b' ' || line[0] == b'\t' {
        // Obsolete line folding (RFC 9112 §5.2): a server may reject it, and we do.
        return Err(Error::HeaderLine);
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(Error::HeaderLine)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    // A space before the colon is a known smuggling trick (RFC 9112 §5.1: MUST reject).
    if !is_token(name) {
        return Err(Error::HeaderLine);
    }
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let first = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let last = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(first, |i| i + 1);
    let value = &value[first..last];
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::HeaderLine);
    }
    Ok(Header {
        // Names are tokens, so ASCII; values may hold any byte from 0x80 up
        // (obs-text), which we keep as best we can.
        name: String::from_utf8_lossy(name).into_owned(),
        value: String::from_utf8_lossy(value).into_owned(),
    })
}

/// The checks that need the whole header block: how the body is framed and Host.
// ANCHOR: framing
fn check_framing_and_host(request: &mut Request, limits: &Limits) -> Result<(), Error> {
    let length = content_length(request)?;
    let chunked = transfer_encoding(request)?;
    request.framing = match (length, chunked) {
        // Both at once is how requests are smuggled past a proxy that reads
        // one and a server that reads the other (RFC 9112 §6.3 lets a server
        // refuse it; we do).
        (Some(_), true) => return Err(Error::Framing("both Content-Length and chunked")),
        (Some(length), false) => Framing::Length(length),
        (None, true) => Framing::Chunked,
        (None, false) => Framing::None,
    };
    // ANCHOR_END: framing
    request.content_length = length.unwrap_or(0);
    // The session holds each body to the limit that applies to it; no body
    // may be larger than the larger of them.
    if request.content_length > limits.body.max(limits.upload) {
        return Err(Error::BodyTooLarge);
    }

    let mut hosts = request
        .headers
        .iter()
        .filter(|header| header.name.eq_ignore_ascii_case("host"));
    match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => Err(Error::Host),
        (Some(host), None) if !is_valid_host(&host.value) => Err(Error::Host),
        // HTTP/1.1 requires Host (RFC 9112 §3.2); HTTP/1.0 predates it.
        (None, _) if request.version == HttpVersion::Http11 => Err(Error::Host),
        _ => Ok(()),
    }
}

/// `Content-Length`, if given. It may repeat, even as a list, but only with
/// one value (RFC 9112 §6.3).
fn content_length(request: &Request) -> Result<Option<u64>, Error> {
    let mut length = None;
    for header in &request.headers {
        if !header.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        for item in header.value.split(',') {
            let item = item.trim();
            if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::ContentLength);
            }
            let value: u64 = item.parse().map_err(|_| Error::ContentLength)?;
            if length.is_some_and(|seen| seen != value) {
                return Err(Error::ContentLength);
            }
            length = Some(value);
        }
    }
    Ok(length)
}

/// Whether the body is chunked. `Transfer-Encoding` lists codings in the
/// order they were applied, and `chunked` must come last, once, or the body
/// has no end we can find (RFC 9112 §6.3: `400`). Any other coding (`gzip,
/// chunked`) we could find the end of but not undo: `501`. HTTP/1.0 had no
/// transfer codings, so one there is faulty framing (RFC 9112 §6.1).
fn transfer_encoding(request: &Request) -> Result<bool, Error> {
    let codings: Vec<String> = request
        .headers
        .iter()
        .filter(|header| header.name.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|header| header.value.split(','))
        .map(|coding| coding.trim().to_ascii_lowercase())
        .collect();
    if codings.is_empty() {
        return Ok(false);
    }
    if request.version == HttpVersion::Http10 {
        return Err(Error::Framing("Transfer-Encoding in an HTTP/1.0 request"));
    }
    let chunked = codings.iter().filter(|coding| *coding == "chunked").count();
    if chunked != 1 || codings.last().is_none_or(|last| last != "chunked") {
        return Err(Error::Framing(
            "a Transfer-Encoding that does not end in chunked",
        ));
    }
    if codings.len() > 1 {
        return Err(Error::TransferEncoding);
    }
    Ok(true)
}

/// `Expect: 100-continue` is the only expectation there is (RFC 9110
/// §10.1.1); any other gets `417`. HTTP/1.0 clients cannot expect anything.
fn check_expect(request: &mut Request) -> Result<(), Error> {
    if request.version == HttpVersion::Http10 {
        return Ok(());
    }
    let expects = request
        .headers
        .iter()
        .filter(|header| header.name.eq_ignore_ascii_case("expect"))
        .flat_map(|header| header.value.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty());
    for item in expects {
        if !item.eq_ignore_ascii_case("100-continue") {
            return Err(Error::Expectation);
        }
        request.expects_continue = true;
    }
    Ok(())
}

/// A `Host` value: a name or address and an optional port. Empty is allowed (for a
/// target without an authority). Anything that could not be part of a URI is not.
fn is_valid_host(host: &str) -> bool {
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]%".contains(&b))
}

/// RFC 9110 §5.6.2: a token is one or more of these characters.
pub(crate) fn is_token(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Result<Status<Request>, Error> {
        parse_head(bytes, &Limits::default())
    }

    fn parsed(bytes: &[u8]) -> Request {
        match parse_all(bytes) {
            Ok(Status::Complete(request, len)) => {
                assert_eq!(len, bytes.len(), "the head is all of the input");
                request
            }
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    fn error(bytes: &[u8]) -> Error {
        match parse_all(bytes) {
            Err(error) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_browser_request() {
        let request = parsed(
            b"GET /index.html?x=1 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\
              User-Agent: test\r\nAccept:  */*  \r\n\r\n",
        );
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.target, "/index.html?x=1");
        assert_eq!(request.version, HttpVersion::Http11);
        assert_eq!(request.header("HOST"), Some("127.0.0.1:3000"));
        assert_eq!(request.header("accept"), Some("*/*"), "whitespace trimmed");
        assert_eq!(request.content_length, 0);
        assert!(request.wants_keep_alive());
    }

    #[test]
    fn a_head_in_pieces_is_partial_until_the_blank_line() {
        let whole = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..whole.len() {
            assert_eq!(
                parse_all(&whole[..cut]),
                Ok(Status::Partial),
                "cut at {cut}"
            );
        }
        let mut scanner = HeadScanner::new();
        let limits = Limits::default();
        for end in 1..whole.len() {
            assert_eq!(scanner.scan(&whole[..end], &limits), Ok(None));
        }
        assert_eq!(scanner.scan(whole, &limits), Ok(Some(whole.len())));
    }

    #[test]
    fn bytes_after_the_head_are_left_for_the_next_request() {
        let bytes = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n";
        match parse_all(bytes) {
            Ok(Status::Complete(request, len)) => {
                assert_eq!(request.target, "/a");
                assert_eq!(&bytes[len..], b"GET /b HTTP/1.1\r\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_lines_before_the_request_line_are_skipped() {
        assert_eq!(parsed(b"\r\n\r\nGET / HTTP/1.0\r\n\r\n").target, "/");
    }

    #[test]
    fn http_10_needs_no_host_and_closes_by_default() {
        let request = parsed(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(request.version, HttpVersion::Http10);
        assert!(!request.wants_keep_alive());
        assert!(parsed(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").wants_keep_alive());
        assert!(
            !parsed(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").wants_keep_alive()
        );
    }

    #[test]
    fn unknown_methods_parse_so_they_can_get_405() {
        let request = parsed(b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(request.method, Method::Other("BREW".into()));
        assert_eq!(request.method.to_string(), "BREW");
    }

    #[test]
    fn malformed_request_lines_are_400() {
        for bytes in [
            &b"GET\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
            b"GET / http/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.x\r\nHost: x\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(
                error(bytes),
                Error::RequestLine,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn other_http_versions_are_505() {
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"] {
            let bytes = format!("GET / {version}\r\nHost: x\r\n\r\n");
            assert_eq!(
                error(bytes.as_bytes()),
                Error::VersionNotSupported,
                "{version}"
            );
        }
    }

    #[test]
    fn malformed_header_lines_are_400() {
        for bytes in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: bell\x07\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n",
        ] {
            assert_eq!(
                error(bytes),
                Error::HeaderLine,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn line_ends_must_be_crlf_and_nul_is_refused_anywhere() {
        assert_eq!(error(b"GET / HTTP/1.1\nHost: x\n\n"), Error::BareLf);
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost: x\n\r\n"), Error::BareLf);
        assert_eq!(error(b"GET /\0 HTTP/1.1\r\n"), Error::Nul);
        assert_eq!(error(b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), Error::Nul);
    }

    #[test]
    fn host_is_required_once_in_http_11() {
        assert_eq!(error(b"GET / HTTP/1.1\r\n\r\n"), Error::Host);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Error::Host
        );
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), Error::Host);
        assert_eq!(
            parsed(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").header("host"),
            Some("")
        );
    }

    #[test]
    fn content_length_must_be_one_number() {
        let with =
            |value: &str| format!("GET / HTTP/1.1\r\nHost: x\r\n{value}\r\n\r\n").into_bytes();
        assert_eq!(parsed(&with("Content-Length: 5")).content_length, 5);
        assert_eq!(parsed(&with("Content-Length: 5, 5")).content_length, 5);
        assert_eq!(
            parsed(&with("Content-Length: 5\r\nContent-Length: 5")).content_length,
            5
        );
        for bad in [
            "Content-Length: -1",
            "Content-Length: +5",
            "Content-Length: 5, 6",
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: ",
            "Content-Length: 99999999999999999999999",
            "Content-Length: 0x10",
        ] {
            assert_eq!(error(&with(bad)), Error::ContentLength, "{bad}");
        }
        assert_eq!(error(&with("Content-Length: 2000000")), Error::BodyTooLarge);
    }

    #[test]
    fn the_body_is_framed_by_its_length_or_by_chunks() {
        let head = |headers: &str| format!("PUT / HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        let framing = |headers: &str| parsed(head(headers).as_bytes()).framing;
        assert_eq!(framing(""), Framing::None);
        assert_eq!(framing("Content-Length: 5\r\n"), Framing::Length(5));
        assert_eq!(framing("Transfer-Encoding: chunked\r\n"), Framing::Chunked);
        assert_eq!(framing("Transfer-Encoding: Chunked \r\n"), Framing::Chunked);
    }

    /// Framing that two readers could read two ways is refused, not guessed.
    #[test]
    fn ambiguous_framing_is_refused_not_guessed() {
        let head = |headers: &str| format!("PUT / HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        for headers in [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
            "Transfer-Encoding: chunked, chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked, gzip\r\n",
            "Transfer-Encoding: gzip\r\n",
            "Transfer-Encoding: \r\n",
        ] {
            let error = error(head(headers).as_bytes());
            assert!(matches!(error, Error::Framing(_)), "{headers:?}: {error:?}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(400), "{headers:?}");
        }
        // A coding we could find the end of but not undo: 501.
        let gzip = head("Transfer-Encoding: gzip, chunked\r\n");
        assert_eq!(error(gzip.as_bytes()), Error::TransferEncoding);
        // HTTP/1.0 had no transfer codings.
        let old = b"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(error(old), Error::Framing(_)));
    }

    #[test]
    fn only_100_continue_is_an_expectation_met() {
        let head = |headers: &str| format!("PUT / HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        assert!(!parsed(head("").as_bytes()).expects_continue);
        for expect in ["100-continue", "100-Continue", " 100-continue , "] {
            let request = parsed(head(&format!("Expect: {expect}\r\n")).as_bytes());
            assert!(request.expects_continue, "{expect:?}");
        }
        for expect in ["200-ok", "100-continue, x", "100-continue-please"] {
            let error = error(head(&format!("Expect: {expect}\r\n")).as_bytes());
            assert_eq!(error, Error::Expectation, "{expect:?}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(417));
        }
        // An HTTP/1.0 client cannot expect anything: the header is ignored.
        let old = parsed(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
        assert!(!old.expects_continue);
    }

    #[test]
    fn limits_are_enforced_before_the_head_is_complete() {
        let limits = Limits::default();
        let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(limits.request_line));
        assert_eq!(error(long_line.as_bytes()), Error::UriTooLong);
        // No line end at all yet, but already too long to be a request line.
        let endless = vec![b'a'; limits.request_line + 1];
        assert_eq!(error(&endless), Error::UriTooLong);

        let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
        big.extend(std::iter::repeat_n(b'b', limits.header_bytes));
        assert_eq!(error(&big), Error::HeadersTooLarge);

        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=limits.header_count {
            many.extend(format!("X-{i}: 1\r\n").bytes());
        }
        assert_eq!(error(&many), Error::HeadersTooLarge);
    }

    #[test]
    fn the_answer_does_not_depend_on_how_the_bytes_arrive() {
        // Too long a request line, and a NUL further on: 414 whether the bytes
        // come in one read or two, not 400 when they happen to come at once.
        let limits = Limits::default();
        let mut bytes = vec![b'a'; limits.request_line + 10];
        bytes.push(0);
        assert_eq!(error(&bytes), Error::UriTooLong);
        let mut scanner = HeadScanner::new();
        assert_eq!(
            scanner.scan(&bytes[..limits.request_line + 1], &limits),
            Err(Error::UriTooLong)
        );
    }

    #[test]
    fn exactly_at_the_limits_is_allowed() {
        let limits = Limits::default();
        let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 2..=limits.header_count {
            head.extend(format!("X-{i}: 1\r\n").bytes());
        }
        head.extend(b"\r\n");
        assert_eq!(parsed(&head).headers.len(), limits.header_count);

        let path = "a".repeat(limits.request_line - "GET / HTTP/1.1\r\n".len());
        let line = format!("GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(parsed(line.as_bytes()).target.len(), path.len() + 1);
    }
}
