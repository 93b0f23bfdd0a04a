//! Exercise 7: an HTTP client of your own.
//!
//! Run it:    cargo run -q -p ex07-http-client -- http://127.0.0.1:3000/ [-o FILE]
//! Check it:  cargo test -p ex07-http-client
//!
//! The task and its steps are in README.md, hints in HINTS.md.

// Until the TODOs are done, some of what is below is not used yet.
#![allow(unused)]

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process;
use std::time::Duration;

/// How long the server may stay silent before we give up.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where a URL points.
struct Url {
    host: String,
    port: u16,
    path: String,
}

/// A response's status line and headers.
struct Head {
    status_line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn main() {
    let (url, output) = parse_args();
    if let Err(error) = fetch(&url, output.as_deref()) {
        eprintln!("error: {error}");
        process::exit(1);
    }
}

fn fetch(url: &str, output: Option<&str>) -> Result<(), String> {
    let url = parse_url(url)?;
    let mut stream = send_request(&url)?;
    let (head, start) = read_head(&mut stream)?;
    eprintln!("{}", head.status_line);
    for (name, value) in &head.headers {
        eprintln!("{name}: {value}");
    }
    let body = read_body(&mut stream, &head, start)?;
    match output {
        Some(path) => fs::write(path, &body).map_err(|e| format!("cannot write {path}: {e}")),
        None => io::stdout()
            .write_all(&body)
            .map_err(|e| format!("cannot write the body: {e}")),
    }
}

/// Step 1: `http://HOST[:PORT][/PATH]`.
fn parse_url(text: &str) -> Result<Url, String> {
    // TODO: split `http://HOST[:PORT][/PATH]` into a `Url`; the port is 80 and
    // the path `/` when they are missing. Anything else is an error.
    Err(format!("parse_url is not written yet (asked for `{text}`)"))
}

/// Step 2: connect, and send the request.
fn send_request(url: &Url) -> Result<TcpStream, String> {
    // TODO: connect to `url.host` on `url.port` with a timeout, set a read
    // timeout, and send `GET`, `Host` and `Connection: close`, each line ending
    // in \r\n, and the blank line.
    Err(format!(
        "send_request is not written yet (for {}:{})",
        url.host, url.port
    ))
}

/// Step 3: the status line and headers, and the body bytes that came with them.
fn read_head(stream: &mut TcpStream) -> Result<(Head, Vec<u8>), String> {
    // TODO: read until the blank line; parse the status line and the headers;
    // return them with the bytes that came after the blank line.
    let _ = stream;
    Err("read_head is not written yet".to_string())
}

/// Step 4: the body, by its length, or to the close when it has none.
fn read_body(stream: &mut TcpStream, head: &Head, body: Vec<u8>) -> Result<Vec<u8>, String> {
    // TODO: read exactly Content-Length bytes (an error if fewer arrive), or
    // everything until the server closes when there is no Content-Length.
    let _ = (stream, head.header("Content-Length"));
    Ok(body)
}

/// `URL [-o FILE]`.
fn parse_args() -> (String, Option<String>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [url] => (url.clone(), None),
        [url, flag, file] if flag == "-o" => (url.clone(), Some(file.clone())),
        _ => {
            eprintln!("usage: ex07-http-client URL [-o FILE]");
            process::exit(2);
        }
    }
}
