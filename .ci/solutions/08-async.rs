//! Exercise 8: async and await.
//!
//! Run it:    cargo run -p ex08-async -- --port 8080 --root www
//! Check it:  cargo test -p ex08-async
//!
//! The task and its steps are in README.md, hints in HINTS.md.

use std::io;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::time::{Instant, timeout_at};

/// A client that has not sent its whole request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that has not read its whole response by then is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request head we are willing to read.
const MAX_HEAD: usize = 16 * 1024;
/// On Ctrl-C, how long to wait for the responses under way.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How many responses at once, how many requests may wait for their turn, and
/// how long an idle connection stays open, unless the command line says
/// otherwise.
const DEFAULT_THREADS: usize = 16;
const DEFAULT_QUEUE: usize = 256;
const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// What every task shares.
struct Shared {
    root: PathBuf,
    keep_alive_timeout: Duration,
    turns: Turns,
}

fn main() {
    let Settings {
        port,
        root,
        threads,
        queue,
        keep_alive_timeout,
    } = parse_args();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|error| {
        eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
        process::exit(1);
    });
    println!(
        "Listening on http://127.0.0.1:{port}/ ({threads} responses at once, a queue of {queue}, idle connections closed after {} s)",
        keep_alive_timeout.as_secs_f64()
    );
    listener
        .set_nonblocking(true)
        .expect("cannot make the listener non-blocking");
    // One thread per core runs every task; files are opened on tokio's
    // blocking threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start the runtime");
    let shared = Arc::new(Shared {
        root,
        keep_alive_timeout,
        turns: Turns::new(threads, queue),
    });
    let left = runtime.block_on(serve(listener, shared));
    // Tasks still running had their chance.
    runtime.shutdown_background();
    if left > 0 {
        println!("Gave up on {left} client(s); bye.");
    } else {
        println!("All clients done; bye.");
    }
}

/// Accepts connections, a task for each, until Ctrl-C; then waits for the
/// tasks, within the shutdown timeout. Returns how many were given up on.
async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) -> usize {
    let listener = TcpListener::from_std(listener).expect("cannot use the listener");
    // Every task holds a receiver: sending tells them all to stop waiting for
    // requests, and `closed` completes once every task has dropped its own.
    let (stop, stopped) = watch::channel(());
    // Made once: a Ctrl-C that came while the loop was not waiting for one
    // is still seen.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, Arc::clone(&shared), stopped.clone()));
                }
                Err(error) => {
                    eprintln!("accept failed: {error}");
                    // Out of descriptors, say: give the tasks a moment to close some.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut ctrl_c => break,
        }
    }
    drop((listener, stopped));
    let _ = stop.send(());
    let _ = timeout_at(Instant::now() + SHUTDOWN_TIMEOUT, stop.closed()).await;
    stop.receiver_count()
}

/// One connection: request after request, until the client closes it, stays
/// idle too long, asks to close, or gets an error.
async fn connection(mut stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<()>) {
    let mut buffer = Vec::new();
    let mut idle = false;
    loop {
        if !read_head(&mut stream, &mut buffer, idle, &shared, &mut stop).await {
            return;
        }
        let head = match head_end(&buffer) {
            Some(end) => buffer.drain(..end).collect::<Vec<u8>>(),
            // No blank line in `MAX_HEAD` bytes: too much to be a request.
            None => Vec::new(),
        };
        let Some(_turn) = shared.turns.take(&mut stop).await else {
            let _ = timeout_at(Instant::now() + WRITE_TIMEOUT, send_overloaded(&mut stream)).await;
            return;
        };
        let root = shared.root.clone();
        let Ok(response) = tokio::task::spawn_blocking(move || respond(&head, &root)).await else {
            return; // the job panicked: close the connection
        };
        let keep_alive = response.keep_alive && !stop.has_changed().unwrap_or(true);
        let sent = timeout_at(
            Instant::now() + WRITE_TIMEOUT,
            send(&mut stream, &response, keep_alive),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) || !keep_alive {
            return;
        }
        idle = buffer.is_empty();
    }
}

/// Reads until the buffer holds a whole request head (or more than a head may
/// have). Returns `false` if the connection should close instead: the client
/// closed it, the time is up, or the server is stopping.
async fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    mut idle: bool,
    shared: &Shared,
    stop: &mut watch::Receiver<()>,
) -> bool {
    let timeout = if idle {
        shared.keep_alive_timeout
    } else {
        READ_TIMEOUT
    };
    let mut deadline = Instant::now() + timeout;
    while !has_head(buffer) {
        tokio::select! {
            read = timeout_at(deadline, stream.read_buf(buffer)) => match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
                Ok(Ok(_)) => {
                    if idle {
                        // A request has begun: its whole head is now due
                        // within the read timeout.
                        idle = false;
                        deadline = Instant::now() + READ_TIMEOUT;
                    }
                }
            },
            // Waiting for a request, not answering one: close.
            _ = stop.changed() => return false,
        }
    }
    true
}

/// Where the head at the start of `buffer` ends, after its blank line.
fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Whether there is something to answer in this buffer.
fn has_head(buffer: &[u8]) -> bool {
    head_end(buffer).is_some() || buffer.len() > MAX_HEAD
}

/// Stage 5's bound, with a semaphore instead of workers: `threads` responses
/// at once, `queue` more requests waiting for their turn.
struct Turns {
    semaphore: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

impl Turns {
    fn new(threads: usize, queue: usize) -> Turns {
        Turns {
            semaphore: Semaphore::new(threads),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// A turn to answer, or `None` if the queue is full or the server stops.
    async fn take(&self, stop: &mut watch::Receiver<()>) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.semaphore.try_acquire() {
            return Some(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let turn = tokio::select! {
            permit = self.semaphore.acquire() => permit.ok(),
            _ = stop.changed() => None,
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        turn
    }
}

/// A response, ready to send.
struct Response {
    status: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    /// Whether the connection may stay open after it.
    keep_alive: bool,
}

/// The response to a request head. It reads files, which may wait for the
/// disk: it runs on a blocking thread, never on a task.
fn respond(head: &[u8], root: &Path) -> Response {
    let page = |status, body: &[u8]| Response {
        status,
        content_type: "text/html; charset=utf-8",
        body: body.to_vec(),
        // An error closes the connection.
        keep_alive: false,
    };
    let Ok(request) = parse_request(head) else {
        return page(
            "400 Bad Request",
            b"<!doctype html>\n<h1>400 Bad Request</h1>\n",
        );
    };
    match find_file(root, &request.target).and_then(|path| Ok((std::fs::read(&path)?, path))) {
        Ok((body, path)) => Response {
            status: "200 OK",
            content_type: content_type(&path),
            body,
            keep_alive: request.keep_alive,
        },
        Err(_) => {
            let body = std::fs::read(root.join("error.html"))
                .unwrap_or_else(|_| b"<!doctype html>\n<h1>404 Not Found</h1>\n".to_vec());
            page("404 Not Found", &body)
        }
    }
}

/// What we need from a request: the file, and whether to keep the connection.
struct Request {
    target: String,
    keep_alive: bool,
}

/// The path in `GET /path HTTP/1.x`, without a query string, and whether the
/// client wants the connection kept open: HTTP/1.1 does unless it says
/// `Connection: close`; HTTP/1.0 does not unless it says `Connection: keep-alive`.
fn parse_request(head: &[u8]) -> Result<Request, ()> {
    let head = std::str::from_utf8(head).map_err(|_| ())?;
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = line.split(' ').collect();
    let ["GET", target, version] = parts[..] else {
        return Err(());
    };
    if !target.starts_with('/')
        || !version.starts_with("HTTP/1.")
        || !headers_are_valid(version, lines.clone())
    {
        return Err(());
    }
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
fn percent_decode(path: &str) -> Result<String, ()> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok());
            let byte = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok());
            decoded.push(byte.ok_or(())?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| ())
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
fn find_file(root: &Path, target: &str) -> io::Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            // `..` would climb out of the root: refuse it.
            ".." => return Err(io::ErrorKind::NotFound.into()),
            part => path.push(part),
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    if path.is_file() {
        Ok(path)
    } else {
        Err(io::ErrorKind::NotFound.into())
    }
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

/// Sends a response: the status line, the headers, a blank line, the body.
/// `Connection` tells the client whether it may send another request.
async fn send(stream: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await
}

/// Answers a request that cannot have a turn: `503 Service Unavailable`, with
/// `Retry-After` saying when to try again.
async fn send_overloaded(stream: &mut TcpStream) {
    let body = b"<!doctype html>\n<h1>503 Service Unavailable</h1>\n";
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let sent = stream.write_all(head.as_bytes()).await;
    if let Err(error) = sent.and(stream.write_all(body).await) {
        eprintln!("could not send 503: {error}");
    }
}

/// What the command line asks for.
struct Settings {
    port: u16,
    root: PathBuf,
    /// How many responses may be under way at once.
    threads: usize,
    /// How many requests may wait for their turn.
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
