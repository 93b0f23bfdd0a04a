//! `multithreaded-server get URL`: a small HTTP client, the report's optional
//! exercise ("write your own HTTP client to test the server").
//!
//! It does what a browser does for one file, and nothing more: open a TCP
//! connection, send `GET` (or `HEAD`), read the status line and headers, then
//! read the body by its `Content-Length` (or until the server closes). The head
//! goes to stderr, in colour on a terminal; the body goes to stdout or a file.
//!
//! ```text
//! $ multithreaded-server get http://127.0.0.1:3000/ -o index.html
//! HTTP/1.1 200 OK
//! Content-Type: text/html; charset=utf-8
//! ...
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use clap::Args;
use colored::Colorize;

use crate::http::response::SERVER;

/// The longest response head we accept.
const MAX_HEAD: usize = 64 * 1024;
/// Bodies at least this large get a progress bar (on a terminal).
const PROGRESS_FROM: u64 = 1024 * 1024;

/// Fetch one URL, like a browser asking for one file.
#[derive(Clone, Debug, Args)]
pub struct GetArgs {
    /// The URL to fetch: http://HOST[:PORT]/PATH
    pub url: Url,

    /// Write the body to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Send HEAD instead of GET: headers only
    #[arg(long)]
    pub head: bool,

    /// Also show the request that was sent
    #[arg(short, long)]
    pub verbose: bool,

    /// Give up when the server is silent for this long
    #[arg(long, default_value = "10s", value_parser = crate::cli::parse_duration, value_name = "TIME")]
    pub timeout: Duration,
}

/// An `http://` URL, split into what the request needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// The path and query, starting with `/`.
    pub path: String,
}

impl FromStr for Url {
    type Err = GetError;

    fn from_str(text: &str) -> Result<Url, GetError> {
        let bad = |why: &str| GetError::BadUrl(format!("`{text}`: {why}"));
        let rest = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            rest
        } else if strip_prefix_ignore_case(text, "https://").is_some() {
            return Err(bad("https needs TLS, which this client does not speak"));
        } else {
            return Err(bad("it must start with http://"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], &rest[at..]),
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if path.contains(['#', ' ']) || path.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(bad(
                "the path must be percent-encoded, without spaces or a fragment",
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            // `[::1]:8080`, `localhost:8080`; but not the colons inside `[::1]`.
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse()
                    .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() || host.contains('@') || port == 0 {
            return Err(bad("it needs a host (and no user name)"));
        }
        Ok(Url {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            path,
        })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

impl Url {
    /// `host:port` as it goes in the `Host` header.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Why a fetch failed.
#[derive(Debug)]
pub enum GetError {
    /// The URL is not one this client can fetch.
    BadUrl(String),
    /// The host name did not resolve.
    Resolve(String, io::Error),
    /// Nothing accepted the connection.
    Connect(SocketAddr, io::Error),
    /// The server went silent for longer than the timeout.
    Timeout(Duration),
    /// The server sent something that is not an HTTP/1 response.
    BadResponse(String),
    /// The connection closed before the promised body arrived.
    Truncated { expected: u64, received: u64 },
    /// Reading, writing or saving failed.
    Io(io::Error),
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::BadUrl(why) => write!(f, "bad URL {why}"),
            GetError::Resolve(host, error) => write!(f, "cannot find host `{host}`: {error}"),
            GetError::Connect(address, error) => write!(f, "cannot connect to {address}: {error}"),
            GetError::Timeout(after) => {
                write!(f, "timed out: the server said nothing for {after:?}")
            }
            GetError::BadResponse(why) => write!(f, "not an HTTP response: {why}"),
            GetError::Truncated { expected, received } => write!(
                f,
                "the body was cut short: {received} of {expected} bytes arrived"
            ),
            GetError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for GetError {}

impl From<io::Error> for GetError {
    fn from(error: io::Error) -> GetError {
        GetError::Io(error)
    }
}

/// The status line and headers of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Fetches `args.url`, printing the head to stderr and the body to stdout (or
/// the output file).
pub fn run(args: &GetArgs) -> Result<ResponseHead, GetError> {
    let url = &args.url;
    let method = if args.head { "HEAD" } else { "GET" };
    let mut stream = connect(url, args.timeout)?;
    let request = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {SERVER}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path,
        url.authority()
    );
    if args.verbose {
        for line in request.trim_end().lines() {
            eprintln!("{} {}", ">".dimmed(), line);
        }
    }
    stream
        .write_all(request.as_bytes())
        .map_err(|e| timeout_or(e, args.timeout))?;

    let (head, rest) = read_head(&mut stream, args.timeout)?;
    print_head(&head, args.verbose);

    let has_body = !args.head && !matches!(head.status, 100..=199 | 204 | 304);
    if has_body {
        let expected = match head.header("content-length") {
            Some(value) => Some(value.trim().parse::<u64>().map_err(|_| {
                GetError::BadResponse(format!("Content-Length `{value}` is not a number"))
            })?),
            None if head.header("transfer-encoding").is_some() => {
                return Err(GetError::BadResponse(
                    "chunked bodies are not supported by this client".into(),
                ));
            }
            None => None, // read until the server closes
        };
        let mut sink: Box<dyn Write> = match &args.output {
            Some(path) => Box::new(io::BufWriter::new(File::create(path)?)),
            None => Box::new(io::stdout().lock()),
        };
        copy_body(&mut stream, rest, expected, &mut sink, args.timeout)?;
        sink.flush()?;
    }
    Ok(head)
}

fn connect(url: &Url, timeout: Duration) -> Result<TcpStream, GetError> {
    let addresses: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|error| GetError::Resolve(url.host.clone(), error))?
        .collect();
    let mut last = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => {
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                return Ok(stream);
            }
            Err(error) if error.kind() == io::ErrorKind::TimedOut => {
                last = Some(GetError::Timeout(timeout));
            }
            Err(error) => last = Some(GetError::Connect(address, error)),
        }
    }
    Err(last.unwrap_or_else(|| GetError::Resolve(url.host.clone(), io::ErrorKind::NotFound.into())))
}

fn timeout_or(error: io::Error, timeout: Duration) -> GetError {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => GetError::Timeout(timeout),
        _ => GetError::Io(error),
    }
}

/// Reads up to the blank line; returns the parsed head and the body bytes that
/// came with it.
fn read_head(
    stream: &mut TcpStream,
    timeout: Duration,
) -> Result<(ResponseHead, Vec<u8>), GetError> {
    let mut buffer = Vec::new();
    let mut chunk = [0; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_head(&buffer[..end])?;
            return Ok((head, buffer[end + 4..].to_vec()));
        }
        if buffer.len() > MAX_HEAD {
            return Err(GetError::BadResponse(
                "the head is longer than 64 KiB".into(),
            ));
        }
        match stream.read(&mut chunk) {
            Ok(0) if buffer.is_empty() => {
                return Err(GetError::BadResponse(
                    "the server closed the connection without a word".into(),
                ));
            }
            Ok(0) => return Err(GetError::BadResponse("the head was cut short".into())),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(timeout_or(error, timeout)),
        }
    }
}

/// Parses `HTTP/1.1 200 OK` and the header lines after it.
pub fn parse_head(bytes: &[u8]) -> Result<ResponseHead, GetError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..=999).contains(code));
    let Some(status) = status.filter(|_| version.starts_with("HTTP/1.")) else {
        return Err(GetError::BadResponse(format!(
            "the first line is `{}`",
            status_line.chars().take(60).collect::<String>()
        )));
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| GetError::BadResponse(format!("header line `{line}` has no colon")))?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(ResponseHead {
        status_line,
        status,
        headers,
    })
}

fn print_head(head: &ResponseHead, verbose: bool) {
    let status = match head.status {
        200..=299 => head.status_line.green(),
        300..=399 => head.status_line.cyan(),
        400..=499 => head.status_line.yellow(),
        _ => head.status_line.red(),
    };
    let mark = if verbose { "< " } else { "" };
    eprintln!("{mark}{}", status.bold());
    for (name, value) in &head.headers {
        eprintln!("{mark}{}: {value}", name.cyan());
    }
    if verbose {
        eprintln!("<");
    }
}

/// Copies the body to `sink`: exactly `expected` bytes when the length is
/// known, everything until the server closes when it is not.
fn copy_body(
    stream: &mut TcpStream,
    first: Vec<u8>,
    expected: Option<u64>,
    sink: &mut dyn Write,
    timeout: Duration,
) -> Result<(), GetError> {
    let mut progress = Progress::new(expected);
    let mut received = 0u64;
    let mut chunk = vec![0; 64 * 1024];
    let mut pending = first;
    loop {
        if let Some(expected) = expected {
            let room = (expected - received) as usize;
            pending.truncate(room);
        }
        sink.write_all(&pending)?;
        received += pending.len() as u64;
        progress.update(received);
        if expected.is_some_and(|expected| received >= expected) {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => pending = chunk[..n].to_vec(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => pending.clear(),
            Err(error) => return Err(timeout_or(error, timeout)),
        }
    }
    progress.finish();
    match expected {
        Some(expected) if received < expected => Err(GetError::Truncated { expected, received }),
        _ => Ok(()),
    }
}

/// A progress bar on stderr, for large bodies, only when stderr is a terminal.
struct Progress {
    total: Option<u64>,
    started: Instant,
    last_drawn: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn new(total: Option<u64>) -> Progress {
        let shown = io::stderr().is_terminal() && total.is_none_or(|t| t >= PROGRESS_FROM);
        Progress {
            total,
            started: Instant::now(),
            last_drawn: None,
            shown,
        }
    }

    fn update(&mut self, received: u64) {
        if !self.shown
            || self
                .last_drawn
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last_drawn = Some(Instant::now());
        let mib = received as f64 / (1024.0 * 1024.0);
        let rate = mib / self.started.elapsed().as_secs_f64().max(1e-6);
        let line = match self.total {
            Some(total) if total > 0 => {
                let done = (received * 30 / total) as usize;
                format!(
                    "[{}{}] {:>3}% {mib:.1} MiB {rate:.1} MiB/s",
                    "#".repeat(done),
                    ".".repeat(30 - done),
                    received * 100 / total
                )
            }
            _ => format!("{mib:.1} MiB {rate:.1} MiB/s"),
        };
        eprint!("\r{line}");
    }

    fn finish(&mut self) {
        if self.shown && self.last_drawn.is_some() {
            self.last_drawn = None;
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_urls_a_student_would_type() {
        let url: Url = "http://127.0.0.1:3000/index.html?x=1".parse().unwrap();
        assert_eq!(url.host, "127.0.0.1");
        assert_eq!(url.port, 3000);
        assert_eq!(url.path, "/index.html?x=1");
        let url: Url = "HTTP://localhost".parse().unwrap();
        assert_eq!((url.port, url.path.as_str()), (80, "/"));
        let url: Url = "http://[::1]:8080/a".parse().unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 8080));
        assert_eq!(url.to_string(), "http://[::1]:8080/a");
        let url: Url = "http://example.com?q".parse().unwrap();
        assert_eq!(url.path, "/?q");
    }

    #[test]
    fn refuses_urls_it_cannot_fetch() {
        for text in [
            "127.0.0.1:3000/",
            "https://example.com/",
            "ftp://example.com/",
            "http://",
            "http://:80/",
            "http://host:99999/",
            "http://host:0/",
            "http://user@host/",
            "http://host/a b",
            "http://host/#top",
        ] {
            assert!(
                matches!(text.parse::<Url>(), Err(GetError::BadUrl(_))),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn parses_a_response_head() {
        let head = parse_head(b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nX:  y ").unwrap();
        assert_eq!(head.status, 404);
        assert_eq!(head.header("content-length"), Some("12"));
        assert_eq!(head.header("x"), Some("y"));
        assert!(parse_head(b"SSH-2.0-OpenSSH_9.2").is_err());
        assert!(parse_head(b"HTTP/1.1 2000 OK").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nno colon").is_err());
    }
}
