//! This stage-4 server: rust-no-ctrl-c's design, with Ctrl-C caught (the `ctrlc`
//! crate): it stops accepting, waits up to 5 s for the clients under way, and
//! exits 0. But it reads a request as the second word of its first line, and
//! looks at nothing else: a request line with four parts, an unknown
//! protocol, a header line without a colon, an HTTP/1.1 request without
//! `Host`, are all served as if they were fine.
//!
//!     cargo run --release -- PORT ROOT
//!
//! Expected: fails `bad-request`, and nothing else at stages 1-4.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn reply(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
}

fn kind(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// The head, up to its blank line; `None` if the client hung up first.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok().filter(|n| *n > 0)?;
        head.extend_from_slice(&buf[..n]);
        if head.len() > 65536 {
            return None;
        }
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(String::from_utf8_lossy(&head[..end]).into_owned())
}

/// The request target: the second word of the first line. Whatever else the
/// head says is not looked at.
fn target(head: &str) -> Option<String> {
    head.lines().next()?.split_whitespace().nth(1).map(str::to_owned)
}

/// Decodes %XX; `None` for a bad escape, a NUL, or bytes that are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok().filter(|b| *b != 0)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn serve(mut stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(head) = read_head(&mut stream) else { return };
    let bad = b"<h1>400 Bad Request</h1>\n";
    let Some(target) = target(&head) else {
        return reply(&mut stream, "400 Bad Request", "text/html", bad);
    };
    let path = target.split('?').next().unwrap_or("");
    let Some(path) = decode(path).filter(|p| !p.contains('\\') && !p.split('/').any(|s| s == "..")) else {
        return reply(&mut stream, "400 Bad Request", "text/html", bad);
    };
    let mut file: PathBuf = root.join(path.trim_start_matches('/'));
    if file.is_dir() {
        file.push("index.html");
    }
    match fs::read(&file) {
        Ok(body) if file.starts_with(root) => reply(&mut stream, "200 OK", kind(&file), &body),
        _ => {
            let page = fs::read(root.join("error.html")).unwrap_or_default();
            reply(&mut stream, "404 Not Found", "text/html", &page);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = fs::canonicalize(&args[2]).expect("the folder to serve");
    let listener = TcpListener::bind(("127.0.0.1", args[1].parse::<u16>().expect("a port"))).expect("bind");
    let stopping = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stopping);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).expect("a Ctrl-C handler");
    // Not blocking, so that the loop sees the flag between connections.
    listener.set_nonblocking(true).expect("non-blocking");
    let busy = Arc::new(AtomicUsize::new(0));
    while !stopping.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let (root, busy) = (root.clone(), Arc::clone(&busy));
                busy.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    serve(stream, &root);
                    busy.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
    drop(listener);
    let deadline = Instant::now() + Duration::from_secs(5);
    while busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}
