//! Exercise 9: speaking more HTTP: validators, ranges, compression, uploads.
//!
//! Run it:    cargo run -p ex09-more-http -- --port 8080 --root www --uploads /tmp/uploads
//! Check it:  cargo test -p ex09-more-http
//!
//! The task and its steps are in README.md, hints in HINTS.md.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;

/// A client that has not sent its whole request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request head we are willing to read.
const MAX_HEAD: usize = 16 * 1024;
/// The largest upload we take: its body is held in memory until it is whole.
const MAX_UPLOAD: u64 = 16 * 1024 * 1024;
/// The folder in URLs that `--uploads DIR` answers for: `/uploads/NAME`.
const UPLOADS_PREFIX: &str = "/uploads/";

/// What the server was started with, shared by every connection's thread.
struct Config {
    /// The folder the site is served from.
    root: PathBuf,
    /// The folder `PUT /uploads/NAME` writes to, if uploads are on.
    uploads: Option<PathBuf>,
}

fn main() {
    let (port, config) = parse_args();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|error| {
        eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
        process::exit(1);
    });
    println!("Listening on http://127.0.0.1:{port}/");

    // One `Config` for every thread: an `Arc` hands each a pointer to it
    // rather than a copy.
    let config = Arc::new(config);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let config = Arc::clone(&config);
                thread::spawn(move || handle_connection(stream, &config));
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
    }
}

/// The methods this server knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    /// `GET` without the body: the same head, `Content-Length` and all.
    Head,
    /// Writes a file under `/uploads/`.
    Put,
}

/// A request head, read and checked.
#[derive(Debug)]
struct Request {
    method: Method,
    /// The path as sent, `%XX` escapes and all, without its query string.
    /// It is decoded where it is used: an upload's name must be looked at
    /// before decoding too, to refuse an encoded `/`.
    target: String,
    /// The header lines, each `(name, value)` as sent, the value trimmed.
    headers: Vec<(String, String)>,
}

impl Request {
    /// The value of the header `name`, in any case: header names are not
    /// case-sensitive (`range`, `Range` and `RANGE` are one header).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Why a request gets no file.
#[derive(Debug)]
enum Problem {
    /// The request is not `METHOD /path HTTP/1.x` with valid headers.
    BadRequest,
    /// No such file under the root.
    NotFound,
    /// A method we do not serve here, such as `PUT` with uploads off.
    MethodNotAllowed,
    /// An upload with no `Content-Length`.
    LengthRequired,
    /// An upload larger than [`MAX_UPLOAD`].
    TooLarge,
    /// The file could not be read or written.
    Internal,
    /// The client went away before its body was whole. Not an answer: no
    /// one is left to read it.
    ClientLeft,
}

impl Problem {
    /// The response that tells the client what went wrong.
    fn response(&self, root: &Path) -> Response {
        match self {
            Problem::NotFound => {
                let page = fs::read(root.join("error.html"))
                    .unwrap_or_else(|_| b"<!doctype html>\n<h1>404 Not Found</h1>\n".to_vec());
                let mut response = Response::new("404 Not Found");
                response.header("Content-Type", "text/html; charset=utf-8");
                response.body = page;
                response
            }
            Problem::BadRequest => Response::page("400 Bad Request"),
            Problem::MethodNotAllowed => {
                // A 405 says which methods would do (RFC 9110 §15.5.6):
                // these, for every file of the site.
                let mut response = Response::page("405 Method Not Allowed");
                response.header("Allow", "GET, HEAD");
                response
            }
            Problem::LengthRequired => Response::page("411 Length Required"),
            Problem::TooLarge => Response::page("413 Content Too Large"),
            Problem::Internal | Problem::ClientLeft => Response::page("500 Internal Server Error"),
        }
    }
}

/// A response, put together before it is sent: the steps below each add to
/// it, and `send` writes it.
#[derive(Debug)]
struct Response {
    /// The status line's code and reason phrase: `206 Partial Content`.
    status: &'static str,
    /// Headers besides `Content-Length` and `Connection`, which `send` writes.
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: &'static str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A small HTML page that names the status.
    fn page(status: &'static str) -> Response {
        let mut response = Response::new(status);
        response.header("Content-Type", "text/html; charset=utf-8");
        response.body = format!("<!doctype html>\n<h1>{status}</h1>\n").into_bytes();
        response
    }

    fn header(&mut self, name: &'static str, value: impl Into<String>) {
        self.headers.push((name, value.into()));
    }
}

/// Serves one connection: one request, one response, then close.
fn handle_connection(mut stream: TcpStream, config: &Config) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    // The head, and whatever part of a body came in the same reads.
    let Some((head, early_body)) = read_head(&mut stream) else {
        return; // the client left, or was too slow
    };
    let (answer, method) = match parse_request(&head) {
        Ok(request) => {
            let answer = match request.method {
                Method::Get | Method::Head => serve(config, &request),
                Method::Put => upload(&mut stream, config, &request, early_body),
            };
            (answer, Some(request.method))
        }
        Err(problem) => (Err(problem), None),
    };
    let response = match answer {
        Ok(response) => response,
        Err(Problem::ClientLeft) => return,
        Err(problem) => problem.response(&config.root),
    };
    // A `HEAD` gets the head a `GET` would, and no body.
    let with_body = method != Some(Method::Head);
    if let Err(error) = send(&mut stream, &response, with_body) {
        eprintln!("could not send the response: {error}");
    }
    if method == Some(Method::Put) {
        linger(&mut stream);
    }
}

/// Reads until the blank line that ends a request head. Returns the head
/// and the bytes read after it (the start of a body); `None` if the client
/// closed the connection first, was too slow, or sent too much.
fn read_head(stream: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    // One read is not enough: TCP delivers a stream of bytes, and a request
    // can arrive in any number of pieces.
    loop {
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            let body = head.split_off(end + 4);
            return Some((head, body));
        }
        if head.len() > MAX_HEAD {
            return None;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
    }
}

/// Reads `METHOD /path HTTP/1.x` and the header lines after it.
fn parse_request(head: &[u8]) -> Result<Request, Problem> {
    let head = std::str::from_utf8(head).map_err(|_| Problem::BadRequest)?;
    let mut lines = head.lines();
    let line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(Problem::BadRequest);
    };
    if !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(Problem::BadRequest);
    }
    let headers = parse_headers(version, lines).ok_or(Problem::BadRequest)?;
    // A well-formed request with a method we do not serve is not a bad
    // request: it gets 405, which says "not this method, here".
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "PUT" => Method::Put,
        _ => return Err(Problem::MethodNotAllowed),
    };
    let target = target.split('?').next().unwrap_or(target).to_owned();
    Ok(Request {
        method,
        target,
        headers,
    })
}

/// The header lines, up to the blank line that ends them, if they are what
/// RFC 9112 allows: each is `Name: value`, with a name and no space before
/// the colon (a proxy could take `Host : x` for another header than we do);
/// an HTTP/1.1 request has a `Host`; and a `Content-Length` is a number, or
/// nobody can tell where the body ends.
fn parse_headers<'a>(
    version: &str,
    lines: impl Iterator<Item = &'a str>,
) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length")
            && (value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return None;
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let has_host = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"));
    (has_host || version == "HTTP/1.0").then_some(headers)
}

/// `path` with each `%XX` turned back into the byte it stands for, as
/// browsers write a space (`%20`) or any byte outside plain ASCII. A `%` not
/// followed by two hex digits, or bytes that are not UTF-8, make a bad
/// request.
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

/// The file `target` (decoded) names under `root`, never outside it.
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
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Answers a `GET` or `HEAD` for a file of the site, or of the uploads
/// folder when uploads are on. The steps of the exercise each add to the
/// response here.
fn serve(config: &Config, request: &Request) -> Result<Response, Problem> {
    let path = match (&config.uploads, request.target.strip_prefix(UPLOADS_PREFIX)) {
        // An uploaded file reads back under the same name rules it was
        // written under; a temporary `.name` is never served.
        (Some(folder), Some(encoded)) => {
            let path = folder.join(upload_name(encoded).ok_or(Problem::NotFound)?);
            path.is_file().then_some(path).ok_or(Problem::NotFound)?
        }
        _ => find_file(&config.root, &percent_decode(&request.target)?)?,
    };
    let metadata = fs::metadata(&path).map_err(|_| Problem::NotFound)?;
    let kind = content_type(&path);
    let mut response = Response::new("200 OK");
    response.header("Content-Type", kind);

    // Step 3, decided first: whether the body goes out gzipped, since the
    // tag of step 1 must tell the gzipped bytes from the plain ones. A range
    // is never gzipped: its bytes are bytes of the file, and a range of a
    // gzip body would be bytes of something else.
    let compressible = is_compressible(kind);
    let gzipped = compressible
        && request.header("range").is_none()
        && accepts_gzip(request.header("accept-encoding"));
    if compressible {
        // Always, gzipped or not: another client may get other bytes for
        // this URL, and a cache between them must not mix them up.
        response.header("Vary", "Accept-Encoding");
    }

    // Step 1: the tag, and `304` with no body for a client that has it.
    if let Some(tag) = etag(&metadata, if gzipped { "-gzip" } else { "" }) {
        let not_modified = request
            .header("if-none-match")
            .is_some_and(|list| if_none_match(list, &tag));
        response.header("ETag", tag);
        if not_modified {
            response.status = "304 Not Modified";
            return Ok(response);
        }
    }

    let file = fs::read(&path).map_err(|_| Problem::Internal)?;

    // Step 2: one range of the file, or 416 for one that is not in it.
    response.header("Accept-Ranges", "bytes");
    let len = file.len();
    match request.header("range").map(|value| parse_range(value, len)) {
        Some(Ranged::Part { first, last }) => {
            response.status = "206 Partial Content";
            response.header("Content-Range", format!("bytes {first}-{last}/{len}"));
            response.body = file[first..=last].to_vec();
        }
        Some(Ranged::Unsatisfiable) => {
            // A page of its own, not the file's type: none of it is sent.
            let mut refused = Response::page("416 Range Not Satisfiable");
            refused.header("Content-Range", format!("bytes */{len}"));
            return Ok(refused);
        }
        Some(Ranged::Whole) | None if gzipped => {
            response.header("Content-Encoding", "gzip");
            response.body = gzip(&file).map_err(|_| Problem::Internal)?;
        }
        Some(Ranged::Whole) | None => response.body = file,
    }
    Ok(response)
}

// -- Step 1: validators. ---------------------------------------------------

/// The strong `ETag` of a file, from its length and its modification time
/// in nanoseconds: both come with the `stat` that finding the file costs
/// anyway, and both change when the file does. (A hash of the contents
/// would notice a change that kept both, but costs reading every byte on
/// every request.) `suffix` tells apart another representation of the same
/// file: step 3 passes `-gzip`, since a strong tag promises the same bytes.
/// `None` if the system keeps no modification time.
fn etag(metadata: &fs::Metadata, suffix: &str) -> Option<String> {
    let modified = metadata.modified().ok()?;
    let nanos = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(format!("\"{:x}-{nanos:x}{suffix}\"", metadata.len()))
}

/// Whether `If-None-Match: list` names `etag`: `*` names any file, and the
/// comparison is weak (RFC 9110 §13.1.2), so `W/"x"` matches `"x"`. Split on
/// commas: a tag may hold a comma, but ours never do, so a tag of ours is
/// never split, and pieces of other tags match nothing.
fn if_none_match(list: &str, etag: &str) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    list.split(',').any(|tag| opaque(tag) == ours)
}

// -- Step 2: ranges. -------------------------------------------------------

/// What a `Range` header asks of a file of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ranged {
    /// Send the whole file with 200: no range, several, or one we cannot read.
    Whole,
    /// Send bytes `first..=last` with 206.
    Part { first: usize, last: usize },
    /// The range starts at or past the end: 416.
    Unsatisfiable,
}

/// Reads a `Range` header's value for a file of `len` bytes: `bytes=a-b`
/// (both included, a last byte past the end meaning the end), `bytes=a-`
/// (to the end) or `bytes=-n` (the last n).
///
/// Several ranges (`bytes=0-9,20-29`) get the whole file, which RFC 9110
/// §14.2 allows (a server may ignore `Range`): clients ask for one range at
/// a time, and a server that answers many, overlapping ones too, can be made
/// to send a file many times over for one request.
fn parse_range(value: &str, len: usize) -> Ranged {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ranged::Whole; // another unit, or no range at all
    };
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Whole;
    };
    // Digits only: `parse` would take `+5` too.
    let number = |text: &str| -> Option<usize> {
        let text = text.trim();
        let digits = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
        if digits { text.parse().ok() } else { None }
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-n`: the last n bytes, or all of a shorter file. The last none
        // of a file, or any of an empty one, cannot be sent.
        (true, _, Some(0)) => Ranged::Unsatisfiable,
        (true, _, Some(_)) if len == 0 => Ranged::Unsatisfiable,
        (true, _, Some(suffix)) => Ranged::Part {
            first: len.saturating_sub(suffix),
            last: len - 1,
        },
        (false, Some(first), _) if first >= len => Ranged::Unsatisfiable,
        // `a-`: to the end.
        (false, Some(first), None) if last.trim().is_empty() => Ranged::Part {
            first,
            last: len - 1,
        },
        // `a-b`.
        (false, Some(first), Some(last)) if first <= last => Ranged::Part {
            first,
            last: last.min(len - 1),
        },
        _ => Ranged::Whole,
    }
}

// -- Step 3: compression. --------------------------------------------------

/// Whether a type is text, which shrinks to a third or less. Pictures,
/// video and archives are compressed already, and would only grow.
fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.starts_with("text/") || matches!(essence, "application/json" | "image/svg+xml")
}

/// Whether a client with this `Accept-Encoding` gets gzip: it gives gzip a
/// q-value above 0, and no lower than it gives the plain bytes (`identity`).
/// A client that sends no `Accept-Encoding` gets the plain bytes: it may be
/// a tool that would save a gzip file under the page's name.
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(list) = accept_encoding else {
        return false;
    };
    let gzip = quality(list, "gzip")
        .or_else(|| quality(list, "x-gzip"))
        .or_else(|| quality(list, "*"))
        .unwrap_or(0.0);
    // Identity is acceptable unless the list excludes it, but least wanted.
    let identity = quality(list, "identity")
        .or_else(|| quality(list, "*"))
        .unwrap_or(0.001);
    gzip > 0.0 && gzip >= identity
}

/// The q-value the list gives `coding` (`gzip;q=0.8`: 0.8; no `q`: 1), if
/// it names it. An entry whose q is not a number from 0 to 1 is skipped.
fn quality(list: &str, coding: &str) -> Option<f32> {
    list.split(',').find_map(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        if !name.eq_ignore_ascii_case(coding) {
            return None;
        }
        let q = parts.find_map(|param| {
            let (key, value) = param.split_once('=')?;
            key.trim().eq_ignore_ascii_case("q").then(|| value.trim())
        });
        match q {
            None => Some(1.0),
            Some(q) => q.parse().ok().filter(|q| (0.0..=1.0).contains(q)),
        }
    })
}

/// `bytes` compressed with gzip, in memory, so that the length is known
/// before the head is written. Level 6, zlib's default: nearly the ratio
/// of level 9 at a third of its time.
fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::new(6));
    encoder.write_all(bytes)?;
    encoder.finish()
}

// -- Step 4: uploads. ------------------------------------------------------

/// The file name in `/uploads/NAME`, decoded, if it is one we may write and
/// read: one plain name, which no request could use to reach another
/// folder or another file. `encoded` is what follows `/uploads/` in the
/// target, before decoding, so that `..%2fx` is seen as holding a slash.
fn upload_name(encoded: &str) -> Option<String> {
    let name = percent_decode(encoded).ok()?;
    let plain = !name.is_empty()
        // `.` and `..`, and the temporary `.name`s below: a request may
        // never name them.
        && !name.starts_with('.')
        // A `/` (or `\`, in `is_plain_name`) would lead to another folder.
        && !name.contains('/')
        && !name.contains(char::is_control)
        && is_plain_name(&name);
    plain.then_some(name)
}

/// Answers `PUT /uploads/NAME`: reads the body whole, writes it to a
/// temporary file in the same folder and renames that over the name. A
/// reader sees the old file or the new one, never half of one, and a cut
/// connection leaves nothing, since nothing is written until the body is
/// whole. `early_body` is what of the body came with the head.
fn upload(
    stream: &mut TcpStream,
    config: &Config,
    request: &Request,
    early_body: Vec<u8>,
) -> Result<Response, Problem> {
    // Uploads off, or a PUT elsewhere: not a method for this URL.
    let (Some(folder), Some(encoded)) =
        (&config.uploads, request.target.strip_prefix(UPLOADS_PREFIX))
    else {
        return Err(Problem::MethodNotAllowed);
    };
    let name = upload_name(encoded).ok_or(Problem::BadRequest)?;
    // Only a body of a known length: chunks would need a reader of their
    // own, and RFC 9110 lets a server ask for a length with 411.
    if request.header("transfer-encoding").is_some() {
        return Err(Problem::LengthRequired);
    }
    let length: u64 = request
        .header("content-length")
        .ok_or(Problem::LengthRequired)?
        .parse()
        .map_err(|_| Problem::TooLarge)?; // digits, but more than a u64 holds
    if length > MAX_UPLOAD {
        return Err(Problem::TooLarge);
    }
    // `curl -T` asks first, for a large file, and waits a second for this
    // before it sends the body anyway: the answer saves that second.
    if request
        .header("expect")
        .is_some_and(|expect| expect.eq_ignore_ascii_case("100-continue"))
    {
        stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|_| Problem::ClientLeft)?;
    }
    let body = read_body(stream, early_body, length).ok_or(Problem::ClientLeft)?;

    let destination = folder.join(&name);
    // Whether a name is there already: 204 then, 201 for a new file. A
    // symlink is replaced, not followed: the rename swaps the link itself.
    let replaced = fs::symlink_metadata(&destination).is_ok();
    let temporary = folder.join(temporary_name(&name));
    write_whole(&temporary, &body)
        .and_then(|()| fs::rename(&temporary, &destination))
        .map_err(|error| {
            eprintln!("could not write {}: {error}", destination.display());
            let _ = fs::remove_file(&temporary);
            Problem::Internal
        })?;
    if replaced {
        return Ok(Response::new("204 No Content"));
    }
    let mut response = Response::page("201 Created");
    // The target as it came, already escaped as a URL must be.
    response.header("Location", request.target.clone());
    Ok(response)
}

/// The `length` bytes of a body, `early` being those that came with the
/// head; `None` if the connection ends or times out before they all come.
fn read_body(stream: &mut TcpStream, mut early: Vec<u8>, length: u64) -> Option<Vec<u8>> {
    // `length` is at most MAX_UPLOAD, which fits a `usize` on every system.
    let length = length as usize;
    // Bytes past the body would be a next request; this server answers one
    // per connection, so they go.
    early.truncate(length);
    let mut body = early;
    body.reserve_exact(length - body.len());
    let mut chunk = vec![0; 64 * 1024];
    while body.len() < length {
        let want = chunk.len().min(length - body.len());
        match stream.read(&mut chunk[..want]) {
            Ok(0) => return None,
            Ok(read) => body.extend_from_slice(&chunk[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(body)
}

/// Writes a new file, and waits until its bytes are on the disk, so that the
/// rename after it can never leave the name on a file that a crash emptied.
fn write_whole(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(body)?;
    file.sync_all()
}

/// A name no one else uses, in the folder of the file it becomes: a dot (so
/// no request can name it), the name, the process and a counter (so two
/// uploads of one name at once write two files, and the last rename wins).
fn temporary_name(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.{}-{n}.part", process::id())
}

/// After the answer to an upload, reads and drops what the client still
/// sends, for a moment, before the connection closes. A socket closed with
/// unread bytes in it sends a reset, which can reach the client before it
/// has read our answer: a 413 sent before the body came would be lost.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut chunk = [0; 64 * 1024];
    let mut dropped = 0;
    while dropped < MAX_UPLOAD {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => dropped += read as u64,
        }
    }
}

/// Sends a response: the status line, the headers, a blank line, the body.
/// `with_body` is false for `HEAD`, which gets the same head, its
/// `Content-Length` too.
fn send(stream: &mut TcpStream, response: &Response, with_body: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {}\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    // A 304 and a 204 have no body, and so no length to give: a client
    // reads no body after them whatever the head says.
    let bodiless = response.status.starts_with("304") || response.status.starts_with("204");
    if !bodiless {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if with_body && !bodiless {
        stream.write_all(&response.body)?;
    }
    Ok(())
}

/// `--port PORT --root DIR [--uploads DIR]`, in any order.
fn parse_args() -> (u16, Config) {
    let mut port = None;
    let mut root = None;
    let mut uploads = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().ok(),
            ("--root", Some(value)) => root = Some(PathBuf::from(value)),
            ("--uploads", Some(value)) => uploads = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    match (port, root) {
        (Some(port), Some(root))
            if root.is_dir() && uploads.as_ref().is_none_or(|folder| folder.is_dir()) =>
        {
            (port, Config { root, uploads })
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: {} --port PORT --root DIR [--uploads DIR]\n(the uploads folder must exist)",
        env!("CARGO_PKG_NAME")
    );
    process::exit(2);
}
