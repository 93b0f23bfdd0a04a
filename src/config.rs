//! What every stage needs to know to serve: the root folder, limits and timeouts.

use std::fmt;
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
#[derive(Debug)]
pub enum RootError {
    /// There is no such folder.
    Missing(PathBuf),
    /// It exists but is a file.
    NotAFolder(PathBuf),
    /// It could not be looked at (permissions, usually).
    Unreadable(PathBuf, io::Error),
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootError::Missing(path) => {
                write!(f, "root folder `{}` does not exist", path.display())
            }
            RootError::NotAFolder(path) => write!(f, "root `{}` is not a folder", path.display()),
            RootError::Unreadable(path, error) => {
                write!(
                    f,
                    "root folder `{}` cannot be read: {error}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for RootError {}
