//! Uploads: `PUT /uploads/NAME` writes a file, `DELETE` removes it, and
//! `GET /uploads/NAME` reads it back. Off unless the server was started with
//! `--uploads DIR`; then `/uploads/` is that folder.
//!
//! Writing is where a server is easiest to turn against its own machine, so
//! the rules are those of reading, and then some:
//!
//! 1. **The same safe names.** A target is decoded and normalised by
//!    [`files::decode_path`], so `..`, encoded slashes and every name Windows
//!    reads as more than a name (`C:x`, `x::$DATA`, `CON`, `x.`) are refused
//!    before anything is written; each folder on the way is followed as when
//!    reading, and must stay inside the uploads folder.
//! 2. **No new folders**: a file may go only into a folder that exists.
//! 3. **Whole or not at all.** The body is written to a temporary file in the
//!    same folder, flushed to the disk, and renamed over the name, which is
//!    atomic: a reader sees the old file or the new one, never half of one. A
//!    cut connection never reaches the writing, because the body is read
//!    whole first. Temporary names start with a dot, and in the uploads
//!    folder a name that starts with a dot cannot be asked for, written or
//!    removed.
//!
//! The answer is `201 Created` with the file's `Location` for a new file,
//! and `204 No Content` for one replaced or removed.
//!
//! **What it still leaves out.** The body is held in memory until it is
//! whole, up to [`crate::config::Limits::UPLOAD`] (16 MiB) an upload: a
//! server that takes large files writes the body to a temporary file as it
//! comes (nginx's `client_body_temp_path`), and anyone may upload: a real one
//! asks who is asking (`401`, `403`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::files::{self, DecodedPath};
use super::{Error, Method, Request, Response, StatusCode};
use crate::config::{Config, Limits};

/// The folder in URLs: `/uploads/NAME`.
pub const PREFIX: &str = "uploads";

/// Whether the session should keep this request's body: a `PUT` into the
/// uploads folder, with uploads on. Every other body is read past and
/// thrown away.
pub fn keeps_body(request: &Request, limits: &Limits) -> bool {
    limits.upload > 0
        && request.method == Method::Put
        && files::decode_path(&request.target).is_ok_and(|path| names(&path).is_some())
}

/// The names after `/uploads/`, if the path is in the uploads folder.
pub fn names(path: &DecodedPath) -> Option<&[String]> {
    match path.segments.split_first() {
        Some((first, rest)) if first == PREFIX => Some(rest),
        _ => None,
    }
}

// ANCHOR: respond
/// Answers a request for `/uploads/...`, `names` being the names after it,
/// from `folder`, the canonical uploads folder.
pub fn respond(
    config: &Config,
    folder: &Path,
    request: &Request,
    path: &DecodedPath,
    names: &[String],
) -> Result<Response, Error> {
    if names.iter().any(|name| name.starts_with('.')) {
        return Err(Error::Target(
            "a name in the uploads folder starts with a dot",
        ));
    }
    match request.method {
        Method::Get | Method::Head => files::serve(config, folder, request, path, names),
        Method::Put => put(folder, path, names, &request.body),
        Method::Delete => delete(folder, names),
        _ => Err(Error::UploadMethod),
    }
}
// ANCHOR_END: respond

/// The folder a new file goes in, which must exist under `folder`, and the
/// file's name. The path to it is followed as when reading, so that no
/// symlink can lead the write out of the uploads folder.
fn place(folder: &Path, names: &[String]) -> Result<(PathBuf, String), Error> {
    let Some((name, parents)) = names.split_last() else {
        return Err(Error::Target("an upload needs a name"));
    };
    let parent = files::folder(folder, parents)?;
    Ok((parent, name.clone()))
}

// ANCHOR: put
/// Writes `body` as the file `names` lead to: to a temporary file first,
/// then renamed over the name.
fn put(
    folder: &Path,
    path: &DecodedPath,
    names: &[String],
    body: &[u8],
) -> Result<Response, Error> {
    if path.trailing_slash {
        return Err(Error::Target("an upload needs a name, not a folder"));
    }
    let (parent, name) = place(folder, names)?;
    let destination = parent.join(&name);
    // What the name is now: nothing (201), a file (204), or a folder (409).
    // A symlink is replaced, not followed: the rename swaps the link itself.
    let replaced = match fs::symlink_metadata(&destination) {
        Ok(metadata) if metadata.is_dir() => return Err(Error::Conflict),
        Ok(_) => true,
        Err(_) => false,
    };
    let temporary = parent.join(temporary_name(&name));
    write_whole(&temporary, body)
        .and_then(|()| fs::rename(&temporary, &destination))
        .map_err(|error| {
            let _ = fs::remove_file(&temporary);
            Error::Internal(error.kind())
        })?;
    if replaced {
        return Ok(Response::empty(StatusCode::NO_CONTENT));
    }
    let location = path.location_of_file();
    let mut response = Response::page(
        StatusCode::CREATED,
        &format!("Uploaded <a href=\"{location}\">{location}</a>."),
    );
    response.extra_headers.push(("Location", location));
    Ok(response)
}
// ANCHOR_END: put

/// Writes a new file, and waits until its bytes are on the disk, so that the
/// rename after it can never leave a name on a file that a crash emptied.
fn write_whole(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(body)?;
    file.sync_all()
}

/// A name no one else uses: a dot (so no request can name it), the name,
/// the process and a counter.
fn temporary_name(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.{}-{n}.part", std::process::id())
}

/// Removes the file `names` lead to.
fn delete(folder: &Path, names: &[String]) -> Result<Response, Error> {
    let (parent, name) = place(folder, names)?;
    let path = parent.join(name);
    match fs::symlink_metadata(&path) {
        Ok(metadata) if metadata.is_dir() => Err(Error::Conflict),
        Ok(_) => match fs::remove_file(&path) {
            Ok(()) => Ok(Response::empty(StatusCode::NO_CONTENT)),
            Err(error) => Err(Error::Internal(error.kind())),
        },
        Err(_) => Err(Error::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(target: &str) -> DecodedPath {
        files::decode_path(target).unwrap()
    }

    #[test]
    fn only_the_uploads_folder_is_the_uploads_folder() {
        assert_eq!(
            names(&path("/uploads/a.txt")),
            Some(&["a.txt".to_owned()][..])
        );
        assert_eq!(names(&path("/uploads/")), Some(&[][..]));
        assert_eq!(names(&path("/x/../uploads/a")), Some(&["a".to_owned()][..]));
        assert_eq!(names(&path("/uploads/../a")), None);
        assert_eq!(names(&path("/uploadsx/a")), None);
        assert_eq!(names(&path("/a/uploads/b")), None);
    }

    #[test]
    fn temporary_names_start_with_a_dot_and_never_repeat() {
        let (a, b) = (temporary_name("x.txt"), temporary_name("x.txt"));
        assert!(a.starts_with(".x.txt.") && a.ends_with(".part"), "{a}");
        assert_ne!(a, b);
    }
}
