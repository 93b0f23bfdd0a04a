//! This stage-4 server, in Rust with the standard library alone: a thread
//! per client, the head read until its blank line, files sent as bytes, the
//! site's error.html for a 404, and 400 for a malformed request.
//!
//!     cargo run --release -- PORT ROOT
//!
//! The standard library cannot catch Ctrl-C, and It did not look further:
//! SIGINT ends the process at once, in the middle of whatever it was sending,
//! and it dies of the signal rather than exiting 0. (A silent client cannot
//! hold it up, then: nothing waits for anyone.)
//!
//! Expected: fails `ctrl-c-finishes-download` and `ctrl-c-exits-0`, and
//! nothing else at stages 1-4.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

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

/// The request target, if the head is a well-formed request.
fn target(head: &str) -> Option<String> {
    let mut lines = head.split("\r\n");
    let parts: Vec<&str> = lines.next()?.split(' ').collect();
    let [_, target, version] = parts[..] else { return None };
    if !target.starts_with('/') || !(version == "HTTP/1.1" || version == "HTTP/1.0") {
        return None;
    }
    let mut hosts = 0;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.trim() != name {
            return None;
        }
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        }
        if name.eq_ignore_ascii_case("content-length") && value.trim().parse::<u64>().is_err() {
            return None;
        }
    }
    (version == "HTTP/1.0" || hosts == 1).then(|| target.to_owned())
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
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        thread::spawn(move || serve(stream, &root));
    }
}
