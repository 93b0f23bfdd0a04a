//! The blocking connection of stages 1 to 5: a socket, and the [`Session`] that
//! makes HTTP of its bytes. Reading waits for the client, within a deadline for
//! the whole request head; writing waits too, within a deadline for the whole
//! response; and closing does not lose the answer.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::response::Outgoing;
use super::session::{Event, Session};
use super::{Error, Request, Response, WriteOptions};
use crate::config::Config;
use crate::status::{self, Activity};
use crate::{log, platform};

/// How long to keep reading after an error response, so the client sees it (see
/// [`Connection`]'s `Drop`). Apache waits up to 2 s; we wait up to 1 s.
pub const LINGER: Duration = Duration::from_secs(1);
/// ...but stop as soon as the client has been quiet this long: a client that
/// sends nothing more has nothing left for the kernel to reset over.
pub const LINGER_QUIET: Duration = Duration::from_millis(100);
/// How much to read and throw away while lingering, at most.
pub const LINGER_BYTES: usize = 1024 * 1024;

/// A client connection, served with blocking reads and writes.
///
/// Reading is always done through the session's buffer, never with one
/// fixed-size read as the report's `recv(1024)` did: TCP delivers a byte stream,
/// not messages, so a request can arrive in any number of pieces.
pub struct Connection {
    stream: TcpStream,
    /// The client's address, asked of the socket only when a log line needs it.
    peer: Option<SocketAddr>,
    session: Session,
    read_timeout: Duration,
    /// The whole of each response must be sent within this time.
    write_timeout: Duration,
    /// When the exchange under way started, for the log.
    started: Instant,
    /// For `--status`: what this thread goes back to when the connection is
    /// done (accepting, or idle in the pool).
    _activity: status::Resume,
}

impl Connection {
    /// Wraps an accepted stream, with the timeouts and limits of `config`.
    pub fn new(stream: TcpStream, config: &Config) -> Connection {
        prepare(&stream, config);
        Connection {
            stream,
            peer: None,
            session: Session::new(config.limits),
            read_timeout: config.read_timeout,
            write_timeout: config.write_timeout,
            started: Instant::now(),
            _activity: status::enter_with(Activity::Reading, ""),
        }
    }

    /// Reads and parses the request (steps ii and iii of the report).
    ///
    /// The whole head must arrive within the read timeout, counted from this call:
    /// a deadline, not a timeout per read, so a client sending a byte a second is
    /// cut off as surely as one sending nothing.
    ///
    /// `Ok(None)` means the client closed the connection without starting a request,
    /// which is how every connection ends, not an error.
    pub fn read_request(&mut self) -> Result<Option<Request>, Error> {
        self.started = Instant::now();
        let deadline = self.started + self.read_timeout;
        let request = loop {
            match self.session.next_event() {
                Event::NeedMore => {
                    self.send_interim()?;
                    self.fill(deadline)?
                }
                Event::Request(request) => break request,
                Event::Error(error) => return Err(error),
                Event::Closed => return Ok(None),
            };
        };
        // A body no one wants (an upload's is whole by now): a client still
        // sending one when we close would get a reset instead of our
        // answer, so read past it, within the same deadline.
        while self.session.body_pending() {
            if self.fill(deadline)? == 0 {
                return Err(self.session.refuse(Error::Closed));
            }
        }
        // A body whose framing broke (a chunk size that is not hex) ends
        // the exchange with its error, not with an answer to the request.
        if let Some(error) = self.session.failure() {
            return Err(error);
        }
        status::set_with(Activity::Answering, self.session.line());
        Ok(Some(request))
    }

    /// Sends `100 Continue` if the session has one to send: a client that
    /// sent `Expect: 100-continue` waits for it before it sends its body.
    fn send_interim(&mut self) -> Result<(), Error> {
        let Some(interim) = self.session.take_interim() else {
            return Ok(());
        };
        self.stream.set_write_timeout(Some(self.write_timeout))?;
        (&self.stream)
            .write_all(interim)
            .map_err(|error| self.session.refuse(error.into()))
    }

    /// Reads once more into the session, waiting no later than `deadline`.
    /// Returns how many bytes came: 0 when the client has closed its side.
    fn fill(&mut self, deadline: Instant) -> Result<usize, Error> {
        let mut chunk = [0; 8192];
        let read = read_by(&self.stream, deadline, &mut chunk);
        match read {
            Ok(0) => self.session.receive_eof(),
            Ok(n) => self.session.receive(&chunk[..n]),
            Err(error) => return Err(self.session.refuse(error)),
        }
        read
    }

    /// Sends a response (step vi) and logs the exchange.
    pub fn send(&mut self, response: Response) {
        status::set_with(Activity::Writing, self.session.line());
        let status = response.status;
        let written = self
            .session
            .respond(response)
            .and_then(|outgoing| write_within(&self.stream, outgoing, self.write_timeout));
        let (line, took) = (self.session.line(), self.started.elapsed());
        log::sent(
            || peer_of(&self.stream, &mut self.peer),
            line,
            status,
            &written,
            took,
        );
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
        let peer = peer_of(&self.stream, &mut self.peer);
        log::dropped(peer, self.session.line(), error, self.started.elapsed());
    }
}

// ANCHOR: deadline
/// Reads once from a blocking socket, waiting no later than `deadline`.
fn read_by(mut stream: &TcpStream, deadline: Instant, chunk: &mut [u8]) -> Result<usize, Error> {
    let remaining = deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
        .ok_or(Error::Timeout)?;
    stream.set_read_timeout(Some(remaining))?;
    // ANCHOR_END: deadline
    loop {
        match stream.read(chunk) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            result => return Ok(result?),
        }
    }
}

/// The client's address, asked of the socket once.
fn peer_of(stream: &TcpStream, known: &mut Option<SocketAddr>) -> SocketAddr {
    *known.get_or_insert_with(|| {
        // Gone already if the client has reset the connection.
        stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    })
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
        if self.session.must_linger() {
            status::set(Activity::Closing);
            linger(&self.stream);
        } else if self.session.has_unread() {
            // The client sent more than we read (a pipelined request, on a
            // stage that closes after one): read what has arrived. Otherwise
            // nothing is expected, and like nginx we close at once.
            drain(&self.stream);
        }
    }
}

/// Writes `outgoing` to a blocking socket, the whole of it within `timeout`,
/// and returns how many bytes that was. Stage 6's workers write with it too.
pub fn write_within(stream: &TcpStream, outgoing: Outgoing, timeout: Duration) -> io::Result<u64> {
    let _writing = status::enter(Activity::Writing);
    let mut out = Timed {
        stream,
        deadline: Instant::now() + timeout,
        timeout,
    };
    let written = out.write_outgoing(outgoing);
    if out.timeout != timeout {
        // Cut short for a slow client: the next response starts afresh.
        let _ = stream.set_write_timeout(Some(timeout));
    }
    written
}

/// The socket, with the whole response due by a deadline.
///
/// The socket's write timeout (`SO_SNDTIMEO`) limits each call, not the
/// response: a client that reads a few bytes every 29 seconds would never trip
/// a 30-second timeout, and would hold its thread for as long as a large file
/// lasts. So before each call that may wait, the timeout is cut to the time
/// left. (It is the same idea as the read deadline in `read_by`.)
struct Timed<'a> {
    stream: &'a TcpStream,
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

impl Timed<'_> {
    /// The head (with a small body), then a large file a piece at a time.
    fn write_outgoing(&mut self, outgoing: Outgoing) -> io::Result<u64> {
        self.write_all(&outgoing.bytes)?;
        let mut written = outgoing.bytes.len() as u64;
        if let Some((file, len)) = outgoing.file {
            let stream = self.stream;
            let sent = platform::send_file(stream, &file, len, || self.arm()).map_err(timed_out)?;
            written += sent;
            Outgoing::check_sent(len, sent)?;
        }
        Ok(written)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.arm()?;
        let mut stream = self.stream;
        stream.write(bytes).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn too_slow() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client did not read the response within the write timeout",
    )
}

/// On a blocking socket, the socket's write timeout running out, whether in
/// `write` or in `sendfile`, is `WouldBlock` (EAGAIN) on Unix and `TimedOut`
/// (WSAETIMEDOUT) on Windows: say so in words.
fn timed_out(error: io::Error) -> io::Error {
    if matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        too_slow()
    } else {
        error
    }
}

/// Socket options every connection gets once, when it is accepted (of any
/// kind of TCP socket: `keep-alive` accepts with mio's).
pub fn prepare<'s>(socket: impl Into<SockRef<'s>>, config: &Config) {
    let socket = socket.into();
    // Responses are written whole; there is nothing for Nagle's algorithm to
    // gather, only a delayed ACK to wait for.
    let _ = socket.set_tcp_nodelay(true);
    // A client that stops reading must not hold a thread forever: no write
    // waits longer than this (and `Timed` cuts it to what is left of a
    // response's deadline).
    let _ = socket.set_write_timeout(Some(config.write_timeout));
}

/// Answers a connection we will not serve, without reading its request, from a
/// thread that must not wait: the accept loop of a full `thread-pool` (503) or
/// the readiness loop of `keep-alive` (503, 408). The response is a small page
/// that fits the socket's send buffer, so writing it does not block.
pub fn turn_away(stream: TcpStream, response: Response) {
    let _turning_away = status::enter(Activity::TurningAway);
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let status = response.status;
    let started = Instant::now();
    // Read whatever has arrived first, so closing does not reset the connection.
    drain(&stream);
    let written = response
        .serialize(WriteOptions::default())
        .and_then(|outgoing| {
            (&stream).write_all(&outgoing.bytes)?;
            Ok(outgoing.bytes.len() as u64)
        });
    let line = "(request not read)";
    log::sent(|| peer, line, status, &written, started.elapsed());
    let _ = stream.shutdown(Shutdown::Write);
}

/// Reads and discards what the client has already sent, without waiting.
pub fn drain(stream: &TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        discard_waiting(stream, LINGER_BYTES);
    }
}

/// Reads and throws away, from a non-blocking socket, what has arrived, up to
/// about `limit` bytes. Returns how many bytes that was, and whether the client
/// may send more: `false` once it has closed (or the connection failed).
pub fn discard_waiting(mut stream: impl Read, limit: usize) -> (usize, bool) {
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
        let mut out = Timed {
            stream: &stream,
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
        let mut out = Timed {
            stream: &stream,
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
        use socket2::{Domain, Socket, Type};
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
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut out = Timed {
            stream: &server,
            deadline: Instant::now() + Duration::from_secs(10),
            timeout,
        };
        let outgoing = Outgoing {
            bytes: b"HTTP/1.1 200 OK\r\n\r\n".to_vec(),
            file: Some((file, 1024 * 1024)),
        };
        let error = out.write_outgoing(outgoing).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert_eq!(error.to_string(), too_slow().to_string());
        drop(client);
    }
}
