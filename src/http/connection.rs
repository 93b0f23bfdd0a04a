//! One client connection: reading request heads within limits and a deadline,
//! writing responses, logging each exchange, and closing without losing the answer.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use super::request::{self, HeadScanner, Limits};
use super::{Error, Method, Request, Response, WriteOptions};
use crate::config::Config;
use crate::log;

/// How long to keep reading after an error response, so the client sees it (see
/// [`Connection`]'s `Drop`). Apache waits up to 2 s; we wait up to 1 s.
const LINGER: Duration = Duration::from_secs(1);
/// How much to read and throw away while lingering, at most.
const LINGER_BYTES: usize = 1024 * 1024;

/// A client connection and the bytes it has sent that are not used yet.
///
/// Reading is always done through a buffer, never with one fixed-size read as the
/// report's `recv(1024)` did: TCP delivers a byte stream, not messages, so a
/// request can arrive in any number of pieces, and the bytes after one request
/// (a pipelined second one) belong to the next.
pub struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    buffer: Vec<u8>,
    scanner: HeadScanner,
    limits: Limits,
    read_timeout: Duration,
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
        let peer = stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        // Responses are written whole; there is nothing for Nagle's algorithm to
        // gather, only a delayed ACK to wait for.
        let _ = stream.set_nodelay(true);
        // A client that stops reading must not hold this thread forever.
        let _ = stream.set_write_timeout(Some(config.write_timeout));
        Connection {
            stream,
            peer,
            buffer: Vec::new(),
            scanner: HeadScanner::new(),
            limits: config.limits,
            read_timeout: config.read_timeout,
            keep_alive: false,
            started: Instant::now(),
            line: String::new(),
            head_only: false,
            linger: false,
        }
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
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
        self.scanner = HeadScanner::new();
        let parsed = request::parse(&self.buffer[..head_len], &self.limits);
        self.line = first_line(&self.buffer[..head_len]);
        self.buffer.drain(..head_len);
        let request = parsed.map_err(|error| self.refuse(error))?;
        self.head_only = request.method == Method::Head;
        self.skip_body(request.content_length, deadline)
            .map_err(|error| self.refuse(error))?;
        Ok(Some(request))
    }

    /// Sends a response (step vi) and logs the exchange.
    pub fn send(&mut self, response: Response) {
        let status = response.status;
        if status.is_error() {
            self.linger = true;
        }
        let options = WriteOptions {
            head_only: self.head_only,
            keep_alive: self.keep_alive && !status.is_error(),
        };
        let written = response.write_to(&mut self.stream, options);
        let elapsed = self.started.elapsed();
        match written {
            Ok(bytes) => log::exchange(self.peer, &self.line, status, bytes, elapsed),
            Err(error) => {
                self.keep_alive = false;
                log::send_failed(self.peer, &self.line, status, &error, elapsed);
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
        log::dropped(self.peer, &self.line, error, self.started.elapsed());
    }

    /// Whether the connection may carry another request after this one.
    pub fn can_continue(&self) -> bool {
        self.keep_alive && !self.linger
    }

    /// Records a refused request: for the log, its first line as far as we have it;
    /// for the close, that the client may still be sending.
    fn refuse(&mut self, error: Error) -> Error {
        if self.line.is_empty() {
            self.line = first_line(&self.buffer);
        }
        self.keep_alive = false;
        self.linger = true;
        error
    }

    // ANCHOR: deadline
    /// Reads once more into the buffer, waiting no later than `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<usize, Error> {
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(Error::Timeout)?;
        self.stream.set_read_timeout(Some(remaining))?;
        // ANCHOR_END: deadline
        let mut chunk = [0; 8192];
        loop {
            match self.stream.read(&mut chunk) {
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
    /// up to [`LINGER`], as Apache's "lingering close" does.
    fn drop(&mut self) {
        let mut scratch = [0; 8192];
        let mut drained = 0;
        if self.linger {
            let _ = self.stream.shutdown(Shutdown::Write);
            let _ = self.stream.set_read_timeout(Some(LINGER));
            let until = Instant::now() + LINGER;
            while drained < LINGER_BYTES && Instant::now() < until {
                match self.stream.read(&mut scratch) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        } else if self.stream.set_nonblocking(true).is_ok() {
            while drained < LINGER_BYTES {
                match self.stream.read(&mut scratch) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
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
