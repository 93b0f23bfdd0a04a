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
//! response is sent, the worker puts the connection back in the table of idle
//! connections and re-arms it in the poller. Idle connections cost a
//! socket and a small buffer, never a thread.
//!
//! The loop uses [mio](https://docs.rs/mio), the library tokio is built on. It
//! is small and well kept, registers a standard `TcpStream` with no `unsafe`
//! code, and runs the same program on Linux and macOS. (The `polling` crate
//! would do too, but since version 3 registering a socket is an `unsafe` call.)
//!
//! The loop also does the waiting that comes after a response. A connection
//! closed after an error, or after a request whose body had not all arrived
//! (a worker never waits for one), is half-closed and handed back to the loop,
//! which reads and throws away what the client still sends until it stops:
//! closing at once could reset the connection and lose the response.
//!
//! **What it still leaves out.** A worker still writes a response with blocking
//! calls, so a client that reads slowly holds a worker, for at most the write
//! timeout (a deadline for the whole response). nginx never blocks: it writes
//! what the socket takes and goes back to its loop until the socket can take
//! more; hyper on tokio does the same with `async` code. There is no TLS,
//! HTTP/2, compression or caching either.
//!
//! Chapter: "Stage 6: keeping connections alive".

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use super::thread_pool::{ThreadPool, overloaded};
use crate::config::Config;
use crate::http::connection::{
    LINGER, LINGER_BYTES, LINGER_QUIET, discard_waiting, prepare, turn_away,
};
use crate::http::request::HeadScanner;
use crate::http::{Connection, Error, Response, files};
use crate::log;
use crate::shutdown::Shutdown;

/// The listening socket's token. Connections get tokens from 1 up.
const LISTENER: Token = Token(0);
/// How often deadlines are checked; they are kept to within this much.
const TICK: Duration = Duration::from_millis(100);

// ANCHOR: idle
/// A connection waiting for its next request, with whatever part of that
/// request has arrived so far.
struct Idle {
    stream: TcpStream,
    peer: SocketAddr,
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
    /// Answered and half-closed, after an error or with a request body not
    /// read to its end: what the client still sends is read and thrown away,
    /// so that closing does not reset the connection before the client has
    /// read our response (see `Drop for Connection`). Closed when the client
    /// closes, or has been quiet for a moment, or at the latest after
    /// [`LINGER`]; counts the bytes thrown away.
    Linger { until: Instant, drained: usize },
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
    /// Answer the request at the start of the buffer, and any after it. The
    /// token is the connection's registration with the poller, if it has one.
    Serve(Option<Token>, Idle),
    /// The client took too long: send `408` and close.
    TimedOut(Token, Idle),
}

impl Job {
    fn into_idle(self) -> Idle {
        match self {
            Job::Serve(_, idle) | Job::TimedOut(_, idle) => idle,
        }
    }
}

// ANCHOR: shared
/// What the loop and the workers share: the poller's registry and the table of
/// idle connections it watches. The loop takes a connection out of the table
/// when its request is complete; a worker puts it back when the response is sent.
///
/// A connection stays registered with the poller all its life, even while a
/// worker has it: an event for a connection that is not in the table is simply
/// ignored, and putting it back re-arms it, which reports any bytes that came
/// meanwhile. Nothing ever needs to deregister: closing a socket takes it out of
/// the poller (epoll and kqueue both do so).
struct Watched {
    registry: Registry,
    idle: Mutex<HashMap<Token, Idle>>,
    next_token: AtomicUsize,
}

impl Watched {
    fn table(&self) -> MutexGuard<'_, HashMap<Token, Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a connection in the table and has the poller watch it: registered
    /// afresh if it never was (`token` is `None`), re-armed if it was.
    fn watch(&self, token: Option<Token>, idle: Idle) {
        let fd = idle.stream.as_raw_fd();
        let (token, fresh) = match token {
            Some(token) => (token, false),
            None => (Token(self.next_token.fetch_add(1, Ordering::Relaxed)), true),
        };
        // Into the table first: the poller reports a socket with bytes waiting
        // the moment it is armed, and the loop must find it there. And the
        // table stays locked until it is armed: otherwise the loop could take
        // the connection on an earlier event, have it served and closed, and
        // its descriptor number be given to a new connection, which our late
        // `reregister` would then move to this connection's token.
        let mut table = self.table();
        table.insert(token, idle);
        let mut source = SourceFd(&fd);
        let armed = if fresh {
            self.registry
                .register(&mut source, token, Interest::READABLE)
        } else {
            self.registry
                .reregister(&mut source, token, Interest::READABLE)
        };
        if let Err(error) = armed {
            log::error(format_args!("cannot watch a connection: {error}"));
            table.remove(&token); // dropped, so closed
        }
    }
}
// ANCHOR_END: shared

// ANCHOR: run
/// Serves clients until `shutdown` is requested: idle connections wait in the
/// poller, watched by the loop on this thread; requests are answered by the
/// pool's workers.
pub fn run(listener: TcpListener, config: Arc<Config>, shutdown: Shutdown) -> io::Result<()> {
    shutdown.watch(&listener)?;
    listener.set_nonblocking(true)?;
    let mut poll = Poll::new()?;
    poll.registry().register(
        &mut SourceFd(&listener.as_raw_fd()),
        LISTENER,
        Interest::READABLE,
    )?;
    let watched = Arc::new(Watched {
        registry: poll.registry().try_clone()?,
        idle: Mutex::new(HashMap::new()),
        next_token: AtomicUsize::new(1),
    });

    let pool = {
        let (config, shutdown, watched) =
            (Arc::clone(&config), shutdown.clone(), Arc::clone(&watched));
        ThreadPool::new(config.threads, config.queue, move |job: Job| {
            let token = match &job {
                Job::Serve(token, _) => *token,
                Job::TimedOut(token, _) => Some(*token),
            };
            if let Some(idle) = serve(job, &config, &shutdown) {
                watched.watch(token, idle);
            }
        })?
    };

    let mut events = Events::with_capacity(1024);
    let mut next_sweep = Instant::now() + TICK;
    let mut retry_accept = false;
    while !shutdown.is_requested() {
        // Sleep until a socket is ready or it is time to check deadlines.
        let timeout = next_sweep.saturating_duration_since(Instant::now());
        if let Err(error) = poll.poll(&mut events, Some(timeout)) {
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => retry_accept = accept_all(&listener, &watched, &config, &pool),
                token => {
                    // `None`: closed earlier in this batch of events.
                    let taken = watched.table().remove(&token);
                    if let Some(idle) = taken {
                        advance(idle, Some(token), &watched, &config, &pool);
                    }
                }
            }
        }
        let now = Instant::now();
        if now >= next_sweep {
            if retry_accept {
                retry_accept = accept_all(&listener, &watched, &config, &pool);
            }
            expire(now, &watched, &config, &pool);
            next_sweep = now + TICK;
        }
    }
    // ANCHOR_END: run

    // ANCHOR: shutdown
    // Stop accepting, and close the idle connections: they have no response
    // under way, and a client reconnects if it wants more.
    let _ = poll
        .registry()
        .deregister(&mut SourceFd(&listener.as_raw_fd()));
    drop(listener);
    let idle = close_all(&watched);
    log::info(format_args!(
        "closed {idle} idle connection(s); waiting for the workers to finish"
    ));
    let stalled = pool.shutdown(config.shutdown_timeout);
    // Workers that finished a response just before the shutdown may have put
    // their connection back in the table.
    close_all(&watched);
    super::log_stopped(stalled, "worker", config.shutdown_timeout);
    Ok(())
    // ANCHOR_END: shutdown
}

// ANCHOR: serve
/// A worker's job: answer every request whose head is already buffered, then
/// give the connection back (`Some`) if it stays open or must linger.
fn serve(job: Job, config: &Config, shutdown: &Shutdown) -> Option<Idle> {
    let (idle, timed_out) = match job {
        Job::Serve(_, idle) => (idle, false),
        Job::TimedOut(_, idle) => (idle, true),
    };
    let peer = idle.peer;
    let mut connection = Connection::resume(idle.stream, peer, idle.buffer, config);
    if timed_out {
        let error = connection.refuse(Error::Timeout);
        connection.send_error(&config.root, &error);
        return Some(Idle::lingering(connection.into_lingering(), peer));
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
        if connection.must_linger() {
            // The loop lingers, so that this worker need not wait.
            return Some(Idle::lingering(connection.into_lingering(), peer));
        }
        if !connection.can_continue() {
            return None; // dropping the connection closes it
        }
    }
    let (stream, buffer) = connection.into_parts();
    Some(Idle::between_requests(stream, peer, buffer, config))
}
// ANCHOR_END: serve

/// Accepts every connection waiting. mio reports readiness once per change
/// (edge-triggered), so we must go on until `accept` would block. Returns
/// whether to try again later (`accept` failed for lack of descriptors).
fn accept_all(
    listener: &TcpListener,
    watched: &Watched,
    config: &Config,
    pool: &ThreadPool<Job>,
) -> bool {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                prepare(&stream, config);
                let idle = Idle {
                    stream,
                    peer,
                    buffer: Vec::new(),
                    scanner: HeadScanner::new(),
                    deadline: Instant::now() + config.read_timeout,
                    on_expiry: Expiry::RequestTimeout,
                };
                // A request usually follows the handshake at once: look for it
                // before paying for a registration.
                advance(idle, None, watched, config, pool);
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return false,
            Err(error) => {
                let _ = super::accepted(Err(error));
                return true;
            }
        }
    }
}

// ANCHOR: advance
/// Reads what a connection has sent and decides what happens to it next.
/// `token` is its registration, if it has one.
fn advance(
    mut idle: Idle,
    token: Option<Token>,
    watched: &Watched,
    config: &Config,
    pool: &ThreadPool<Job>,
) {
    match idle.read_available(config) {
        Readiness::Waiting => match token {
            Some(token) => {
                watched.table().insert(token, idle);
            }
            None => watched.watch(None, idle),
        },
        Readiness::Request => {
            // Every worker busy and the queue full: say so rather than wait.
            if let Err(job) = pool.try_execute(Job::Serve(token, idle)) {
                turn_away(job.into_idle().stream, overloaded(config));
            }
        }
        // Dropping the connection closes it, which takes it out of the poller.
        Readiness::Closed => {}
    }
}
// ANCHOR_END: advance

/// Closes the connections whose deadline has passed.
// ANCHOR: expire
fn expire(now: Instant, watched: &Watched, config: &Config, pool: &ThreadPool<Job>) {
    let expired: Vec<(Token, Idle)> = {
        let mut table = watched.table();
        let tokens: Vec<Token> = table
            .iter()
            .filter(|(_, idle)| idle.deadline <= now)
            .map(|(token, _)| *token)
            .collect();
        tokens
            .into_iter()
            .filter_map(|token| Some((token, table.remove(&token)?)))
            .collect()
    };
    for (token, idle) in expired {
        if idle.on_expiry == Expiry::RequestTimeout {
            // The 408 goes through a worker, as writing it could block; the
            // loop must never wait.
            if let Err(job) = pool.try_execute(Job::TimedOut(token, idle)) {
                let timeout = Response::error(&config.root, &Error::Timeout);
                turn_away(job.into_idle().stream, timeout.expect("408 is a response"));
            }
        }
    }
}
// ANCHOR_END: expire

/// Closes every idle connection, and says how many there were.
fn close_all(watched: &Watched) -> usize {
    let all: Vec<Idle> = watched.table().drain().map(|(_, idle)| idle).collect();
    all.len()
}

impl Idle {
    /// A connection a worker has answered: with nothing buffered it is idle and
    /// gets `--keep-alive-timeout`; with part of a next request, that request
    /// gets the read timeout.
    fn between_requests(
        stream: TcpStream,
        peer: SocketAddr,
        buffer: Vec<u8>,
        config: &Config,
    ) -> Idle {
        let (timeout, on_expiry) = if buffer.is_empty() {
            (config.keep_alive_timeout, Expiry::Close)
        } else {
            (config.read_timeout, Expiry::RequestTimeout)
        };
        Idle {
            stream,
            peer,
            buffer,
            scanner: HeadScanner::new(),
            deadline: Instant::now() + timeout,
            on_expiry,
        }
    }

    /// A connection that was answered and half-closed, to linger on.
    fn lingering(stream: TcpStream, peer: SocketAddr) -> Idle {
        let now = Instant::now();
        Idle {
            stream,
            peer,
            buffer: Vec::new(),
            scanner: HeadScanner::new(),
            deadline: now + LINGER_QUIET,
            on_expiry: Expiry::Linger {
                until: now + LINGER,
                drained: 0,
            },
        }
    }

    /// Reads everything the socket has, without blocking, until a request head
    /// is complete or there is nothing more to read.
    // ANCHOR: read_available
    fn read_available(&mut self, config: &Config) -> Readiness {
        if let Expiry::Linger { until, drained } = &mut self.on_expiry {
            // Answered already: throw away what comes, until the client is
            // quiet for a moment, or closes, or has sent too much.
            let (read, open) = discard_waiting(&self.stream, LINGER_BYTES - *drained);
            *drained += read;
            if !open || *drained >= LINGER_BYTES {
                return Readiness::Closed;
            }
            if read > 0 {
                self.deadline = (Instant::now() + LINGER_QUIET).min(*until);
            }
            return Readiness::Waiting;
        }
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
    // ANCHOR_END: read_available
}
