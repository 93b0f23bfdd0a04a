//! Exercise 7: an HTTP client of your own.
//!
//! Run it:    cargo run -q -p ex07-http-client -- http://127.0.0.1:3000/ [-o FILE]
//! Check it:  cargo test -p ex07-http-client
//!
//! The task and its steps are in README.md, hints in HINTS.md.

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
    let rest = text
        .strip_prefix("http://")
        .ok_or_else(|| format!("bad URL `{text}`: it must start with http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| format!("bad URL `{text}`: bad port `{port}`"))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("bad URL `{text}`: no host"));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// Step 2: connect, and send the request.
fn send_request(url: &Url) -> Result<TcpStream, String> {
    let address = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot find {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("cannot find {}", url.host))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
        url.path, url.host, url.port
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send the request: {e}"))?;
    Ok(stream)
}

/// Step 3: the status line and headers, and the body bytes that came with them.
fn read_head(stream: &mut TcpStream) -> Result<(Head, Vec<u8>), String> {
    let mut bytes = Vec::new();
    let mut chunk = [0; 4096];
    let end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream
            .read(&mut chunk)
            .map_err(|e| format!("no response: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection before a whole head".into());
        }
        bytes.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    if !status_line.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP response: `{status_line}`"));
    }
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect();
    Ok((
        Head {
            status_line,
            headers,
        },
        bytes[end + 4..].to_vec(),
    ))
}

/// Step 4: the body, by its length, or to the close when it has none.
fn read_body(stream: &mut TcpStream, head: &Head, mut body: Vec<u8>) -> Result<Vec<u8>, String> {
    let Some(length) = head.header("Content-Length") else {
        stream
            .read_to_end(&mut body)
            .map_err(|e| format!("reading the body: {e}"))?;
        return Ok(body);
    };
    let length: usize = length
        .parse()
        .map_err(|_| format!("bad Content-Length `{length}`"))?;
    let mut chunk = [0; 65536];
    while body.len() < length {
        let n = stream
            .read(&mut chunk)
            .map_err(|e| format!("reading the body: {e}"))?;
        if n == 0 {
            return Err(format!(
                "the body was cut short: {} of {length} bytes arrived",
                body.len()
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
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
