//! One connection's HTTP, as a state machine with no socket in it.
//!
//! Bytes the client sent go in ([`Session::receive`]); events come out
//! ([`Session::next_event`]): a request, an error to answer, "need more", or a
//! clean close. A response goes in ([`Session::respond`]) and comes out as bytes
//! to write ([`Outgoing`]). The session never reads or writes anything itself, as
//! python-hyper/h11 never does, so the blocking stages, the readiness loop of
//! `keep-alive` and an `async` server share one parser, one set of limits, one
//! way of skipping a body and one keep-alive decision, and differ only in how
//! they move bytes. It can be tested, byte by byte, without a network.

use super::body::{BodyReader, Framing};
use super::request::{self, HeadScanner};
use super::response::{Outgoing, WriteOptions};
use super::{Error, Method, Request, Response, uploads};
use crate::config::Limits;

/// What the session has to say after the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Not enough bytes yet: read more, and [`Session::receive`] them.
    NeedMore,
    /// A request, to be answered with [`Session::respond`].
    Request(Request),
    /// A request that cannot be served: answer the error (if it has a status)
    /// and close. The session yields nothing more.
    Error(Error),
    /// The client closed the connection between requests, as every
    /// connection ends: not an error.
    Closed,
}

/// The state of one connection's requests and responses.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    /// Bytes received and not used yet: part of the next request head, or
    /// more than one request (pipelining).
    buffer: Vec<u8>,
    scanner: HeadScanner,
    /// The length of the head at the start of `buffer`, once it is whole.
    head_len: Option<usize>,
    /// The body still coming: an upload's, kept for `pending`, or any other
    /// request's, thrown away as it comes, because the next request starts
    /// after it.
    body: Option<BodyReader>,
    /// An upload whose body is being read: it becomes an event once whole.
    pending: Option<Request>,
    /// Bytes to send before the client sends the rest: `100 Continue`.
    interim: Option<&'static [u8]>,
    /// The client has closed its side.
    eof: bool,
    /// Why the session stopped, once it has.
    failed: Option<Error>,
    /// A request has been taken and not answered yet.
    answering: bool,
    /// The exchange under way: its first line, for the log, and what the
    /// response depends on.
    line: String,
    head_only: bool,
    wants_keep_alive: bool,
    /// Whether the stage lets a connection carry another request.
    keep_alive_allowed: bool,
    /// The last response said `Connection: close`.
    closing: bool,
    /// The connection must close, and may not do so at once: the client may
    /// still be sending (after an error, or a body not read to its end).
    linger: bool,
}

impl Session {
    pub fn new(limits: Limits) -> Session {
        Session {
            limits,
            buffer: Vec::new(),
            scanner: HeadScanner::new(),
            head_len: None,
            body: None,
            pending: None,
            interim: None,
            eof: false,
            failed: None,
            answering: false,
            line: String::new(),
            head_only: false,
            wants_keep_alive: false,
            keep_alive_allowed: false,
            closing: true,
            linger: false,
        }
    }

    // ANCHOR: receive
    /// Takes bytes the client sent. A body's bytes go to its reader, kept
    /// (an upload) or thrown away as they come; the rest is the next head.
    pub fn receive(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if let Some(reader) = &mut self.body {
            match reader.feed(bytes) {
                Ok(used) => bytes = &bytes[used..],
                Err(error) => {
                    // Where the body ends is lost, and so is where the next
                    // request would start: the connection can only close.
                    self.body = None;
                    self.linger = true;
                    self.failed = Some(error);
                    return;
                }
            }
            if reader.is_done() {
                self.body_ended();
            }
        }
        self.buffer.extend_from_slice(bytes);
    }
    // ANCHOR_END: receive

    /// The body has all come: an upload gets it.
    fn body_ended(&mut self) {
        if let Some(reader) = self.body.take()
            && let Some(request) = &mut self.pending
        {
            request.body = reader.into_body();
        }
    }

    /// The client has closed its side: it will send nothing more.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// What the bytes received so far amount to.
    pub fn next_event(&mut self) -> Event {
        if let Some(error) = &self.failed {
            return Event::Error(error.clone());
        }
        if self.body.is_some() {
            return match self.eof {
                true => Event::Error(self.refuse(Error::Closed)),
                false => Event::NeedMore,
            };
        }
        if let Some(upload) = self.pending.take() {
            return Event::Request(upload);
        }
        match self.scan() {
            Ok(Some(head_len)) => self.take_head(head_len),
            Ok(None) if !self.eof => Event::NeedMore,
            Ok(None) if self.buffer.is_empty() => Event::Closed,
            Ok(None) => Event::Error(self.refuse(Error::Closed)),
            Err(error) => Event::Error(error),
        }
    }

    /// Whether the session needs more bytes before it has anything to say:
    /// [`Session::next_event`] would be [`Event::NeedMore`]. It only looks for
    /// the end of the head, which is cheap; parsing is left to `next_event`.
    pub fn needs_more(&mut self) -> bool {
        if self.failed.is_some() || self.eof {
            return false;
        }
        match (&self.body, &self.pending) {
            // A body still coming, kept or not.
            (Some(_), _) => true,
            // An upload, whole.
            (None, Some(_)) => false,
            (None, None) => matches!(self.scan(), Ok(None)),
        }
    }

    /// Finds the end of the head in the buffer, within the limits. An error is
    /// refused at once: the scanner does not look at the same bytes twice.
    fn scan(&mut self) -> Result<Option<usize>, Error> {
        if self.head_len.is_none() {
            match self.scanner.scan(&self.buffer, &self.limits) {
                Ok(found) => self.head_len = found,
                Err(error) => return Err(self.refuse(error)),
            }
        }
        Ok(self.head_len)
    }

    /// Parses the head at the start of the buffer, and starts skipping its body.
    fn take_head(&mut self, head_len: usize) -> Event {
        let head = &self.buffer[..head_len];
        let parsed = request::parse(head, &self.limits);
        self.line = first_line(head);
        self.buffer.drain(..head_len);
        (self.scanner, self.head_len) = (HeadScanner::new(), None);
        self.answering = true;
        let request = match parsed {
            Ok(request) => request,
            Err(error) => return Event::Error(self.refuse(error)),
        };
        self.head_only = request.method == Method::Head;
        self.wants_keep_alive = request.wants_keep_alive();
        match self.start_body(request) {
            Ok(Some(request)) => Event::Request(request),
            // An upload, whose body is still coming.
            Ok(None) => self.next_event(),
            Err(error) => Event::Error(self.refuse(error)),
        }
    }

    // ANCHOR: start_body
    /// Starts reading the body the head announced, with what came with the
    /// head. An upload's body is kept, and the request held back until it is
    /// whole (`Ok(None)`); any other request is answered at once, and its
    /// body thrown away as it comes.
    fn start_body(&mut self, request: Request) -> Result<Option<Request>, Error> {
        let keep = uploads::keeps_body(&request, &self.limits);
        if keep && request.framing == Framing::None {
            return Err(Error::LengthRequired);
        }
        let limit = match keep {
            true => self.limits.upload,
            false => self.limits.body,
        };
        let mut reader = BodyReader::new(request.framing, keep, limit)?;
        let used = reader.feed(&self.buffer)?;
        self.buffer.drain(..used);
        let mut request = request;
        match (keep, reader.is_done()) {
            (true, true) => request.body = reader.into_body(),
            (true, false) => {
                if request.expects_continue {
                    // The client waits for a word before it sends the body
                    // (curl waits a second, then sends it anyway).
                    self.interim = Some(CONTINUE);
                }
                self.pending = Some(request);
                self.body = Some(reader);
                return Ok(None);
            }
            (false, true) => {}
            (false, false) => self.body = Some(reader),
        }
        Ok(Some(request))
    }
    // ANCHOR_END: start_body

    /// Bytes to write to the client now, before it sends more: `100
    /// Continue` for a client that waits for it before sending its body.
    pub fn take_interim(&mut self) -> Option<&'static [u8]> {
        self.interim.take()
    }

    /// Whether the body of the request being answered has not all arrived.
    /// The blocking stages wait for it; `keep-alive` answers at once and closes.
    pub fn body_pending(&self) -> bool {
        self.pending.is_none() && self.body.is_some()
    }

    /// Records that the request under way cannot be served: for the log, its
    /// first line as far as it arrived; for the close, that the client may
    /// still be sending. The reading side uses it too, for a read deadline
    /// that passed or a connection that failed. Returns the error, to be
    /// answered or dropped.
    pub fn refuse(&mut self, error: Error) -> Error {
        if !self.answering {
            self.line = first_line(&self.buffer);
            self.head_only = false;
        }
        self.answering = true;
        self.linger = true;
        self.failed = Some(error.clone());
        error
    }

    /// Lets the connection carry more requests, for clients that ask to keep
    /// it (`keep-alive` only, and not while it shuts down). Without it every
    /// response says `Connection: close`.
    pub fn allow_keep_alive(&mut self, allowed: bool) {
        self.keep_alive_allowed = allowed;
    }

    // ANCHOR: respond
    /// The bytes that answer the exchange under way with `response`. Whether
    /// the connection stays open is decided here: only if the stage allows it,
    /// the client asked for it, the request was read to its end, and all went
    /// well (after an error we cannot know where a next request would begin).
    pub fn respond(&mut self, response: Response) -> std::io::Result<Outgoing> {
        if response.status.is_error() || self.body.is_some() {
            self.linger = true;
        }
        let keep_alive = self.keep_alive_allowed && self.wants_keep_alive && !self.linger;
        self.closing = !keep_alive;
        self.answering = false;
        response.serialize(WriteOptions {
            head_only: self.head_only,
            keep_alive,
        })
    }
    // ANCHOR_END: respond

    /// Whether the connection may carry another request after the last response.
    pub fn can_continue(&self) -> bool {
        !self.closing && self.failed.is_none()
    }

    /// Whether closing must linger: the client may still be sending.
    pub fn must_linger(&self) -> bool {
        self.linger
    }

    /// Why the session stopped, if it has.
    pub fn failure(&self) -> Option<Error> {
        self.failed.clone()
    }

    /// Whether a body is on its way: the request it belongs to has begun, so
    /// the read timeout applies to it, not the keep-alive timeout.
    pub fn reading_body(&self) -> bool {
        self.body.is_some()
    }

    /// Whether bytes the client sent are waiting, unused.
    pub fn has_unread(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// The first line of the exchange under way or just answered, for the log.
    pub fn line(&self) -> &str {
        &self.line
    }
}

/// The interim response that asks the client for its body.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The first line of a request as far as it arrived, made safe to print.
fn first_line(bytes: &[u8]) -> String {
    const MAX: usize = 120;
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    let mut line: String = bytes[..end.min(MAX)]
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if end > MAX {
        line.push_str("...");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::StatusCode;

    fn session(bytes: &[u8]) -> Session {
        let mut session = Session::new(Limits::default());
        session.receive(bytes);
        session
    }

    fn request(event: Event) -> Request {
        match event {
            Event::Request(request) => request,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    /// The response's head, as text.
    fn head(outgoing: Outgoing) -> String {
        let text = String::from_utf8(outgoing.bytes).unwrap();
        text.split_once("\r\n\r\n").unwrap().0.to_owned()
    }

    #[test]
    fn a_head_in_pieces_needs_more_until_its_blank_line() {
        let whole = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut session = Session::new(Limits::default());
        for byte in &whole[..whole.len() - 1] {
            session.receive(std::slice::from_ref(byte));
            assert!(session.needs_more());
            assert_eq!(session.next_event(), Event::NeedMore);
        }
        session.receive(b"\n");
        assert!(!session.needs_more());
        assert_eq!(request(session.next_event()).target, "/a");
        assert_eq!(session.line(), "GET /a HTTP/1.1");
    }

    #[test]
    fn pipelined_requests_come_out_one_at_a_time_in_order() {
        let mut session =
            session(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3");
        assert_eq!(request(session.next_event()).target, "/1");
        let _ = session.respond(Response::page(StatusCode::OK, "one"));
        assert_eq!(request(session.next_event()).target, "/2");
        assert_eq!(session.line(), "HEAD /2 HTTP/1.1");
        assert_eq!(session.next_event(), Event::NeedMore);
        assert!(session.has_unread(), "the start of the third is kept");
    }

    /// A body is thrown away, whether it came with the head or after it, and
    /// the next request starts right after it.
    #[test]
    fn a_body_is_skipped_wherever_it_arrives() {
        let mut session = session(b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
        assert_eq!(request(session.next_event()).target, "/a");
        assert!(session.body_pending());
        assert_eq!(session.next_event(), Event::NeedMore);
        session.receive(b"56789GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!session.body_pending());
        assert_eq!(request(session.next_event()).target, "/b");
    }

    #[test]
    fn a_close_between_requests_is_clean_and_mid_request_is_not() {
        let mut idle = session(b"");
        idle.receive_eof();
        assert_eq!(idle.next_event(), Event::Closed);

        let mut cut = session(b"GET /a HT");
        cut.receive_eof();
        assert_eq!(cut.next_event(), Event::Error(Error::Closed));
        assert_eq!(cut.line(), "GET /a HT");
        assert!(cut.must_linger());

        let mut in_body = session(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
        request(in_body.next_event());
        in_body.receive_eof();
        assert_eq!(in_body.next_event(), Event::Error(Error::Closed));
    }

    /// A broken head is an error to answer, with its first line for the log;
    /// the session then says nothing else, whatever else arrives.
    #[test]
    fn an_error_ends_the_session() {
        let mut session = session(b"GET / HTTP/1.1\nHost: x\n\n");
        assert_eq!(session.next_event(), Event::Error(Error::BareLf));
        assert_eq!(session.line(), "GET / HTTP/1.1");
        session.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(session.next_event(), Event::Error(Error::BareLf));
        assert!(session.must_linger());
        assert!(!session.can_continue());
    }

    #[test]
    fn limits_apply_before_the_head_is_whole() {
        let mut session = session(&vec![b'a'; Limits::default().request_line + 1]);
        assert!(
            !session.needs_more(),
            "an error to answer, not more to read"
        );
        assert_eq!(session.next_event(), Event::Error(Error::UriTooLong));
    }

    /// A deadline the reading side enforces ends the session like any error,
    /// logged with the line of the request that was too slow, not the last one.
    #[test]
    fn a_refusal_from_outside_names_the_request_under_way() {
        let mut session = session(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /slow");
        request(session.next_event());
        let _ = session.respond(Response::page(StatusCode::OK, "a"));
        assert_eq!(session.refuse(Error::Timeout), Error::Timeout);
        assert_eq!(session.line(), "GET /slow");
    }

    /// The connection stays open only if the stage allows it, the client asks,
    /// its body has all arrived and the answer is not an error.
    #[test]
    fn keep_alive_needs_every_condition() {
        let keep = |allowed: bool, head: &[u8], status: StatusCode| {
            let mut session = session(head);
            session.allow_keep_alive(allowed);
            request(session.next_event());
            let sent = head_text(session.respond(Response::page(status, "x")));
            (session.can_continue(), sent, session.must_linger())
        };
        fn head_text(outgoing: std::io::Result<Outgoing>) -> String {
            head(outgoing.unwrap())
        }
        let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let (open, sent, linger) = keep(true, get, StatusCode::OK);
        assert!(open && sent.ends_with("Connection: keep-alive") && !linger);
        let (open, sent, _) = keep(false, get, StatusCode::OK);
        assert!(!open && sent.ends_with("Connection: close"));
        let close = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        assert!(!keep(true, close, StatusCode::OK).0);
        let http10 = b"GET / HTTP/1.0\r\n\r\n";
        assert!(!keep(true, http10, StatusCode::OK).0);
        let (open, _, linger) = keep(true, get, StatusCode::NOT_FOUND);
        assert!(!open && linger, "an error closes, after lingering");
        let partial_body = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n123";
        let (open, sent, linger) = keep(true, partial_body, StatusCode::OK);
        assert!(!open && linger && sent.ends_with("Connection: close"));
    }

    #[test]
    fn a_head_request_gets_the_head_alone() {
        let mut session = session(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        request(session.next_event());
        let outgoing = session
            .respond(Response::page(StatusCode::OK, "body"))
            .unwrap();
        let text = String::from_utf8(outgoing.bytes).unwrap();
        assert!(
            text.ends_with("\r\n\r\n") && !text.contains("body"),
            "{text}"
        );
    }

    /// A session whose uploads are on, with bodies of up to `upload` bytes.
    fn uploading(upload: u64) -> Session {
        Session::new(Limits {
            upload,
            ..Limits::default()
        })
    }

    /// An upload's request is held back until its body is whole, however the
    /// body arrives, and the request pipelined after it comes next.
    #[test]
    fn an_upload_comes_out_with_its_whole_body() {
        let bytes: &[u8] =
            b"PUT /uploads/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
            5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        for piece in [1, 7, bytes.len()] {
            let mut session = uploading(100);
            session.allow_keep_alive(true);
            let mut events = Vec::new();
            for part in bytes.chunks(piece) {
                session.receive(part);
                loop {
                    match session.next_event() {
                        Event::NeedMore => break,
                        Event::Request(request) => {
                            events.push((request.target.clone(), request.body.clone()));
                            let _ = session.respond(Response::page(StatusCode::OK, "x"));
                        }
                        other => panic!("{other:?} in pieces of {piece}"),
                    }
                }
            }
            let want = [
                ("/uploads/a".to_owned(), b"hello world".to_vec()),
                ("/b".to_owned(), Vec::new()),
            ];
            assert_eq!(events, want, "in pieces of {piece}");
            assert!(session.can_continue(), "in pieces of {piece}");
        }
    }

    /// A client that expects `100 Continue` gets it once the head is read,
    /// and only if its body is wanted: any other is answered at once.
    #[test]
    fn a_wanted_body_is_asked_for_with_100_continue() {
        let put = b"PUT /uploads/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
        let mut session = uploading(100);
        session.receive(put);
        assert_eq!(session.next_event(), Event::NeedMore);
        assert_eq!(
            session.take_interim(),
            Some(&b"HTTP/1.1 100 Continue\r\n\r\n"[..])
        );
        assert_eq!(session.take_interim(), None, "sent once");
        session.receive(b"hi");
        assert_eq!(request(session.next_event()).body, b"hi");

        let mut off = session_with(put, Limits::default());
        assert_eq!(request(off.next_event()).body, b"", "uploads are off");
        assert_eq!(off.take_interim(), None);
    }

    fn session_with(bytes: &[u8], limits: Limits) -> Session {
        let mut session = Session::new(limits);
        session.receive(bytes);
        session
    }

    #[test]
    fn an_upload_needs_a_length_and_a_body_within_the_limit() {
        let no_length = b"PUT /uploads/a HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut session = uploading(100);
        session.receive(no_length);
        assert_eq!(session.next_event(), Event::Error(Error::LengthRequired));

        let too_long = b"PUT /uploads/a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n";
        let mut session = uploading(100);
        session.receive(too_long);
        assert_eq!(session.next_event(), Event::Error(Error::BodyTooLarge));

        // A chunked body says its size a chunk at a time: refused at the
        // chunk that takes it past the limit.
        let chunks = b"PUT /uploads/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut session = uploading(100);
        session.receive(chunks);
        assert_eq!(session.next_event(), Event::NeedMore);
        session.receive(b"50\r\n");
        session.receive(&[b'a'; 0x50]);
        session.receive(b"\r\n50\r\n");
        assert_eq!(session.next_event(), Event::Error(Error::BodyTooLarge));
        assert!(session.must_linger() && !session.can_continue());
    }

    /// Broken chunks end the session: where the next request starts is lost.
    #[test]
    fn broken_chunks_end_the_session() {
        let mut cut =
            session(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz");
        let error = cut.next_event();
        assert!(
            matches!(error, Event::Error(Error::Chunked(_))),
            "{error:?}"
        );
        // Broken after the request was answered: the session ends all the same.
        let mut session =
            session(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        request(session.next_event());
        session.receive(b"3\r\nabc\r\nzz\r\n");
        assert!(session.must_linger() && !session.can_continue());
        let error = session.next_event();
        assert!(
            matches!(error, Event::Error(Error::Chunked(_))),
            "{error:?}"
        );
        session.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(
            session.next_event(),
            Event::Error(Error::Chunked(_))
        ));
    }

    /// A chunked body no one wants is read past, and the next request after
    /// it is served on the same connection.
    #[test]
    fn an_unwanted_chunked_body_is_skipped() {
        let mut session = session(
            b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
              GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(request(session.next_event()).target, "/a");
        assert!(!session.body_pending());
        let _ = session.respond(Response::page(StatusCode::OK, "x"));
        assert_eq!(request(session.next_event()).target, "/b");
    }

    #[test]
    fn the_logged_line_is_escaped_and_cut_short() {
        assert_eq!(
            first_line(b"GET /\x1b[31m HTTP/1.1\r\n"),
            "GET /\\x1b[31m HTTP/1.1"
        );
        let long = first_line(&[b'a'; 200]);
        assert_eq!(long.len(), 123);
        assert!(long.ends_with("..."));
    }
}
