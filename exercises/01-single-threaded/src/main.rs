//! Exercise 1: a web server that serves one client at a time.
//!
//! Run it:    cargo run -p ex01-single-threaded -- --port 8080 --root www
//! Check it:  cargo test -p ex01-single-threaded
//!
//! The task and its steps are in README.md, hints in HINTS.md.

// Until the TODOs are done, some of what is below is not used yet.
#![allow(unused)]

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process;
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

    // Step 1: accept connections, one after another.
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => handle_connection(stream, &root),
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
        // No answer to errors yet: the client sees the connection close.
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
    // TODO: read from `stream` into a buffer until the buffer holds the blank
    // line "\r\n\r\n" that ends a request head, then return the buffer.
    // Return `None` if `read` returns 0 (the client left) or an error (the
    // read timeout), or if the head grows past MAX_HEAD bytes (step 2).
    None
}

/// The path in `GET /path HTTP/1.x`, without a query string.
fn parse_target(head: &[u8]) -> Result<String, Problem> {
    // TODO: take the first line of the head, e.g. "GET /style.css HTTP/1.1",
    // check it has three parts (GET, a path starting with "/", HTTP/1.x) and
    // return the path without any "?query" part, passed through
    // `percent_decode` (below, done for you: "/two%20words.html" is the file
    // "two words.html"). Anything else is a `Problem::BadRequest` (step 3).
    Err(Problem::BadRequest)
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

/// The file `target` names under `root`, never outside it.
fn find_file(root: &Path, target: &str) -> Result<PathBuf, Problem> {
    // TODO: add the parts of `target` to `root` one by one, skipping empty
    // parts and ".", and refusing ".." (it would climb out of the root). A
    // folder means its index.html. Anything that is not a file is
    // `Problem::NotFound` (step 4).
    Err(Problem::NotFound)
}

/// The `Content-Type` for a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    // TODO: choose by the file's extension: "text/html; charset=utf-8" for
    // .html, "text/css; charset=utf-8" for .css, "image/png" for .png, ...
    // and "application/octet-stream" when you do not know (step 5).
    "application/octet-stream"
}

/// Sends a file with `200 OK`.
fn send_file(stream: &mut TcpStream, path: &Path) -> io::Result<()> {
    let body = fs::read(path)?;
    send(stream, "200 OK", content_type(path), &body)
}

/// Sends a response: the status line, the headers, a blank line, the body.
fn send(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    // TODO: write the status line ("HTTP/1.1 200 OK"), then the headers
    // Content-Type, Content-Length (the body's length in bytes) and
    // "Connection: close", each line ending in "\r\n", then an empty line,
    // then the body itself (step 6).
    Ok(())
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
