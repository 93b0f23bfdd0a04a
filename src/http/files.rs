//! From a request target to a file under the root, safely.
//!
//! The report's server did `open(filename[1:])`: it took the path from the request
//! and opened it relative to wherever the server was started, so
//! `GET /../../etc/passwd` read `/etc/passwd`. Here a target goes through three
//! gates before any file is opened:
//!
//! 1. **Decode** ([`decode_path`]): percent-escapes are decoded one segment at a time,
//!    and a segment that decodes to a slash, a backslash, NUL or bytes that are not
//!    UTF-8 (such as the overlong `%c0%ae` for `.`) is refused, so `..%2f` can't
//!    smuggle a separator in. So is a name that is not one plain name on every
//!    system ([`portable_name`]): `C:x`, `file::$DATA`, `CON`, `secret.txt.`.
//! 2. **Normalise**: `.` segments are dropped and `..` removes the segment before
//!    it; a `..` with nothing left to remove climbs above the root and is refused.
//! 3. **Confine**: the file system has the last word. The path is followed one
//!    name at a time from the canonical root, and any name that is a symlink is
//!    made canonical (every link followed) and must still lie under the root.

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::compression::{self, Coding};
use super::ranges::{self, Ranged};
use super::response::Body;
use super::{Error, Method, Request, Response, StatusCode, mime, uploads, validators};
use crate::config::Config;

/// What a target names, once found.
#[derive(Debug)]
pub enum Found {
    /// A regular file, open and ready to send.
    File {
        file: File,
        path: PathBuf,
        len: u64,
        modified: Option<SystemTime>,
    },
    /// A folder asked for without its trailing slash: send the client to
    /// `location`, so that relative links inside its `index.html` work.
    Redirect { location: String },
}

// ANCHOR: respond
/// Answers a parsed request from the files under the root (and, with
/// `--uploads`, the uploads folder).
///
/// This is steps (iv) and (v) of the report: find the file, and build the response
/// that will carry it. Errors are returned, not answered: whether and how to answer
/// them is what the stages differ in.
pub fn respond(config: &Config, request: &Request) -> Result<Response, Error> {
    let reads = matches!(request.method, Method::Get | Method::Head);
    if !reads && config.uploads.is_none() {
        return Err(Error::MethodNotAllowed);
    }
    let path = decode_path(&request.target)?;
    if let Some(folder) = &config.uploads
        && let Some(names) = uploads::names(&path)
    {
        return uploads::respond(config, folder, request, &path, names);
    }
    if !reads {
        return Err(Error::MethodNotAllowed);
    }
    serve(config, &config.root, request, &path, &path.segments)
}
// ANCHOR_END: respond

/// Answers GET or HEAD with the file that `names` lead to under `root`
/// (`path` is the whole path asked for, for a redirect).
pub fn serve(
    config: &Config,
    root: &Path,
    request: &Request,
    path: &DecodedPath,
    names: &[String],
) -> Result<Response, Error> {
    match locate(root, names, path)? {
        Found::Redirect { location } => Ok(Response::redirect(location)),
        Found::File {
            file,
            path,
            len,
            modified,
        } => answer_file(config, root, request, file, &path, len, modified),
    }
}

/// One way of sending a file: its own bytes, a compressed copy made ready
/// beside it, or gzip made now.
struct Representation {
    coding: Coding,
    file: File,
    len: u64,
    modified: Option<SystemTime>,
    etag: Option<String>,
    /// Compressed now, when the body is made.
    on_the_fly: bool,
}

// ANCHOR: answer_file
/// The response for a file found: which bytes to send (compressed or not, in
/// part or whole), or `304` when the client has them already.
fn answer_file(
    config: &Config,
    root: &Path,
    request: &Request,
    file: File,
    path: &Path,
    len: u64,
    modified: Option<SystemTime>,
) -> Result<Response, Error> {
    let content_type = mime::content_type(path);
    let range = match request.method {
        Method::Get => request.header("range"),
        _ => None, // RFC 9110 §14.2: ranges are for GET alone
    };
    let compressible = config.compress && compression::is_compressible(content_type);
    let chosen = match compressible && range.is_none() {
        true => choose(root, request, path, len, modified)?,
        false => None,
    };
    let mut chosen = chosen.unwrap_or(Representation {
        coding: Coding::Identity,
        etag: modified.map(|modified| validators::etag(len, modified, "")),
        file,
        len,
        modified,
        on_the_fly: false,
    });

    let mut response = Response {
        status: StatusCode::OK,
        content_type: Some(content_type),
        last_modified: chosen.modified,
        extra_headers: vec![("Cache-Control", config.cache_control.clone())],
        body: Body::Empty,
    };
    if let Some(etag) = &chosen.etag {
        response.extra_headers.push(("ETag", etag.clone()));
    }
    if compressible {
        // Another client may get other bytes for this URL.
        response
            .extra_headers
            .push(("Vary", "Accept-Encoding".into()));
    }
    if validators::not_modified(request, chosen.etag.as_deref(), chosen.modified) {
        // A compressed body's length is not known without making it, and a
        // 304 may only give a length that is true: it gives none then.
        if chosen.coding == Coding::Identity {
            response.body = Body::File(chosen.file, chosen.len);
        }
        return Ok(response.not_modified());
    }
    if chosen.coding != Coding::Identity {
        response
            .extra_headers
            .push(("Content-Encoding", chosen.coding.name().into()));
        response.body = match chosen.on_the_fly {
            // Compressed when the response is serialized.
            true => Body::Gzip(chosen.file, chosen.len),
            false => Body::File(chosen.file, chosen.len),
        };
        return Ok(response);
    }
    response
        .extra_headers
        .push(("Accept-Ranges", "bytes".into()));
    let wanted = match range {
        Some(value) if validators::range_still_valid(request, chosen.etag.as_deref(), modified) => {
            ranges::parse(value, len)
        }
        _ => Ranged::Whole,
    };
    match wanted {
        Ranged::Whole => response.body = Body::File(chosen.file, len),
        Ranged::Part { first, last } => {
            // The part goes out as any file does (with `sendfile` where there
            // is one), from where the file is now.
            chosen
                .file
                .seek(SeekFrom::Start(first))
                .map_err(|error| Error::Internal(error.kind()))?;
            response.status = StatusCode::PARTIAL_CONTENT;
            let content_range = format!("bytes {first}-{last}/{len}");
            response
                .extra_headers
                .push(("Content-Range", content_range));
            response.body = Body::File(chosen.file, last - first + 1);
        }
        Ranged::Unsatisfiable => return Err(Error::RangeNotSatisfiable(len)),
    }
    Ok(response)
}
// ANCHOR_END: answer_file

// ANCHOR: choose
/// The compressed representation this client likes best, if it likes one
/// better than the file itself: a ready-made `.br` or `.gz` beside the file,
/// or gzip made now for a file of a size worth it.
fn choose(
    root: &Path,
    request: &Request,
    path: &Path,
    len: u64,
    modified: Option<SystemTime>,
) -> Result<Option<Representation>, Error> {
    let accept = request.header("accept-encoding");
    let mut available = Vec::new();
    for coding in [Coding::Brotli, Coding::Gzip] {
        if compression::quality(accept, coding) > 0
            && let Some(ready) = ready_made(root, path, coding)
        {
            available.push((coding, Some(ready)));
        }
    }
    let worth_it = (compression::WORTH_IT..=compression::ON_THE_FLY_LIMIT).contains(&len);
    if worth_it && !available.iter().any(|(coding, _)| *coding == Coding::Gzip) {
        available.push((Coding::Gzip, None));
    }
    let codings: Vec<Coding> = available.iter().map(|(coding, _)| *coding).collect();
    let best = compression::choose(accept, &codings);
    let Some((coding, ready)) = available.into_iter().find(|(coding, _)| *coding == best) else {
        return Ok(None); // the file itself
    };
    let suffix = format!("-{}", coding.name());
    Ok(Some(match ready {
        Some(Found::File {
            file,
            len,
            modified,
            ..
        }) => Representation {
            coding,
            etag: modified.map(|modified| validators::etag(len, modified, &suffix)),
            file,
            len,
            modified,
            on_the_fly: false,
        },
        _ => Representation {
            coding,
            // Weak, as nginx makes it: the same text, but another version
            // of the compressor may make other bytes of it.
            etag: modified
                .map(|modified| format!("W/{}", validators::etag(len, modified, &suffix))),
            file: File::open(path).map_err(|error| Error::Internal(error.kind()))?,
            len,
            modified,
            on_the_fly: true,
        },
    }))
}
// ANCHOR_END: choose

/// `style.css.gz` (or `.br`) beside `style.css`, if it is a file inside the
/// root: it is looked up as any file is, symlinks and all.
fn ready_made(root: &Path, path: &Path, coding: Coding) -> Option<Found> {
    let (parent, name) = (path.parent()?, path.file_name()?.to_str()?);
    let (sibling, metadata) = step(
        root,
        parent.to_path_buf(),
        &format!("{name}.{}", coding.extension()),
    )
    .ok()?;
    if !metadata.is_file() {
        return None;
    }
    let file = File::open(&sibling).ok()?;
    Some(Found::File {
        file,
        path: sibling,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

/// Finds the file a request target names under `root` (see the module docs).
pub fn find(root: &Path, target: &str) -> Result<Found, Error> {
    let path = decode_path(target)?;
    locate(root, &path.segments, &path)
}

/// The folder that `names` lead to under `root`, which must exist: where an
/// upload may go. Followed as when reading, so it stays under `root`.
pub fn folder(root: &Path, names: &[String]) -> Result<PathBuf, Error> {
    let mut folder = root.to_path_buf();
    for name in names {
        let (next, metadata) = step(root, folder, name)?;
        if !metadata.is_dir() {
            return Err(Error::NotFound);
        }
        folder = next;
    }
    Ok(folder)
}

// ANCHOR: find_start
/// Finds the file that `names` lead to under `root`; `path` is the path
/// asked for, for the redirect of a folder asked for without its slash.
fn locate(root: &Path, names: &[String], path: &DecodedPath) -> Result<Found, Error> {
    let mut file_path = root.to_path_buf();
    // The root is a folder (checked when the server started).
    let mut metadata = None;
    for segment in names {
        let (next, found) = step(root, file_path, segment)?;
        (file_path, metadata) = (next, Some(found));
    }
    // ANCHOR_END: find_start

    let metadata = match metadata {
        Some(metadata) if !metadata.is_dir() => {
            if path.trailing_slash {
                // `/file.html/` names a folder that does not exist.
                return Err(Error::NotFound);
            }
            metadata
        }
        // A folder (the root, when there are no names).
        _ => {
            if !path.trailing_slash {
                return Ok(Found::Redirect {
                    location: path.location(),
                });
            }
            // A folder is served by its index.html; there are no listings.
            let (index, metadata) = step(root, file_path, "index.html")?;
            file_path = index;
            metadata
        }
    };
    if !metadata.is_file() {
        // FIFOs, sockets and devices are not pages, and opening a FIFO would
        // block the thread.
        return Err(Error::NotFound);
    }

    let file = File::open(&file_path).map_err(|error| match error.kind() {
        io::ErrorKind::PermissionDenied => Error::Forbidden,
        io::ErrorKind::NotFound => Error::NotFound,
        kind => Error::Internal(kind),
    })?;
    // The length and date are those the path had a moment ago. Should the file
    // change in between, writing the response notices that it cannot send the
    // promised length, and closes the connection rather than lie.
    Ok(Found::File {
        file,
        path: file_path,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

// ANCHOR: step
/// Goes one name further down from `path`, which is inside `root`.
///
/// A name is a plain entry of the folder we are in (decoding made sure it has no
/// separator and is not `.` or `..`), so it can only lead out of the root if it
/// is a symlink. Only then do we ask the file system where it really leads
/// (`canonicalize` follows every link on the way) and check that it is still
/// under the root. Checking each step is cheaper than canonicalising the whole
/// path on every request, which costs a system call per folder from `/` down.
fn step(root: &Path, mut path: PathBuf, name: &str) -> Result<(PathBuf, fs::Metadata), Error> {
    path.push(name);
    // A name that does not exist, or a path through a file as if it were a
    // folder, is simply not found; so is one we may not look at.
    let metadata = fs::symlink_metadata(&path).map_err(|_| Error::NotFound)?;
    if !metadata.file_type().is_symlink() {
        return Ok((path, metadata));
    }
    let target = confine(root, &path)?;
    let metadata = fs::metadata(&target).map_err(|_| Error::NotFound)?;
    Ok((target, metadata))
}
// ANCHOR_END: step

/// Makes `path` canonical and checks that it is still under `root`.
// ANCHOR: confine
fn confine(root: &Path, path: &Path) -> Result<PathBuf, Error> {
    let canonical = fs::canonicalize(path).map_err(|_| Error::NotFound)?;
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        Err(Error::OutsideRoot)
    }
}
// ANCHOR_END: confine

/// A request path, decoded and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedPath {
    /// The names to follow from the root, none of them empty, `.`, `..` or
    /// containing a separator.
    pub segments: Vec<String>,
    /// Whether the path ended in `/` (it names a folder).
    pub trailing_slash: bool,
}

impl DecodedPath {
    /// The path to redirect a folder to: itself with a slash, re-encoded. Built from
    /// the decoded segments, never copied from the request, so it can't be made to
    /// start with `//` (which a browser would read as another host).
    fn location(&self) -> String {
        let mut location = String::new();
        for segment in &self.segments {
            location.push('/');
            location.push_str(&percent_encode(segment));
        }
        location.push('/');
        location
    }

    /// The path of a file, re-encoded: where an upload can be read.
    pub fn location_of_file(&self) -> String {
        let mut location = self.location();
        location.pop();
        location
    }
}

// ANCHOR: decode_path
/// Decodes the path of an origin-form (`/a/b?q`) or absolute-form
/// (`http://host/a/b?q`) request target. The query is not part of the path.
pub fn decode_path(target: &str) -> Result<DecodedPath, Error> {
    let path = if target.starts_with('/') {
        target
    } else if let Some(rest) = strip_scheme(target) {
        // Absolute form: skip the authority; an empty path means "/".
        rest.find('/').map_or("/", |slash| &rest[slash..])
    } else {
        return Err(Error::Target("it must start with `/` or `http://`"));
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();

    let mut segments: Vec<String> = Vec::new();
    let raw_segments: Vec<&str> = path.split('/').collect();
    for raw in &raw_segments {
        if raw.is_empty() {
            // `//abs/path` and `a//b`: empty segments name nothing; skipping them
            // keeps `//etc/passwd` under the root like any other path.
            continue;
        }
        let segment = percent_decode(raw)?;
        if segment.contains(['/', '\\']) {
            return Err(Error::Target("it contains an encoded slash or a backslash"));
        }
        if segment.chars().any(char::is_control) {
            return Err(Error::Target("it contains a control character"));
        }
        // ANCHOR: dot_segments
        match segment.as_str() {
            "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(Error::Target("it climbs above the root"));
                }
            }
            _ => segments.push(portable_name(segment)?),
        }
        // ANCHOR_END: dot_segments
    }
    // `/a/..` and `/a/.` name a folder just as `/a/` does.
    let last = raw_segments.last().copied().unwrap_or_default();
    let trailing_slash =
        last.is_empty() || matches!(percent_decode(last).as_deref(), Ok("." | ".."));
    Ok(DecodedPath {
        segments,
        trailing_slash,
    })
}
// ANCHOR_END: decode_path

// ANCHOR: portable_name
/// Passes `name` on only if it is one plain name on every system, so that a
/// server behaves the same wherever it runs. On Windows `Path::push("C:x")`
/// leaves the root for drive C, and the file system reads more into a name
/// than Linux does:
///
/// - a colon: `C:x` is a drive, `file.txt::$DATA` a stream of `file.txt`;
/// - a trailing dot or space, which Windows strips: `secret.txt.` opens
///   `secret.txt`, and a check made on the name the client sent is undone;
/// - a device name (`CON`, `NUL`, `COM1`...), with any extension: `nul.html`
///   is the null device in every folder, never a file.
///
/// A backslash, Windows' other separator, was refused with `/` already.
pub fn portable_name(name: String) -> Result<String, Error> {
    if name.contains(':') {
        return Err(Error::Target("it contains a colon (a drive or a stream)"));
    }
    if name.ends_with(['.', ' ']) {
        return Err(Error::Target("a name ends in a dot or a space"));
    }
    if is_device_name(&name) {
        return Err(Error::Target("it names a device (CON, NUL, COM1...)"));
    }
    Ok(name)
}
// ANCHOR_END: portable_name

/// Whether Windows reads `name` as a device: `CON`, `PRN`, `AUX`, `NUL`,
/// `COM0`-`COM9` and `LPT0`-`LPT9` (with `¹²³` too), in any case, before the
/// first dot and any spaces before it.
fn is_device_name(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (Some(prefix), Some(digit)) = (upper.get(..3), upper.get(3..)) else {
                return false;
            };
            matches!(prefix, "COM" | "LPT")
                && matches!(
                    digit,
                    "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
                )
        }
    }
}

/// `http://` or `https://`, in any case, removed; `None` when absent.
fn strip_scheme(target: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        let prefix = target.get(..scheme.len())?;
        prefix
            .eq_ignore_ascii_case(scheme)
            .then(|| &target[scheme.len()..])
    })
}

/// Decodes `%XX` escapes. The result must be UTF-8: overlong forms such as
/// `%c0%ae` are not, and are refused rather than read as `.` as some old servers
/// did. Decoding is done once: `%252e` is the three characters `%2e`, not a dot.
fn percent_decode(raw: &str) -> Result<String, Error> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .filter(|pair| pair.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or(Error::Target("it has a bad percent-escape"))?;
            let byte = u8::from_str_radix(hex, 16).expect("two hex digits always fit a byte");
            if byte == 0 {
                return Err(Error::Target("it contains an encoded NUL"));
            }
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| Error::Target("it is not valid UTF-8"))
}

/// Percent-encodes everything in a path segment but unreserved characters.
fn percent_encode(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(target: &str) -> Vec<String> {
        decode_path(target).expect(target).segments
    }

    #[test]
    fn decodes_origin_and_absolute_form() {
        assert_eq!(segments("/a/b.html?x=1"), ["a", "b.html"]);
        assert_eq!(segments("http://example.com/a/b"), ["a", "b"]);
        assert_eq!(segments("HTTP://example.com:8080/a?q"), ["a"]);
        assert_eq!(segments("http://example.com"), Vec::<String>::new());
        assert_eq!(segments("/caf%C3%A9%20menu.html"), ["café menu.html"]);
    }

    #[test]
    fn dot_segments_are_normalised_within_the_root() {
        assert_eq!(segments("/a/./b/../c"), ["a", "c"]);
        assert_eq!(segments("/a/%2e%2E/b"), ["b"]);
        assert_eq!(segments("//a///b"), ["a", "b"]);
        let folder = decode_path("/a/b/..").unwrap();
        assert_eq!(folder.segments, ["a"]);
        assert!(folder.trailing_slash);
    }

    #[test]
    fn targets_that_could_escape_are_refused() {
        for target in [
            "/..",
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/..%2fetc%2fpasswd",
            "/..%5c..%5cetc%5cpasswd",
            "/..\\..\\etc\\passwd",
            "/%c0%ae%c0%ae/etc/passwd",
            "/%c0%af",
            "/index.html%00.png",
            "/a%",
            "/a%zz",
            "/a%0a",
            "*",
            "etc/passwd",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(decode_path(target), Err(Error::Target(_))),
                "{target} should be refused"
            );
        }
    }

    /// Each family of name that Windows reads as more than a name, refused on
    /// every system (a server tested on Linux behaves so on Windows too).
    #[test]
    fn names_windows_reads_differently_are_refused() {
        let families: [(&str, &[&str]); 6] = [
            (
                "a drive",
                &[
                    "/C:",
                    "/C:x",
                    "/c:/windows/win.ini",
                    "/C%3A%5Cx",
                    "/sub/D:..%5Csecret.txt",
                ],
            ),
            (
                "a stream",
                &[
                    "/secret.txt::$DATA",
                    "/index.html:stream",
                    "/sub::$INDEX_ALLOCATION/page.html",
                ],
            ),
            (
                "a UNC or device path",
                &[
                    "/%5C%5C%3F%5CC%3A%5Cx",
                    "/%5C%5Cserver%5Cshare",
                    "/%5C%5C.%5Cpipe%5Cx",
                    "/..%5Csecret.txt",
                ],
            ),
            (
                "a trailing dot",
                &["/secret.txt.", "/index.html..", "/sub./page.html", "/..."],
            ),
            (
                "a trailing space",
                &["/secret.txt%20", "/sub%20/page.html", "/index.html%20.%20"],
            ),
            (
                "a device name",
                &[
                    "/CON",
                    "/nul",
                    "/nul.html",
                    "/Com1.txt",
                    "/lpt9",
                    "/aux%20.css",
                    "/COM%C2%B9",
                    "/sub/prn.tar.gz",
                    "/conin$",
                ],
            ),
        ];
        for (family, targets) in families {
            for target in targets {
                assert!(
                    matches!(decode_path(target), Err(Error::Target(_))),
                    "{target} ({family}) should be refused"
                );
            }
        }
    }

    /// Names near those families are plain names, and pass.
    #[test]
    fn plain_names_near_them_pass() {
        for (target, name) in [
            ("/.hidden", ".hidden"),
            ("/a.b.c", "a.b.c"),
            ("/console.html", "console.html"),
            ("/com10", "com10"),
            ("/null", "null"),
            ("/lpt", "lpt"),
            ("/caf%C3%A9%20menu.txt", "café menu.txt"),
            ("/%20leading", " leading"),
        ] {
            assert_eq!(segments(target), [name], "{target}");
        }
    }

    #[test]
    fn double_encoding_is_decoded_once() {
        assert_eq!(segments("/%252e%252e/x"), ["%2e%2e", "x"]);
    }

    #[test]
    fn redirect_locations_are_rebuilt_not_copied() {
        let path = decode_path("//evil.example/a%20b").unwrap();
        assert_eq!(path.location(), "/evil.example/a%20b/");
    }
}
