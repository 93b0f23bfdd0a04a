//! Exercise 6: keeping connections alive.
//!
//! Run it:    cargo run -p ex06-keep-alive -- --port 8080 --root www --keep-alive-timeout 5
//! Check it:  cargo test -p ex06-keep-alive
//!
//! The task and its steps are in README.md, hints in HINTS.md.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A client that has not sent its whole request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request head we are willing to read.
const MAX_HEAD: usize = 16 * 1024;
/// On Ctrl-C, how long to wait for the clients being served.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How many workers, how many waiting connections, and how long an idle
/// connection stays open, unless the command line says otherwise.
const DEFAULT_THREADS: usize = 16;
const DEFAULT_QUEUE: usize = 256;
const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

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

    // TODO: (part 2) keep idle connections in a readiness loop on this thread
    // instead of on the workers: a `mio::Poll` watches the listener and every
    // connection, and a connection goes to the queue only once its request
    // head is complete (README.md, steps 4 to 9).

    // Ctrl-C sets the stop flag. `accept` does not look at flags, so the
    // handler also connects to the server itself: `accept` returns that
    // connection, and the loop sees the flag.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    ctrlc::set_handler(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(address);
    })
    .expect("cannot handle Ctrl-C");

    // The queue: at most `queue` connections wait for a worker. A full
    // `sync_channel` makes `send` wait, but `try_send` never waits: it hands
    // the connection back instead.
    let (jobs, queued) = mpsc::sync_channel::<TcpStream>(queue);
    // Every worker takes from the same receiving end, one at a time.
    let queued = Arc::new(Mutex::new(queued));
    let mut workers: Vec<JoinHandle<()>> = Vec::with_capacity(threads);
    for id in 0..threads {
        let queued = Arc::clone(&queued);
        let root = root.clone();
        let worker = thread::Builder::new()
            .name(format!("worker-{id}"))
            .spawn(move || work(&queued, &root))
            .expect("cannot start a worker");
        workers.push(worker);
    }

    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(stream) => {
                // Every worker busy and the queue full: say so at once, rather
                // than make the client wait, or start a thread for it.
                if let Err(TrySendError::Full(stream)) = jobs.try_send(stream) {
                    send_overloaded(stream);
                }
                // (`Disconnected` cannot happen: the workers hold the
                // receiving end for as long as they live.)
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
    }

    // New clients are refused from here on.
    drop(listener);
    // Closing the queue: each worker finishes its client, and then what is
    // still queued, and returns when `recv` finds the queue closed and empty.
    drop(jobs);
    // Wait for them, but not forever: a queued client that never reads what
    // it asked for would keep a worker busy until its write fails.
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

/// A worker's life: take the next connection from the queue, serve it, and
/// go back for another, until the queue is closed.
fn work(queued: &Mutex<Receiver<TcpStream>>, root: &Path) {
    loop {
        // The lock is held only while taking a connection: the guard is a
        // temporary, dropped at the end of this statement, before serving.
        let next = queued.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(stream) = next else {
            return; // the queue is closed and empty
        };
        // A job that panics must not take its worker with it, or the pool
        // would shrink by one for every panic.
        if panic::catch_unwind(AssertUnwindSafe(|| handle_connection(stream, root))).is_err() {
            eprintln!("a job panicked; its connection is closed, and the worker carries on");
        }
    }
}

/// Answers a client no worker can take: `503 Service Unavailable`, with
/// `Retry-After` saying when to try again. The response is small enough to
/// fit in the socket's buffer, so the accept loop does not wait on it.
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

/// Why a request gets no file.
#[derive(Debug)]
enum Problem {
    /// The request is not `GET /path HTTP/1.x`.
    BadRequest,
    /// No such file under the root.
    NotFound,
}

/// Serves one connection: one request, one response, then close.
fn handle_connection(mut stream: TcpStream, root: &Path) {
    // TODO: (part 1) answer request after request on this connection, for as
    // long as the client wants it kept open. Keep the bytes read after a
    // request's head: they are the start of the next request. While waiting
    // for the next request, time out after the keep-alive timeout (step 3).
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    // Step 2: receive the request head.
    let Some(head) = read_head(&mut stream) else {
        return; // the client left, or was too slow
    };
    // A bug on purpose, for the tests: with PANIC_ON set to a path, a
    // request for it panics here, as a bug in a handler would. The pool must
    // lose no worker to it (tests/grade.rs sends it).
    if let Some(path) = std::env::var_os("PANIC_ON")
        && head.starts_with(format!("GET {} ", path.to_string_lossy()).as_bytes())
    {
        panic!("PANIC_ON: a request for {}", path.to_string_lossy());
    }
    // Steps 3 and 4: find out which file is asked for, and find it.
    let sent = match parse_target(&head).and_then(|target| find_file(root, &target)) {
        // Steps 5 and 6: make the response and send it.
        Ok(path) => send_file(&mut stream, &path),
        // Errors get an answer that says what went wrong.
        Err(Problem::NotFound) => send_not_found(&mut stream, root),
        Err(Problem::BadRequest) => send(
            &mut stream,
            "400 Bad Request",
            "text/html; charset=utf-8",
            b"<!doctype html>\n<h1>400 Bad Request</h1>\n",
        ),
    };
    if let Err(error) = sent {
        eprintln!("could not send the response: {error}");
    }
}

/// Reads until the blank line that ends a request head. `None` if the client
/// closed the connection first, was too slow, or sent too much.
fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    // One read is not enough: TCP delivers a stream of bytes, and a request
    // can arrive in any number of pieces.
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return None;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Some(head)
}

/// The path in `GET /path HTTP/1.x`, without a query string. A request with a
/// malformed header line is refused as a whole, though no header is used here.
// TODO: (part 1) also tell whether the client wants the connection kept open,
// from the version and the `Connection` header (step 1).
fn parse_target(head: &[u8]) -> Result<String, Problem> {
    let head = std::str::from_utf8(head).map_err(|_| Problem::BadRequest)?;
    let mut lines = head.lines();
    let line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = line.split(' ').collect();
    match parts[..] {
        ["GET", target, version]
            if target.starts_with('/')
                && version.starts_with("HTTP/1.")
                && headers_are_valid(version, lines) =>
        {
            let path = percent_decode(target.split('?').next().unwrap_or(target))?;
            Ok(path)
        }
        _ => Err(Problem::BadRequest),
    }
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
fn send_file(stream: &mut TcpStream, path: &Path) -> io::Result<()> {
    let body = fs::read(path)?;
    send(stream, "200 OK", content_type(path), &body)
}

/// Sends `404 Not Found` with the site's own `error.html` as the page (or a
/// page of ours, if the site has none).
fn send_not_found(stream: &mut TcpStream, root: &Path) -> io::Result<()> {
    let page = fs::read(root.join("error.html"))
        .unwrap_or_else(|_| b"<!doctype html>\n<h1>404 Not Found</h1>\n".to_vec());
    send(stream, "404 Not Found", "text/html; charset=utf-8", &page)
}

/// Sends a response: the status line, the headers, a blank line, the body.
// TODO: (part 1) say in `Connection` whether the connection stays open (step 2).
fn send(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
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
