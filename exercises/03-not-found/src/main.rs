//! Exercise 3: answering errors with 404 and 400.
//!
//! Run it:    cargo run -p ex03-not-found -- --port 8080 --root www
//! Check it:  cargo test -p ex03-not-found
//!
//! The task and its steps are in README.md, hints in HINTS.md.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process;
use std::thread;
use std::time::Duration;

/// A client that has not sent its whole request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request head we are willing to read.
const MAX_HEAD: usize = 16 * 1024;

fn main() {
    let (port, root) = parse_args();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|error| {
        eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
        process::exit(1);
    });
    println!("Listening on http://127.0.0.1:{port}/");

    // Step 1: accept connections. Each is served on a thread of its own, so
    // this loop goes straight back to `accept` instead of waiting for a client.
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                // The thread gets its own copy of `root`: `move` hands it, and
                // the stream, over to the thread.
                let root = root.clone();
                thread::spawn(move || handle_connection(stream, &root));
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
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
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    // Step 2: receive the request head.
    let Some(head) = read_head(&mut stream) else {
        return; // the client left, or was too slow
    };
    // Steps 3 and 4: find out which file is asked for, and find it.
    let sent = match parse_target(&head).and_then(|target| find_file(root, &target)) {
        // Steps 5 and 6: make the response and send it.
        Ok(path) => send_file(&mut stream, &path),
        // TODO: answer errors instead of closing in silence: 404 Not Found
        // with the root's error.html as the page for `Problem::NotFound`, and
        // 400 Bad Request for `Problem::BadRequest` (see README.md).
        Err(problem) => {
            eprintln!("no answer: {problem:?}");
            Ok(())
        }
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

/// Sends a response: the status line, the headers, a blank line, the body.
fn send(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

/// `--port PORT --root DIR`, in either order.
fn parse_args() -> (u16, PathBuf) {
    let mut port = None;
    let mut root = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().ok(),
            ("--root", Some(value)) => root = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    match (port, root) {
        (Some(port), Some(root)) if root.is_dir() => (port, root),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: {} --port PORT --root DIR", env!("CARGO_PKG_NAME"));
    process::exit(2);
}
