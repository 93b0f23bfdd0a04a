//! # Stage 6: `keep-alive`
//!
//! Two ideas that real servers combine.
//!
//! **Persistent connections.** Opening a TCP connection costs a round trip
//! before the first byte of a request can be sent, and a page pulls in a dozen
//! files. HTTP/1.1 keeps the connection open after a response unless the client
//! sends `Connection: close` (HTTP/1.0 only with `Connection: keep-alive`), and
//! the server says in its own `Connection` header what it will do. Requests sent
//! back to back without waiting (pipelined) are answered in order. A connection
//! idle for `--keep-alive-timeout` is closed, and so is one that got an error.
//!
//! **A readiness loop.** Between requests a kept-alive connection sends nothing,
//! often for seconds. Giving it a worker, as `thread-pool` would, brings back
//! that stage's weakness a hundredfold. Instead every idle connection is
//! registered with the operating system's readiness API (epoll on Linux, kqueue
//! on macOS) and one thread, the loop, sleeps until some of them have bytes to
//! read. It reads them without blocking, and only a connection whose request
//! head is complete goes to a worker of the pool from `thread-pool`. When the
//! response is sent, the worker hands the connection back to the loop. Idle
//! connections cost a socket and a small buffer, never a thread.
//!
//! The loop uses [mio](https://docs.rs/mio), the library tokio is built on. It
//! is small and well kept, registers a standard `TcpStream` with no `unsafe`
//! code, and runs the same program on Linux and macOS. (The `polling` crate
//! would do too, but since version 3 registering a socket is an `unsafe` call.)
//!
//! **What it still leaves out.** A worker still writes a response with blocking
//! calls, so a client that reads slowly holds a worker (up to the write
//! timeout). nginx never blocks: it writes what the socket takes and goes back to
//! its loop until the socket can take more; hyper on tokio does the same with
//! `async` code. There is no TLS, HTTP/2, compression or caching either.
//!
//! Chapter: "Stage 6: keep-alive and a readiness loop".

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::thread_pool::{ThreadPool, overloaded};
use crate::config::Config;
use crate::http::connection::{prepare, turn_away};
use crate::http::request::HeadScanner;
use crate::http::{Connection, Error, Response, files};
use crate::log;
use crate::shutdown::Shutdown;

/// The listening socket's token. Connections get tokens from 2 up.
const LISTENER: Token = Token(0);
/// The token of the waker workers use to tell the loop a connection is back.
const WAKER: Token = Token(1);
/// How often deadlines are checked; they are kept to within this much.
const TICK: Duration = Duration::from_millis(100);

// ANCHOR: idle
/// A connection waiting in the loop for its next request, with whatever part of
/// that request has arrived so far.
struct Idle {
    stream: TcpStream,
    buffer: Vec<u8>,
    scanner: HeadScanner,
    deadline: Instant,
    on_expiry: Expiry,
}

/// What to do with a connection whose deadline has passed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// A request was started (or the connection is new) and is not complete:
    /// answer `408 Request Timeout`, as the other stages do.
    RequestTimeout,
    /// Idle between requests: close quietly; the client can always reconnect.
    Close,
}

/// What reading from a connection told us.
enum Readiness {
    /// A whole request head has arrived (or a broken one: a worker answers both).
    Request,
    /// Part of a request, or nothing yet: keep waiting.
    Waiting,
    /// The client closed the connection, or it failed.
    Closed,
}
// ANCHOR_END: idle

/// The work a worker is given.
enum Job {
    /// Answer the request at the start of `buffer`, and any after it.
    Serve(TcpStream, Vec<u8>),
    /// The client took too long: send `408` and close.
    TimedOut(TcpStream, Vec<u8>),
}

// ANCHOR: run
/// Serves clients until `shutdown` is requested: idle connections wait in the
/// loop on this thread, requests are answered by the pool's workers.
pub fn run(listener: TcpListener, config: Arc<Config>, shutdown: Shutdown) -> io::Result<()> {
    shutdown.watch(&listener)?;
    listener.set_nonblocking(true)?;
    let poll = Poll::new()?;
    poll.registry().register(
        &mut SourceFd(&listener.as_raw_fd()),
        LISTENER,
        Interest::READABLE,
    )?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);

    // Workers give kept-alive connections back through this channel, and ring
    // the waker so the loop notices even while it sleeps in `poll`.
    let (give_back, given_back) = mpsc::channel::<Idle>();
    let pool = {
        let (config, shutdown) = (Arc::clone(&config), shutdown.clone());
        ThreadPool::new(config.threads, config.queue, move |job: Job| {
            if let Some((stream, buffer)) = serve(job, &config, &shutdown) {
                let idle = Idle::between_requests(stream, buffer, &config);
                if give_back.send(idle).is_ok() {
                    let _ = waker.wake();
                }
            }
        })?
    };

    let mut state = Loop::new(poll, Arc::clone(&config));
    let mut events = Events::with_capacity(1024);
    let mut next_sweep = Instant::now() + TICK;
    while !shutdown.is_requested() {
        // Sleep until a socket is ready, a worker gives a connection back, or
        // it is time to check deadlines.
        let timeout = (!state.idle.is_empty() || state.retry_accept)
            .then(|| next_sweep.saturating_duration_since(Instant::now()));
        if let Err(error) = state.poll.poll(&mut events, timeout) {
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => state.accept_all(&listener, &pool),
                WAKER => {}
                token => state.readable(token, &pool),
            }
        }
        for idle in given_back.try_iter() {
            state.watch(idle);
        }
        let now = Instant::now();
        if now >= next_sweep {
            if state.retry_accept {
                state.accept_all(&listener, &pool);
            }
            state.expire(now, &pool);
            next_sweep = now + TICK;
        }
    }
    // ANCHOR_END: run

    // ANCHOR: shutdown
    // Stop accepting, and close the idle connections: they have no response
    // under way, and a client reconnects if it wants more.
    let _ = state
        .poll
        .registry()
        .deregister(&mut SourceFd(&listener.as_raw_fd()));
    drop(listener);
    let idle = state.idle.len();
    state.close_all();
    log::info(format_args!(
        "closed {idle} idle connection(s); waiting for the workers to finish"
    ));
    let stalled = pool.shutdown(config.shutdown_timeout);
    if stalled > 0 {
        log::error(format_args!(
            "gave up on {stalled} worker(s) after {:?}",
            config.shutdown_timeout
        ));
    }
    log::info("all workers done; bye");
    Ok(())
    // ANCHOR_END: shutdown
}

// ANCHOR: serve
/// A worker's job: answer every request whose head is already buffered, then
/// give the connection back (`Some`) if it stays open.
fn serve(job: Job, config: &Config, shutdown: &Shutdown) -> Option<(TcpStream, Vec<u8>)> {
    let (stream, buffer, timed_out) = match job {
        Job::Serve(stream, buffer) => (stream, buffer, false),
        Job::TimedOut(stream, buffer) => (stream, buffer, true),
    };
    let mut connection = Connection::resume(stream, buffer, config);
    if timed_out {
        let error = connection.refuse(Error::Timeout);
        connection.send_error(&config.root, &error);
        return None;
    }
    // More than one request may be buffered: pipelined requests are answered
    // one after the other, in the order they came.
    while let Some(request) = connection.buffered_request() {
        let answer = request.and_then(|request| {
            // Keep the connection if the client wants to and we are not
            // shutting down; the response's `Connection` header says which.
            connection.keep_alive = request.wants_keep_alive() && !shutdown.is_requested();
            files::respond(&config.root, &request)
        });
        match answer {
            Ok(response) => connection.send(response),
            Err(error) => connection.send_error(&config.root, &error),
        }
        if !connection.can_continue() {
            return None; // dropping the connection closes it
        }
    }
    Some(connection.into_parts())
}
// ANCHOR_END: serve

/// The loop's state: the poller and every idle connection, by token.
struct Loop {
    poll: Poll,
    idle: HashMap<Token, Idle>,
    next_token: usize,
    config: Arc<Config>,
    /// `accept` failed for lack of descriptors: try again at the next tick.
    retry_accept: bool,
}

impl Loop {
    fn new(poll: Poll, config: Arc<Config>) -> Loop {
        Loop {
            poll,
            idle: HashMap::new(),
            next_token: 2,
            config,
            retry_accept: false,
        }
    }

    /// Accepts every connection waiting. mio reports readiness once per change
    /// (edge-triggered), so we must go on until `accept` would block.
    fn accept_all(&mut self, listener: &TcpListener, pool: &ThreadPool<Job>) {
        self.retry_accept = false;
        loop {
            match listener.accept() {
                Ok((stream, _)) => self.admit(stream, pool),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    let _ = super::accepted(Err(error));
                    self.retry_accept = true;
                    return;
                }
            }
        }
    }

    /// A new connection: its request usually follows the handshake at once, so
    /// look for it before paying for a registration.
    fn admit(&mut self, stream: TcpStream, pool: &ThreadPool<Job>) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        prepare(&stream, &self.config);
        let idle = Idle {
            stream,
            buffer: Vec::new(),
            scanner: HeadScanner::new(),
            deadline: Instant::now() + self.config.read_timeout,
            on_expiry: Expiry::RequestTimeout,
        };
        self.advance(idle, None, pool);
    }

    /// A connection given back by a worker, waiting for its next request.
    fn watch(&mut self, idle: Idle) {
        if idle.stream.set_nonblocking(true).is_err() {
            return;
        }
        // Registering reports the socket at once if bytes are already waiting.
        self.register(idle);
    }

    /// A registered connection has something to read.
    fn readable(&mut self, token: Token, pool: &ThreadPool<Job>) {
        // Gone already (closed earlier in this batch of events): nothing to do.
        if let Some(idle) = self.idle.remove(&token) {
            self.advance(idle, Some(token), pool);
        }
    }

    // ANCHOR: advance
    /// Reads what a connection has sent and decides what happens to it next.
    fn advance(&mut self, mut idle: Idle, token: Option<Token>, pool: &ThreadPool<Job>) {
        match idle.read_available(&self.config) {
            Readiness::Waiting => match token {
                Some(token) => {
                    self.idle.insert(token, idle);
                }
                None => self.register(idle),
            },
            Readiness::Request => {
                self.deregister(&idle, token);
                let job = Job::Serve(idle.stream, idle.buffer);
                // Every worker busy and the queue full: say so rather than wait.
                if let Err(Job::Serve(stream, _) | Job::TimedOut(stream, _)) = pool.try_execute(job)
                {
                    turn_away(stream, overloaded(&self.config));
                }
            }
            Readiness::Closed => self.deregister(&idle, token),
        }
    }
    // ANCHOR_END: advance

    fn register(&mut self, idle: Idle) {
        let token = Token(self.next_token);
        self.next_token += 1;
        let fd = idle.stream.as_raw_fd();
        match self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            Ok(()) => {
                self.idle.insert(token, idle);
            }
            Err(error) => log::error(format_args!("cannot watch a connection: {error}")),
        }
    }

    fn deregister(&self, idle: &Idle, token: Option<Token>) {
        if token.is_some() {
            let fd = idle.stream.as_raw_fd();
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        }
    }

    /// Closes the connections whose deadline has passed.
    fn expire(&mut self, now: Instant, pool: &ThreadPool<Job>) {
        let expired: Vec<Token> = self
            .idle
            .iter()
            .filter(|(_, idle)| idle.deadline <= now)
            .map(|(token, _)| *token)
            .collect();
        for token in expired {
            let Some(idle) = self.idle.remove(&token) else {
                continue;
            };
            self.deregister(&idle, Some(token));
            if idle.on_expiry == Expiry::RequestTimeout {
                // The 408 goes through a worker, which can linger after it
                // while a slow client is still sending; the loop must not wait.
                let job = Job::TimedOut(idle.stream, idle.buffer);
                if let Err(Job::Serve(stream, _) | Job::TimedOut(stream, _)) = pool.try_execute(job)
                {
                    let timeout = Response::error(&self.config.root, &Error::Timeout);
                    turn_away(stream, timeout.expect("408 is a response"));
                }
            }
        }
    }

    fn close_all(&mut self) {
        let tokens: Vec<Token> = self.idle.keys().copied().collect();
        for token in tokens {
            if let Some(idle) = self.idle.remove(&token) {
                self.deregister(&idle, Some(token));
            }
        }
    }
}

impl Idle {
    /// A connection back from a worker: with nothing buffered it is idle and
    /// gets `--keep-alive-timeout`; with part of a next request, that request
    /// gets the read timeout.
    fn between_requests(stream: TcpStream, buffer: Vec<u8>, config: &Config) -> Idle {
        let (timeout, on_expiry) = if buffer.is_empty() {
            (config.keep_alive_timeout, Expiry::Close)
        } else {
            (config.read_timeout, Expiry::RequestTimeout)
        };
        Idle {
            stream,
            buffer,
            scanner: HeadScanner::new(),
            deadline: Instant::now() + timeout,
            on_expiry,
        }
    }

    /// Reads everything the socket has, without blocking, until a request head
    /// is complete or there is nothing more to read.
    fn read_available(&mut self, config: &Config) -> Readiness {
        let mut chunk = [0; 16 * 1024];
        loop {
            match self.scanner.scan(&self.buffer, &config.limits) {
                Ok(Some(_)) | Err(_) => return Readiness::Request,
                Ok(None) => {}
            }
            match (&self.stream).read(&mut chunk) {
                Ok(0) => return Readiness::Closed,
                Ok(n) => {
                    if self.on_expiry == Expiry::Close {
                        // A new request has started on an idle connection: its
                        // whole head must now arrive within the read timeout.
                        self.deadline = Instant::now() + config.read_timeout;
                        self.on_expiry = Expiry::RequestTimeout;
                    }
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Readiness::Waiting;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Readiness::Closed,
            }
        }
    }
}
