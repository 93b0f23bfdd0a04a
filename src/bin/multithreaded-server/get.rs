//! `multithreaded-server get URL`: a small HTTP client, the report's optional
//! exercise ("write your own HTTP client to test the server").
//!
//! It does what a browser does for one file, and nothing more: open a TCP
//! connection, send `GET` (or `HEAD`), read the status line and headers, then
//! read the body: in chunks, by its `Content-Length`, or until the server
//! closes, as the grader's response reader finds it (`grade::response`). The
//! head goes to stderr, in colour on a terminal; the body goes to stdout or a
//! file, a piece at a time as it arrives, so a body of any size fits.
//!
//! ```text
//! $ multithreaded-server get http://127.0.0.1:3000/ -o index.html
//! HTTP/1.1 200 OK
//! Content-Type: text/html; charset=utf-8
//! ...
//! ```

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use clap::Args;
use colored::Colorize;
use grade::response::{Event, Framing, Head, ReadError, Reader, ResponseError};

use multithreaded_server::config::parse_duration;
use multithreaded_server::http::response::SERVER;

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
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "TIME")]
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

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// The URL is not one this client can fetch.
    #[error("bad URL {0}")]
    BadUrl(String),
    /// The host name did not resolve.
    #[error("cannot find host `{0}`: {1}")]
    Resolve(String, io::Error),
    /// Nothing accepted the connection.
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, io::Error),
    /// The server went silent for longer than the timeout.
    #[error("timed out: the server said nothing for {0:?}")]
    Timeout(Duration),
    /// What came is not a whole HTTP/1 response.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// Reading, writing or saving failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Fetches `args.url`, printing the head to stderr and the body to stdout (or
/// the output file).
pub fn run(args: &GetArgs) -> Result<(), GetError> {
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

    let mut reader = Reader::new(method);
    let mut body: Option<(Box<dyn Write>, Progress)> = None;
    loop {
        match reader.next_event()? {
            // The timeout is for silence: each read may wait that long.
            Event::NeedMore => match reader.read_by(&mut stream, Instant::now() + args.timeout) {
                Ok(_) => {}
                Err(ReadError::TimedOut) => return Err(GetError::Timeout(args.timeout)),
                Err(ReadError::Reset(error) | ReadError::Io(error)) => return Err(error.into()),
            },
            Event::Head(head) => {
                print_head(&head, args.verbose);
                // Where to put the body, if it has one whose end can be found.
                body = match reader.framing() {
                    None | Some(Framing::NoBody) => None,
                    Some(framing) => {
                        let sink: Box<dyn Write> = match &args.output {
                            Some(path) => Box::new(io::BufWriter::new(File::create(path)?)),
                            None => Box::new(io::stdout().lock()),
                        };
                        let total = match framing {
                            Framing::Length(length) => Some(length),
                            _ => None,
                        };
                        Some((sink, Progress::new(total)))
                    }
                };
            }
            Event::Body(piece) => {
                let (sink, progress) = body.as_mut().expect("the head comes first");
                // What did arrive is kept, even if the rest never does.
                sink.write_all(&piece)?;
                progress.update(reader.received());
            }
            Event::End => break,
        }
    }
    if let Some((mut sink, mut progress)) = body {
        progress.finish();
        sink.flush()?;
    }
    Ok(())
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

fn print_head(head: &Head, verbose: bool) {
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
}
