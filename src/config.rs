//! What every stage needs to know to serve: the root folder, limits and timeouts,
//! and how a time is written (`10s`, `500ms`) wherever one is given.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings a stage serves with. One `Config` is shared (in an `Arc`) by every
/// thread of a server.
#[derive(Clone, Debug)]
pub struct Config {
    /// The folder being served, canonical: no `..`, no symlinks, absolute. Every
    /// file served must be under it after its own symlinks are followed.
    pub root: PathBuf,
    /// The whole request head must arrive within this time (408 after it).
    pub read_timeout: Duration,
    /// A client that stops reading our response is dropped after this long.
    pub write_timeout: Duration,
    /// On Ctrl-C, how long to wait for responses still being sent (from `daemon-join`).
    pub shutdown_timeout: Duration,
    /// How many worker threads serve clients (from `thread-pool`).
    pub threads: usize,
    /// How many accepted connections may wait for a free worker before new ones
    /// are turned away with `503` (from `thread-pool`).
    pub queue: usize,
    /// How long an open connection may sit idle between requests (`keep-alive`).
    pub keep_alive_timeout: Duration,
    pub limits: Limits,
    /// The folder `PUT /uploads/NAME` writes to and `GET /uploads/NAME` reads
    /// from, canonical; `None` (the default) when uploads are off.
    pub uploads: Option<PathBuf>,
    /// The `Cache-Control` sent with every file (`--cache-control`).
    pub cache_control: String,
    /// Whether text files are compressed for clients that accept it.
    pub compress: bool,
}

impl Config {
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_THREADS: usize = 16;
    pub const DEFAULT_QUEUE: usize = 256;
    pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
    /// A browser may keep a file, but must ask again before each use: cheaply,
    /// with the file's `ETag` or date, answered by a `304` without a body.
    /// Without it, a browser guesses how long a file stays fresh from its age,
    /// and shows the old version of a page you have just edited.
    pub const DEFAULT_CACHE_CONTROL: &str = "no-cache";

    /// Default settings for serving `root`, which must be an existing folder.
    pub fn new(root: impl AsRef<Path>) -> Result<Config, RootError> {
        let canonical = canonical_folder(root.as_ref())?;
        Ok(Config {
            root: canonical,
            read_timeout: Config::DEFAULT_READ_TIMEOUT,
            write_timeout: Config::DEFAULT_WRITE_TIMEOUT,
            shutdown_timeout: Config::DEFAULT_SHUTDOWN_TIMEOUT,
            threads: Config::DEFAULT_THREADS,
            queue: Config::DEFAULT_QUEUE,
            keep_alive_timeout: Config::DEFAULT_KEEP_ALIVE_TIMEOUT,
            limits: Limits::default(),
            uploads: None,
            cache_control: Config::DEFAULT_CACHE_CONTROL.to_owned(),
            compress: true,
        })
    }

    /// Turns uploads on, into `folder`, which must be an existing folder.
    /// Bodies of uploads are then kept, up to [`Limits::UPLOAD`].
    pub fn with_uploads(mut self, folder: impl AsRef<Path>) -> Result<Config, RootError> {
        let folder = folder.as_ref();
        let canonical =
            canonical_folder(folder).map_err(|_| RootError::Uploads(folder.to_path_buf()))?;
        self.uploads = Some(canonical);
        self.limits.upload = Limits::UPLOAD;
        Ok(self)
    }
}

/// `folder`, canonical, if it is a folder we can look at.
fn canonical_folder(folder: &Path) -> Result<PathBuf, RootError> {
    let canonical = folder.canonicalize().map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => RootError::Missing(folder.to_path_buf()),
        _ => RootError::Unreadable(folder.to_path_buf(), error),
    })?;
    if !canonical.is_dir() {
        return Err(RootError::NotAFolder(folder.to_path_buf()));
    }
    Ok(canonical)
}

/// Checks a `Cache-Control` value given on the command line: it goes into
/// every response as it is, so it must be one line of visible text.
pub fn parse_cache_control(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a Cache-Control value cannot be empty (try no-cache or max-age=60)".into());
    }
    if !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(format!(
            "`{}` is not a header value: visible ASCII only",
            text.escape_debug()
        ));
    }
    Ok(text.to_owned())
}

/// Hard limits on what a client may make us hold in memory for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line, in bytes (larger: `414 URI Too Long`).
    pub request_line: usize,
    /// Largest header block after the request line, in bytes (larger: `431`).
    pub header_bytes: usize,
    /// Most header lines (more: `431 Request Header Fields Too Large`).
    pub header_count: usize,
    /// Largest request body we will read and throw away (larger: `413`). GET and
    /// HEAD have no use for a body, but one must be read past before the next
    /// request on the same connection.
    pub body: u64,
    /// Largest body kept, in memory, for an upload (larger: `413`); 0 when
    /// uploads are off, and then no body is ever kept.
    pub upload: u64,
}

impl Limits {
    /// The largest upload when uploads are on: 16 MiB. Each upload under way
    /// holds its body in memory until it is whole (see "Request bodies").
    pub const UPLOAD: u64 = 16 * 1024 * 1024;
}

// ANCHOR: limits
impl Default for Limits {
    /// The limits most servers use: 8 KiB for the request line, as nginx and Apache.
    fn default() -> Self {
        Limits {
            request_line: 8 * 1024,
            header_bytes: 16 * 1024,
            header_count: 100,
            body: 1024 * 1024,
            upload: 0,
        }
    }
}
// ANCHOR_END: limits

/// Why a folder cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// There is no such folder.
    #[error("root folder `{}` does not exist", .0.display())]
    Missing(PathBuf),
    /// It exists but is a file.
    #[error("root `{}` is not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// It could not be looked at (permissions, usually).
    #[error("root folder `{}` cannot be read: {}", .0.display(), .1)]
    Unreadable(PathBuf, io::Error),
    /// The folder given to `--uploads` is not one we can write to.
    #[error("uploads folder `{}` is not an existing folder", .0.display())]
    Uploads(PathBuf),
}

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds (`1.5`): how every
/// time the course takes is written, on its command line and in its tests.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("unknown unit `{unit}` (use ms, s or m)")),
    };
    // Zero would mean "no time at all" to some calls and "wait for ever" to
    // others (a socket timeout of zero is refused); and a deadline must fit in
    // an `Instant`. A day is far more than any of these needs.
    const MAX: Duration = Duration::from_secs(24 * 60 * 60);
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if duration.is_zero() => Err(format!("`{text}`: a time must be more than 0")),
        Ok(duration) if duration <= MAX => Ok(duration),
        _ => Err(format!("`{text}` is too long (at most a day, 1440m)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("0").is_err(), "zero is no timeout");
        assert!(parse_duration("0ms").is_err());
        assert!(
            parse_duration("0.000000000001").is_err(),
            "less than a nanosecond"
        );
        assert_eq!(parse_duration("1440m"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("1441m").is_err());
        assert!(
            parse_duration("10000000000000000000").is_err(),
            "overflows an Instant"
        );
    }

    /// The one line `main` prints for a root it cannot serve.
    #[test]
    fn a_root_that_cannot_be_served_says_why_in_one_line() {
        let missing = Config::new("/no/such/folder").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "root folder `/no/such/folder` does not exist"
        );
        let file = Config::new(file!()).unwrap_err();
        assert_eq!(file.to_string(), "root `src/config.rs` is not a folder");
        let unreadable = RootError::Unreadable(
            PathBuf::from("site"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            unreadable.to_string(),
            "root folder `site` cannot be read: permission denied"
        );
    }
}
