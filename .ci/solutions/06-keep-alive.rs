//! Exercise 6: keeping connections alive.
//!
//! Run it:    cargo run -p ex06-keep-alive -- --port 8080 --root www --keep-alive-timeout 5
//! Check it:  cargo test -p ex06-keep-alive
//!
//! The task and its steps are in README.md, hints in HINTS.md.

use std::collections::HashMap;
use std::fs;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Registry, Token, Waker};

/// A client that has not sent its whole request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that stops reading a response for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request head we are willing to read.
const MAX_HEAD: usize = 16 * 1024;
/// On Ctrl-C, how long to wait for the clients being served.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How many workers, how many waiting connections, and how long an idle
/// connection stays open, unless the command line says otherwise.
const DEFAULT_THREADS: usize = 16;
const DEFAULT_QUEUE: usize = 256;
const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the loop wakes up to close the connections whose time is up.
const TICK: Duration = Duration::from_millis(100);

/// The poller's names for the listening socket and the waker; connections
/// get the numbers after them.
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// A client's connection, and what it has sent that is not answered yet.
struct Conn {
    /// mio's own type, which it can watch on every system; a worker turns it
    /// into a standard one for its blocking writes, and back.
    stream: mio::net::TcpStream,
    buffer: Vec<u8>,
    /// When the loop gives up on it: the keep-alive timeout after a response,
    /// the read timeout once a request has begun.
    deadline: Instant,
}

fn main() {
    let Settings {
        port,
        root,
        threads,
        queue,
        keep_alive_timeout,
    } = parse_args();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|error| {
        eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
        process::exit(1);
    });
    println!(
        "Listening on http://127.0.0.1:{port}/ ({threads} workers, a queue of {queue}, idle connections closed after {} s)",
        keep_alive_timeout.as_secs_f64()
    );

    // The poller watches the listening socket and every idle connection, and
    // tells the loop below which of them have something to read.
    listener
        .set_nonblocking(true)
        .expect("cannot make the listener non-blocking");
    let mut poll = Poll::new().expect("cannot make a poller");
    let mut listener = mio::net::TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .expect("cannot watch the listener");
    // The workers, and the Ctrl-C handler, wake the loop with this.
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).expect("cannot make a waker"));

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let wake = Arc::clone(&waker);
    ctrlc::set_handler(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = wake.wake();
    })
    .expect("cannot handle Ctrl-C");

    // The queue now carries connections with a whole request in their buffer.
    let (jobs, queued) = mpsc::sync_channel::<Conn>(queue);
    let queued = Arc::new(Mutex::new(queued));
    // Connections that stay open after their responses come back this way.
    let (give_back, returned) = mpsc::channel::<Conn>();
    let mut workers: Vec<JoinHandle<()>> = Vec::with_capacity(threads);
    for id in 0..threads {
        let queued = Arc::clone(&queued);
        let root = root.clone();
        let give_back = give_back.clone();
        let waker = Arc::clone(&waker);
        let worker = thread::Builder::new()
            .name(format!("worker-{id}"))
            .spawn(move || work(&queued, &root, &give_back, &waker))
            .expect("cannot start a worker");
        workers.push(worker);
    }

    let mut idle = Idle::new(
        poll.registry()
            .try_clone()
            .expect("cannot share the poller"),
    );
    let mut events = Events::with_capacity(256);
    while !stop.load(Ordering::SeqCst) {
        // Sleep until a socket is ready, a worker or Ctrl-C wakes us, or it is
        // time to look at the deadlines.
        if let Err(error) = poll.poll(&mut events, Some(TICK)) {
            if error.kind() == ErrorKind::Interrupted {
                continue;
            }
            eprintln!("error: the poller failed: {error}");
            break;
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => accept_all(&listener, &mut idle),
                // Connections given back, or Ctrl-C: both are looked at below.
                WAKER => {}
                token => {
                    let Some(mut conn) = idle.take(token) else {
                        continue;
                    };
                    match read_available(&mut conn) {
                        Readiness::Waiting => idle.keep(token, conn),
                        Readiness::Request => {
                            idle.stop_watching(&mut conn);
                            dispatch(&jobs, conn);
                        }
                        // Off the poller, then dropped, which closes it.
                        Readiness::Closed => idle.stop_watching(&mut conn),
                    }
                }
            }
        }
        for conn in returned.try_iter() {
            if has_head(&conn.buffer) {
                // A pipelined request was in the buffer already.
                dispatch(&jobs, conn);
            } else {
                let timeout = if conn.buffer.is_empty() {
                    keep_alive_timeout
                } else {
                    READ_TIMEOUT
                };
                idle.watch(conn, timeout);
            }
        }
        idle.close_expired(Instant::now());
    }

    // New clients are refused from here on, and the idle ones are closed:
    // they have no response under way.
    drop(listener);
    drop(idle);
    // Closing the queue: each worker finishes its client, and then what is
    // still queued, and returns when `recv` finds the queue closed and empty.
    drop(jobs);
    // Wait for them, but not forever: a queued client that never reads what
    // it asked for would keep a worker busy until its write times out.
    let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
    while workers.iter().any(|worker| !worker.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    for worker in workers {
        if worker.is_finished() && worker.join().is_err() {
            eprintln!("a worker panicked");
        }
    }
    println!("All workers done; bye.");
    // Returning from `main` ends the process with status 0, and with it any
    // worker still busy.
}

/// The connections the poller watches for the loop: each waits there, costing
/// no thread, until it has sent a whole request.
struct Idle {
    registry: Registry,
    connections: HashMap<Token, Conn>,
    next: usize,
}

impl Idle {
    fn new(registry: Registry) -> Idle {
        Idle {
            registry,
            connections: HashMap::new(),
            next: WAKER.0 + 1,
        }
    }

    /// Has the poller watch `conn`, which must send its next request within
    /// `timeout`.
    fn watch(&mut self, mut conn: Conn, timeout: Duration) {
        conn.deadline = Instant::now() + timeout;
        let token = Token(self.next);
        self.next += 1;
        match self
            .registry
            .register(&mut conn.stream, token, Interest::READABLE)
        {
            Ok(()) => {
                self.connections.insert(token, conn);
            }
            // Dropped, so closed.
            Err(error) => eprintln!("cannot watch a connection: {error}"),
        }
    }

    /// The connection the poller calls `token`, taken out of the table.
    fn take(&mut self, token: Token) -> Option<Conn> {
        self.connections.remove(&token)
    }

    /// Takes a connection out of the poller's care, to give it to a worker: its
    /// events would otherwise keep coming while the worker has it, and it
    /// could not be registered again when it comes back.
    fn stop_watching(&self, conn: &mut Conn) {
        let _ = self.registry.deregister(&mut conn.stream);
    }

    /// Puts back a connection that is still waiting for the rest of its request.
    fn keep(&mut self, token: Token, conn: Conn) {
        self.connections.insert(token, conn);
    }

    /// Closes the connections whose deadline has passed.
    fn close_expired(&mut self, now: Instant) {
        let expired: Vec<Token> = (self.connections.iter())
            .filter(|(_, conn)| conn.deadline <= now)
            .map(|(token, _)| *token)
            .collect();
        for token in expired {
            if let Some(mut conn) = self.connections.remove(&token) {
                self.stop_watching(&mut conn);
            }
        }
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        // mio asks for every socket to leave the poller before it closes: on
        // Windows, one closed while registered can leave the poller stuck.
        for (_, mut conn) in std::mem::take(&mut self.connections) {
            self.stop_watching(&mut conn);
        }
    }
}

/// Accepts every connection waiting. mio tells us once that the listener is
/// ready, not once per connection, so we accept until it would block.
fn accept_all(listener: &mio::net::TcpListener, idle: &mut Idle) {
    loop {
        match listener.accept() {
            // mio's `accept` makes the connection non-blocking already.
            Ok((stream, _)) => {
                let conn = Conn {
                    stream,
                    buffer: Vec::new(),
                    deadline: Instant::now(),
                };
                idle.watch(conn, READ_TIMEOUT);
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => return,
            // A client that gave up before it was accepted is gone (Windows
            // says reset, Wine "not connected"), and others may wait behind
            // it: the poller will not say so again, so go on accepting.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::NotConnected
                        | ErrorKind::Interrupted
                ) => {}
            Err(error) => {
                eprintln!("accept failed: {error}");
                return;
            }
        }
    }
}

/// What reading from a connection told us.
enum Readiness {
    /// A whole request head is in the buffer (or more bytes than a head may have).
    Request,
    /// Part of a request, or nothing yet.
    Waiting,
    /// The client closed the connection, or it failed.
    Closed,
}

/// Reads everything the connection has for us, without waiting: mio tells us
/// once that bytes have arrived, so we read until the socket would block, or
/// a request head is complete.
fn read_available(conn: &mut Conn) -> Readiness {
    let mut chunk = [0; 4096];
    loop {
        if has_head(&conn.buffer) {
            return Readiness::Request;
        }
        match conn.stream.read(&mut chunk) {
            Ok(0) => return Readiness::Closed,
            Ok(read) => {
                if conn.buffer.is_empty() {
                    // A request has begun: its whole head must now arrive
                    // within the read timeout.
                    conn.deadline = Instant::now() + READ_TIMEOUT;
                }
                conn.buffer.extend_from_slice(&chunk[..read]);
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => return Readiness::Waiting,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Readiness::Closed,
        }
    }
}

/// Where the head at the start of `buffer` ends, after its blank line.
fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Whether a worker has something to do with this buffer.
fn has_head(buffer: &[u8]) -> bool {
    head_end(buffer).is_some() || buffer.len() > MAX_HEAD
}

/// Gives a connection with a whole request to the workers, or, if every
/// worker is busy and the queue is full, answers `503` itself.
fn dispatch(jobs: &SyncSender<Conn>, conn: Conn) {
    if let Err(TrySendError::Full(conn)) = jobs.try_send(conn) {
        send_overloaded(conn.stream.into());
    }
}

/// A worker's life: take the next connection from the queue, answer what it
/// asked, give it back if it stays open, and go back for another, until the
/// queue is closed.
fn work(queued: &Mutex<Receiver<Conn>>, root: &Path, give_back: &Sender<Conn>, waker: &Waker) {
    loop {
        // The lock is held only while taking a connection: the guard is a
        // temporary, dropped at the end of this statement, before serving.
        let next = queued.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(conn) = next else {
            return; // the queue is closed and empty
        };
        // A job that panics must not take its worker with it, or the pool
        // would shrink by one for every panic.
        match panic::catch_unwind(AssertUnwindSafe(|| serve(conn, root))) {
            Ok(Some(conn)) => {
                if give_back.send(conn).is_ok() {
                    let _ = waker.wake();
                }
            }
            Ok(None) => {} // closed
            Err(_) => {
                eprintln!("a job panicked; its connection is closed, and the worker carries on")
            }
        }
    }
}

/// Answers every whole request in the connection's buffer, one after the
/// other (requests sent together are answered in order), and gives the
/// connection back if it stays open.
fn serve(conn: Conn, root: &Path) -> Option<Conn> {
    let Conn {
        stream,
        mut buffer,
        deadline,
    } = conn;
    // A worker writes with blocking calls: a big file takes many writes, and
    // each may have to wait for the client to read.
    let mut stream: TcpStream = stream.into();
    stream.set_nonblocking(false).ok()?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT)).ok()?;
    while has_head(&buffer) {
        // No blank line in `MAX_HEAD` bytes: too much to be a request.
        let end = head_end(&buffer)?;
        let head: Vec<u8> = buffer.drain(..end).collect();
        if !answer(&mut stream, &head, root) {
            return None;
        }
    }
    stream.set_nonblocking(true).ok()?;
    Some(Conn {
        stream: mio::net::TcpStream::from_std(stream),
        buffer,
        deadline,
    })
}

/// What we need from a request: the file, and whether to keep the connection.
struct Request {
    target: String,
    keep_alive: bool,
}

/// Why a request gets no file.
#[derive(Debug)]
enum Problem {
    /// The request is not `GET /path HTTP/1.x`.
    BadRequest,
    /// No such file under the root.
    NotFound,
}

/// Answers one request; returns whether the connection stays open.
fn answer(stream: &mut TcpStream, head: &[u8], root: &Path) -> bool {
    let found = parse_request(head).and_then(|request| {
        let path = find_file(root, &request.target)?;
        Ok((path, request.keep_alive))
    });
    let sent = match found {
        Ok((path, keep_alive)) => send_file(stream, &path, keep_alive).map(|()| keep_alive),
        // An error closes the connection: the course's servers do so after
        // every error, so that a client that got one thing wrong starts over.
        Err(Problem::NotFound) => send_not_found(stream, root).map(|()| false),
        Err(Problem::BadRequest) => send(
            stream,
            "400 Bad Request",
            "text/html; charset=utf-8",
            b"<!doctype html>\n<h1>400 Bad Request</h1>\n",
            false,
        )
        .map(|()| false),
    };
    sent.unwrap_or_else(|error| {
        eprintln!("could not send the response: {error}");
        false
    })
}

/// The path in `GET /path HTTP/1.x`, without a query string, and whether the
/// client wants the connection kept open: HTTP/1.1 does unless it says
/// `Connection: close`; HTTP/1.0 does not unless it says `Connection: keep-alive`.
fn parse_request(head: &[u8]) -> Result<Request, Problem> {
    let head = std::str::from_utf8(head).map_err(|_| Problem::BadRequest)?;
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = line.split(' ').collect();
    let ["GET", target, version] = parts[..] else {
        return Err(Problem::BadRequest);
    };
    if !target.starts_with('/')
        || !version.starts_with("HTTP/1.")
        || !headers_are_valid(version, lines.clone())
    {
        return Err(Problem::BadRequest);
    }
    // `Connection` may list several options, in any case.
    let mut options = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("connection")
        {
            options.extend(
                value
                    .split(',')
                    .map(|option| option.trim().to_ascii_lowercase()),
            );
        }
    }
    let says = |option: &str| options.iter().any(|given| given == option);
    let keep_alive = if version == "HTTP/1.0" {
        says("keep-alive")
    } else {
        !says("close")
    };
    let path = percent_decode(target.split('?').next().unwrap_or(target))?;
    Ok(Request {
        target: path,
        keep_alive,
    })
}

/// `path` with each `%XX` turned back into the byte it stands for, as
/// browsers write a space (`%20`) or any byte outside plain ASCII. Decoded
/// before `find_file` sees it, so an encoded `..` (`%2e%2e`) is refused like
/// a plain one. A `%` not followed by two hex digits, or bytes that are not
/// UTF-8, make a bad request.
fn percent_decode(path: &str) -> Result<String, Problem> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok());
            let byte = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok());
            decoded.push(byte.ok_or(Problem::BadRequest)?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| Problem::BadRequest)
}

/// Whether the header lines, up to the blank line that ends them, are what
/// RFC 9112 allows: each is `Name: value`, with a name and no space before the
/// colon (a proxy could take `Host : x` for another header than we do); an
/// HTTP/1.1 request has a `Host`; and a `Content-Length` is a number, or
/// nobody can tell where the body ends.
fn headers_are_valid<'a>(version: &str, lines: impl Iterator<Item = &'a str>) -> bool {
    let mut has_host = false;
    for line in lines.take_while(|line| !line.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return false;
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length")
            && (value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return false;
        }
        has_host |= name.eq_ignore_ascii_case("host");
    }
    has_host || version == "HTTP/1.0"
}

/// The file `target` names under `root`, never outside it.
fn find_file(root: &Path, target: &str) -> Result<PathBuf, Problem> {
    let mut path = root.to_path_buf();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            // `..` would climb out of the root: refuse it.
            ".." => return Err(Problem::NotFound),
            part if is_plain_name(part) => path.push(part),
            // `C:\x` or `..\x` would leave the root on Windows: refuse it.
            _ => return Err(Problem::NotFound),
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    if path.is_file() {
        Ok(path)
    } else {
        Err(Problem::NotFound)
    }
}

/// Whether `part` is one plain file name on every system. Windows reads more
/// into a name than Linux and macOS do, and `path.push` would follow it: a
/// backslash is a separator there, a colon starts a drive (`C:\x` replaces the
/// whole path) or a stream (`page.html::$DATA`), a trailing dot or space is
/// dropped (`secret.txt.` opens `secret.txt`), and `CON`, `NUL`, `COM1`...
/// are devices in every folder, with any extension.
fn is_plain_name(part: &str) -> bool {
    let stem = part.split('.').next().unwrap_or_default().trim_end();
    let numbered = |prefix: &str| {
        // `get`, not `[..3]`: a name from the network may hold a character
        // that the cut would split, and slicing would panic.
        stem.len() == 4
            && stem
                .get(..3)
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            && stem.as_bytes()[3].is_ascii_digit()
    };
    let device = ["CON", "PRN", "AUX", "NUL"]
        .iter()
        .any(|name| stem.eq_ignore_ascii_case(name))
        || numbered("COM")
        || numbered("LPT");
    !part.contains(['\\', ':']) && !part.ends_with(['.', ' ']) && !device
}

/// The `Content-Type` for a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Sends a file with `200 OK`.
fn send_file(stream: &mut TcpStream, path: &Path, keep_alive: bool) -> io::Result<()> {
    let body = fs::read(path)?;
    send(stream, "200 OK", content_type(path), &body, keep_alive)
}

/// Sends `404 Not Found` with the site's own `error.html` as the page (or a
/// page of ours, if the site has none).
fn send_not_found(stream: &mut TcpStream, root: &Path) -> io::Result<()> {
    let page = fs::read(root.join("error.html"))
        .unwrap_or_else(|_| b"<!doctype html>\n<h1>404 Not Found</h1>\n".to_vec());
    send(
        stream,
        "404 Not Found",
        "text/html; charset=utf-8",
        &page,
        false,
    )
}

/// Sends a response: the status line, the headers, a blank line, the body.
/// `Connection` tells the client whether it may send another request.
fn send(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

/// Answers a client no worker can take: `503 Service Unavailable`, with
/// `Retry-After` saying when to try again. The response is small enough to
/// fit in the socket's buffer, so the loop does not wait on it.
fn send_overloaded(mut stream: TcpStream) {
    let body = b"<!doctype html>\n<h1>503 Service Unavailable</h1>\n";
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if let Err(error) = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
    {
        eprintln!("could not send 503: {error}");
    }
}

/// What the command line asks for.
struct Settings {
    port: u16,
    root: PathBuf,
    /// How many workers serve clients.
    threads: usize,
    /// How many connections may wait for a worker.
    queue: usize,
    /// How long a connection may sit idle between requests.
    keep_alive_timeout: Duration,
}

/// `--port PORT --root DIR [--threads N] [--queue N] [--keep-alive-timeout SECONDS]`,
/// in any order.
fn parse_args() -> Settings {
    let mut port = None;
    let mut root = None;
    let mut threads = Some(DEFAULT_THREADS);
    let mut queue = Some(DEFAULT_QUEUE);
    let mut keep_alive_timeout = Some(DEFAULT_KEEP_ALIVE_TIMEOUT);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().ok(),
            ("--root", Some(value)) => root = Some(PathBuf::from(value)),
            ("--threads", Some(value)) => threads = value.parse().ok().filter(|&n| n > 0),
            ("--queue", Some(value)) => queue = value.parse().ok(),
            ("--keep-alive-timeout", Some(value)) => {
                keep_alive_timeout = value
                    .parse()
                    .ok()
                    .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok());
            }
            _ => usage(),
        }
    }
    match (port, root, threads, queue, keep_alive_timeout) {
        (Some(port), Some(root), Some(threads), Some(queue), Some(keep_alive_timeout))
            if root.is_dir() =>
        {
            Settings {
                port,
                root,
                threads,
                queue,
                keep_alive_timeout,
            }
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: {} --port PORT --root DIR [--threads N] [--queue N] [--keep-alive-timeout SECONDS]",
        env!("CARGO_PKG_NAME")
    );
    process::exit(2);
}
