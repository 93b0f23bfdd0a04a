//! What every stage needs to know to serve: the root folder, limits and timeouts.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::http::Limits;

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
}

impl Config {
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_THREADS: usize = 16;
    pub const DEFAULT_QUEUE: usize = 256;
    pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

    /// Default settings for serving `root`, which must be an existing folder.
    pub fn new(root: impl AsRef<Path>) -> Result<Config, RootError> {
        let root = root.as_ref();
        let canonical = root.canonicalize().map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => RootError::Missing(root.to_path_buf()),
            _ => RootError::Unreadable(root.to_path_buf(), error),
        })?;
        if !canonical.is_dir() {
            return Err(RootError::NotAFolder(root.to_path_buf()));
        }
        Ok(Config {
            root: canonical,
            read_timeout: Config::DEFAULT_READ_TIMEOUT,
            write_timeout: Config::DEFAULT_WRITE_TIMEOUT,
            shutdown_timeout: Config::DEFAULT_SHUTDOWN_TIMEOUT,
            threads: Config::DEFAULT_THREADS,
            queue: Config::DEFAULT_QUEUE,
            keep_alive_timeout: Config::DEFAULT_KEEP_ALIVE_TIMEOUT,
            limits: Limits::default(),
        })
    }
}

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
