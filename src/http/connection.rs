//! One client connection: reading request heads within limits and a deadline,
//! writing responses, logging each exchange, and closing without losing the answer.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use super::request::{self, HeadScanner, Limits};
use super::response::Sink;
use super::{Error, Method, Request, Response, WriteOptions};
use crate::config::Config;
use crate::{log, platform};

/// How long to keep reading after an error response, so the client sees it (see
/// [`Connection`]'s `Drop`). Apache waits up to 2 s; we wait up to 1 s.
pub const LINGER: Duration = Duration::from_secs(1);
/// ...but stop as soon as the client has been quiet this long: a client that
/// sends nothing more has nothing left for the kernel to reset over.
pub const LINGER_QUIET: Duration = Duration::from_millis(100);
/// How much to read and throw away while lingering, at most.
pub const LINGER_BYTES: usize = 1024 * 1024;

/// A client connection and the bytes it has sent that are not used yet.
///
/// Reading is always done through a buffer, never with one fixed-size read as the
/// report's `recv(1024)` did: TCP delivers a byte stream, not messages, so a
/// request can arrive in any number of pieces, and the bytes after one request
/// (a pipelined second one) belong to the next.
pub struct Connection {
    /// `None` only once [`Connection::into_parts`] has taken it.
    stream: Option<TcpStream>,
    /// The client's address, asked of the socket only when a log line needs it.
    peer: Option<SocketAddr>,
    buffer: Vec<u8>,
    scanner: HeadScanner,
    limits: Limits,
    read_timeout: Duration,
    /// The whole of each response must be sent within this time.
    write_timeout: Duration,
    /// Whether the socket is in non-blocking mode (handed over by a readiness
    /// loop). Small responses are written as they are; anything that would have
    /// to wait switches the socket to blocking mode first.
    nonblocking: bool,
    /// Whether a readiness loop watches this connection between requests
    /// (`keep-alive`). Such a connection never waits for the client's bytes on a
    /// worker's time: see [`Connection::skip_body`].
    watched: bool,
    /// Whether to tell the client the connection stays open. Only `keep-alive` sets it.
    pub keep_alive: bool,
    /// The exchange under way, for the log and for HEAD.
    started: Instant,
    line: String,
    head_only: bool,
    /// Set after an error response, when the client may still be sending.
    linger: bool,
}

impl Connection {
    /// Wraps an accepted stream, with the timeouts and limits of `config`.
    pub fn new(stream: TcpStream, config: &Config) -> Connection {
        prepare(&stream, config);
        Connection::with_parts(stream, None, Vec::new(), false, config)
    }

    /// Takes over a connection that a readiness loop has been watching, still in
    /// non-blocking mode, with the bytes it has already read (`keep-alive`).
    /// The stream was set up by [`prepare`] when it was accepted.
    pub fn resume(
        stream: TcpStream,
        peer: SocketAddr,
        buffer: Vec<u8>,
        config: &Config,
    ) -> Connection {
        Connection::with_parts(stream, Some(peer), buffer, true, config)
    }

    fn with_parts(
        stream: TcpStream,
        peer: Option<SocketAddr>,
        buffer: Vec<u8>,
        nonblocking: bool,
        config: &Config,
    ) -> Connection {
        Connection {
            stream: Some(stream),
            peer,
            buffer,
            scanner: HeadScanner::new(),
            limits: config.limits,
            read_timeout: config.read_timeout,
            write_timeout: config.write_timeout,
            nonblocking,
            watched: nonblocking,
            keep_alive: false,
            started: Instant::now(),
            line: String::new(),
            head_only: false,
            linger: false,
        }
    }

    /// Gives the stream, in non-blocking mode again, and any bytes read past the
    /// last request back, to be watched for the next request (`keep-alive`).
    /// Nothing is closed.
    pub fn into_parts(mut self) -> (TcpStream, Vec<u8>) {
        let stream = self.stream.take().expect("the stream is only taken here");
        if !self.nonblocking {
            let _ = stream.set_nonblocking(true);
        }
        (stream, std::mem::take(&mut self.buffer))
    }

    pub fn peer(&mut self) -> SocketAddr {
        if self.peer.is_none() {
            let asked = self.stream().peer_addr();
            self.peer = Some(asked.unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0))));
        }
        self.peer.expect("set just above")
    }

    fn stream(&mut self) -> &mut TcpStream {
        self.stream
            .as_mut()
            .expect("the stream is only taken by into_parts, which consumes the connection")
    }

    /// Reads and parses the next request head (steps ii and iii of the report).
    ///
    /// The whole head must arrive within the read timeout, counted from this call:
    /// a deadline, not a timeout per read, so a client sending a byte a second is
    /// cut off as surely as one sending nothing.
    ///
    /// `Ok(None)` means the client closed the connection without starting a request,
    /// which is how every connection ends, not an error.
    pub fn read_request(&mut self) -> Result<Option<Request>, Error> {
        self.started = Instant::now();
        self.line.clear();
        self.head_only = false;
        let deadline = self.started + self.read_timeout;
        let head_len = loop {
            match self.scanner.scan(&self.buffer, &self.limits) {
                Ok(Some(len)) => break len,
                Ok(None) => {}
                Err(error) => return Err(self.refuse(error)),
            }
            match self.fill(deadline) {
                Ok(0) if self.buffer.is_empty() => return Ok(None),
                Ok(0) => return Err(self.refuse(Error::Closed)),
                Ok(_) => {}
                Err(error) => return Err(self.refuse(error)),
            }
        };
        self.take_head(head_len, deadline).map(Some)
    }

    /// The next request if its whole head has already been read, without
    /// touching the socket; `None` if it has not (pipelining, `keep-alive`).
    pub fn buffered_request(&mut self) -> Option<Result<Request, Error>> {
        self.started = Instant::now();
        self.line.clear();
        self.head_only = false;
        match self.scanner.scan(&self.buffer, &self.limits) {
            Ok(None) => None,
            Ok(Some(head_len)) => {
                let deadline = self.started + self.read_timeout;
                Some(self.take_head(head_len, deadline))
            }
            Err(error) => Some(Err(self.refuse(error))),
        }
    }

    /// Parses the head that makes up the first `head_len` buffered bytes, and
    /// reads past its body.
    fn take_head(&mut self, head_len: usize, deadline: Instant) -> Result<Request, Error> {
        self.scanner = HeadScanner::new();
        let parsed = request::parse(&self.buffer[..head_len], &self.limits);
        self.line = first_line(&self.buffer[..head_len]);
        self.buffer.drain(..head_len);
        let request = parsed.map_err(|error| self.refuse(error))?;
        self.head_only = request.method == Method::Head;
        self.skip_body(request.content_length, deadline)
            .map_err(|error| self.refuse(error))?;
        Ok(request)
    }

    /// Sends a response (step vi) and logs the exchange.
    pub fn send(&mut self, response: Response) {
        let status = response.status;
        if status.is_error() {
            self.linger = true;
        }
        let options = WriteOptions {
            head_only: self.head_only,
            keep_alive: self.can_continue(),
        };
        if self.nonblocking && response.is_streamed(options) {
            // `sendfile` streams a large file; in blocking mode it waits for
            // the client instead of failing with `WouldBlock`.
            self.blocking();
        }
        let mut out = Timed {
            stream: self
                .stream
                .as_ref()
                .expect("the stream is only taken by into_parts"),
            nonblocking: &mut self.nonblocking,
            deadline: Instant::now() + self.write_timeout,
            timeout: self.write_timeout,
        };
        let written = response.write_to(&mut out, options);
        if out.timeout != self.write_timeout {
            // Cut short for a slow client: the next response starts afresh.
            let _ = out.stream.set_write_timeout(Some(self.write_timeout));
        }
        let elapsed = self.started.elapsed();
        match written {
            Ok(bytes) if log::requests_shown() => {
                let peer = self.peer();
                log::exchange(peer, &self.line, status, bytes, elapsed);
            }
            Ok(_) => {}
            Err(error) => {
                self.keep_alive = false;
                let peer = self.peer();
                log::send_failed(peer, &self.line, status, &error, elapsed);
            }
        }
    }

    /// Answers an error with its status (from the `not-found` stage on).
    pub fn send_error(&mut self, root: &Path, error: &Error) {
        match Response::error(root, error) {
            Some(response) => self.send(response),
            None => self.drop_request(error),
        }
    }

    /// Gives up on a request without answering it, and logs why.
    pub fn drop_request(&mut self, error: &Error) {
        self.keep_alive = false;
        let peer = self.peer();
        log::dropped(peer, &self.line, error, self.started.elapsed());
    }

    /// Whether the connection may carry another request after this one.
    pub fn can_continue(&self) -> bool {
        self.keep_alive && !self.linger
    }

    /// Whether closing must linger (see `Drop`): after an error, or a body not
    /// read to its end, the client may still be sending.
    pub fn must_linger(&self) -> bool {
        self.linger
    }

    /// Half-closes the connection, so the client sees the end of our response,
    /// and gives the stream back in non-blocking mode for a readiness loop to
    /// linger on (`keep-alive`): the loop can read and throw away what the
    /// client still sends without holding a thread for it.
    pub fn into_lingering(mut self) -> TcpStream {
        self.linger = false;
        let stream = self.stream.take().expect("the stream is only taken here");
        let _ = stream.shutdown(Shutdown::Write);
        let _ = stream.set_nonblocking(true);
        stream
    }

    /// Records a refused request: for the log, its first line as far as we have it;
    /// for the close, that the client may still be sending. Returns the error, to
    /// be answered or dropped.
    pub fn refuse(&mut self, error: Error) -> Error {
        if self.line.is_empty() {
            self.line = first_line(&self.buffer);
        }
        self.keep_alive = false;
        self.linger = true;
        error
    }

    /// Puts the socket in blocking mode, where reads and writes wait (up to
    /// their timeouts) instead of failing with `WouldBlock`.
    fn blocking(&mut self) {
        if self.nonblocking && self.stream().set_nonblocking(false).is_ok() {
            self.nonblocking = false;
        }
    }

    // ANCHOR: deadline
    /// Reads once more into the buffer, waiting no later than `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<usize, Error> {
        self.blocking();
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(Error::Timeout)?;
        let stream = self.stream();
        stream.set_read_timeout(Some(remaining))?;
        // ANCHOR_END: deadline
        let mut chunk = [0; 8192];
        loop {
            match stream.read(&mut chunk) {
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Reads past a request body we have no use for, so that the next request on
    /// this connection starts where it should.
    ///
    /// On a connection a readiness loop watches, the worker does not wait for
    /// a body that has not all arrived: a client sending one slowly would hold
    /// the worker, which is the very thing the loop is there to prevent. The
    /// request is answered, the connection closes after the response, and the
    /// loop throws away the rest of the body while it lingers.
    fn skip_body(&mut self, len: u64, deadline: Instant) -> Result<(), Error> {
        let mut left = len;
        loop {
            let buffered = self
                .buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.buffer.drain(..buffered);
            left -= buffered as u64;
            if left == 0 {
                return Ok(());
            }
            if self.watched {
                self.linger = true;
                return Ok(());
            }
            if self.fill(deadline)? == 0 {
                return Err(Error::Closed);
            }
        }
    }
}

impl Drop for Connection {
    /// Closes the connection so that the client receives everything we sent.
    ///
    /// Closing a socket that still has unread bytes from the client makes the
    /// kernel send a reset (RST) instead of a normal close, and a client that
    /// receives a reset may throw away our response before it has read it. So we
    /// first read what is already waiting; after an error (when the client may be
    /// mid-way through sending a huge header) we half-close and keep reading for
    /// up to `LINGER`, or until it has been quiet for `LINGER_QUIET`, as
    /// Apache's "lingering close" does.
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return; // handed back by `into_parts`, still open
        };
        if self.linger {
            linger(&stream);
        } else if !self.buffer.is_empty() {
            // The client sent more than we read (a pipelined request, on a
            // stage that closes after one): read what has arrived. Otherwise
            // nothing is expected, and like nginx we close at once.
            drain(&stream);
        }
    }
}

/// Where [`Connection::send`] writes: the socket, with the whole response due
/// by a deadline.
///
/// The socket's write timeout (`SO_SNDTIMEO`) limits each call, not the
/// response: a client that reads a few bytes every 29 seconds would never trip
/// a 30-second timeout, and would hold its thread for as long as a large file
/// lasts. So before each call that may wait, the timeout is cut to the time
/// left. (It is the same idea as the read deadline in [`Connection::fill`].)
///
/// It also never gives up with `WouldBlock` on a socket handed over in
/// non-blocking mode: when the socket's buffer is full, it switches the socket
/// to blocking mode (where the timeout applies) and carries on. A small
/// response fits in the buffer and goes out without that extra system call.
struct Timed<'a> {
    stream: &'a TcpStream,
    nonblocking: &'a mut bool,
    deadline: Instant,
    /// The write timeout the socket has now.
    timeout: Duration,
}

// ANCHOR: write_deadline
impl Timed<'_> {
    /// Makes sure the next call cannot wait past the deadline (give or take
    /// `SLACK`, which spares a system call on every response that goes out in
    /// one write).
    fn arm(&mut self) -> io::Result<()> {
        const SLACK: Duration = Duration::from_millis(100);
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(too_slow)?;
        if left + SLACK < self.timeout {
            self.stream.set_write_timeout(Some(left))?;
            self.timeout = left;
        }
        Ok(())
    }
}
// ANCHOR_END: write_deadline

fn too_slow() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client did not read the response within the write timeout",
    )
}

/// In blocking mode, `WouldBlock` (EAGAIN) is the socket's write timeout
/// running out: say so in words.
fn timed_out(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::WouldBlock {
        too_slow()
    } else {
        error
    }
}

impl Sink for Timed<'_> {
    /// `send_file` is only called in blocking mode (see [`Connection::send`]).
    fn send_file(&mut self, file: &mut std::fs::File, len: u64) -> io::Result<u64> {
        platform::send_file(self.stream, file, len, || self.arm()).map_err(timed_out)
    }
}

impl io::Write for Timed<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        loop {
            if !*self.nonblocking {
                self.arm()?;
            }
            match (&mut &*self.stream).write(bytes) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && *self.nonblocking => {
                    self.stream.set_nonblocking(false)?;
                    *self.nonblocking = false;
                }
                result => return result.map_err(timed_out),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Socket options every connection gets once, when it is accepted.
pub fn prepare(stream: &TcpStream, config: &Config) {
    // Responses are written whole; there is nothing for Nagle's algorithm to
    // gather, only a delayed ACK to wait for.
    let _ = stream.set_nodelay(true);
    // A client that stops reading must not hold a thread forever: no write
    // waits longer than this (and `Timed` cuts it to what is left of a
    // response's deadline).
    let _ = stream.set_write_timeout(Some(config.write_timeout));
}

/// Answers a connection we will not serve, without reading its request, from a
/// thread that must not wait: the accept loop of a full `thread-pool` (503) or
/// the readiness loop of `keep-alive` (503, 408). The response is small enough
/// to fit the socket's send buffer, so writing it does not block.
pub fn turn_away(stream: TcpStream, response: Response) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let status = response.status;
    let started = Instant::now();
    // Read whatever has arrived first, so closing does not reset the connection.
    drain(&stream);
    let mut writer = &stream;
    match response.write_to(&mut writer, WriteOptions::default()) {
        Ok(bytes) => log::exchange(peer, "(request not read)", status, bytes, started.elapsed()),
        Err(error) => log::send_failed(
            peer,
            "(request not read)",
            status,
            &error,
            started.elapsed(),
        ),
    }
    let _ = stream.shutdown(Shutdown::Write);
}

/// Reads and discards what the client has already sent, without waiting.
fn drain(stream: &TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        discard_waiting(stream, LINGER_BYTES);
    }
}

/// Reads and throws away, from a non-blocking socket, what has arrived, up to
/// about `limit` bytes. Returns how many bytes that was, and whether the client
/// may send more: `false` once it has closed (or the connection failed).
pub fn discard_waiting(mut stream: &TcpStream, limit: usize) -> (usize, bool) {
    let mut scratch = [0; 8192];
    let mut drained = 0;
    while drained < limit {
        match stream.read(&mut scratch) {
            Ok(0) => return (drained, false),
            Ok(n) => drained += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return (drained, false),
        }
    }
    (drained, true)
}

/// Half-closes, then reads and discards for up to [`LINGER`], so a client still
/// sending sees our response before the connection goes.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(LINGER_QUIET));
    let until = Instant::now() + LINGER;
    let mut scratch = [0; 8192];
    let mut drained = 0;
    let mut reader = stream;
    while drained < LINGER_BYTES && Instant::now() < until {
        match reader.read(&mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

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
    use std::net::TcpListener;

    fn socket() -> TcpStream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        TcpStream::connect(listener.local_addr().unwrap()).unwrap()
    }

    /// The socket's own timeout is cut to what is left of the response's
    /// deadline, so that no call can wait past it; and once the deadline has
    /// passed, no call is made at all.
    #[test]
    fn a_write_may_wait_only_for_what_is_left_of_the_deadline() {
        let stream = socket();
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut nonblocking = false;
        let mut out = Timed {
            stream: &stream,
            nonblocking: &mut nonblocking,
            deadline: Instant::now() + Duration::from_secs(2),
            timeout: Duration::from_secs(30),
        };
        out.arm().unwrap();
        let set = stream.write_timeout().unwrap().expect("a timeout");
        // (The kernel keeps it to its own granularity: about, not exactly, 2 s.)
        assert!(set <= Duration::from_secs(2), "{set:?}");
        assert!(out.timeout <= Duration::from_secs(2), "{:?}", out.timeout);

        out.deadline = Instant::now();
        let error = out.arm().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    /// A response that starts with the full timeout left costs no system call
    /// to set it again.
    #[test]
    fn a_fresh_deadline_leaves_the_timeout_alone() {
        let stream = socket();
        stream
            .set_write_timeout(Some(Duration::from_secs(7)))
            .unwrap();
        let mut nonblocking = false;
        let mut out = Timed {
            stream: &stream,
            nonblocking: &mut nonblocking,
            deadline: Instant::now() + Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        };
        out.arm().unwrap();
        // Had `arm` set it, it would be about 30 s, not the 7 s left there.
        assert_eq!(
            stream.write_timeout().unwrap(),
            Some(Duration::from_secs(7))
        );
    }

    /// A client that reads nothing: streaming a large file waits out the
    /// socket's timeout, and the log must say so in words, whichever way the
    /// file is sent (with `sendfile`, the wait ends in EAGAIN, which is not a
    /// reason anyone can read).
    #[test]
    fn a_file_nobody_reads_ends_with_the_write_timeout_message() {
        use socket2::{Domain, SockRef, Socket, Type};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // Small buffers on both sides, so that a small file fills them.
        let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        client.set_recv_buffer_size(4096).unwrap();
        client
            .connect(&listener.local_addr().unwrap().into())
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        SockRef::from(&server).set_send_buffer_size(4096).unwrap();
        // The socket's own timeout is shorter than what is left of the
        // response's deadline, as it is once `arm` has cut it: the call that
        // finds the buffers full sends nothing and fails when it runs out.
        let timeout = Duration::from_millis(200);
        server.set_write_timeout(Some(timeout)).unwrap();

        let path = std::env::temp_dir().join(format!("unread-{}.bin", std::process::id()));
        std::fs::write(&path, vec![b'x'; 1024 * 1024]).unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut nonblocking = false;
        let mut out = Timed {
            stream: &server,
            nonblocking: &mut nonblocking,
            deadline: Instant::now() + Duration::from_secs(10),
            timeout,
        };
        let error = out.send_file(&mut file, 1024 * 1024).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert_eq!(error.to_string(), too_slow().to_string());
        drop(client);
    }
}
