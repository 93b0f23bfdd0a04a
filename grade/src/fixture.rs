//! The site a graded server serves, written fresh for every run.
//!
//! Every file's contents are random, so a server that hard-codes its answers
//! fails. The files are chosen to catch the report's mistakes: text with
//! non-ASCII characters (a `Content-Length` counted in characters is short) and
//! CRLF line ends (a file read in text mode loses its `\r`), binary files holding
//! every byte value (a file decoded as text is mangled), a sub-folder, an
//! `error.html`, names with a space and with capitals, and a sentinel file
//! *beside* the root that no request may reach.
//!
//! Every file holds a token of its own, a random word in ASCII: a check that
//! is not about exact bytes asks whether the token of the right file came
//! back, so that a server that rewrites line ends fails `text-files` alone,
//! not every check that fetches a text file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::random::Rng;

/// The front page: HTML with CRLF line ends and non-ASCII text.
pub const INDEX: &str = "index.html";
/// A stylesheet with LF line ends and non-ASCII text.
pub const STYLE: &str = "style.css";
/// Plain text beside the pages: a server that knows only the types of its
/// pages fails `text-files` for it.
pub const NOTES: &str = "notes.txt";
/// A PNG signature followed by random bytes.
pub const IMAGE: &str = "image.png";
/// A few hundred kilobytes holding every byte value.
pub const DATA: &str = "data.bin";
/// A page one folder down.
pub const SUB_PAGE: &str = "sub/page.html";
/// A text file two folders down.
pub const SUB_NOTES: &str = "sub/deeper/notes.txt";
/// A name with a space, asked for as `two%20words.html`. A page, as the
/// other files `paths` asks for are: a server that fails on `.txt` files
/// fails `text-files` for it, not `paths`.
pub const SPACED: &str = "two words.html";
/// A name whose case must be kept: a server that lower-cases paths misses it.
pub const MIXED_CASE: &str = "Mixed-Case.html";
/// The page a missing file is answered with, from stage 3 on.
pub const ERROR_PAGE: &str = "error.html";
/// A file big enough that sending it takes many writes, for the Ctrl-C checks.
pub const BIG: &str = "big.bin";

/// How big [`BIG`] is: far more than the socket buffers on both sides hold
/// (a few megabytes on Linux), so a server that is killed while sending it
/// cannot have handed it all to the kernel yet.
pub const BIG_LEN: usize = 16 * 1024 * 1024;

/// The folder beside `root` that a server started with `{uploads}` in its
/// command writes uploads to. Beside the root, not in it, so that an upload
/// can never overwrite a file of the site, and a name that climbs out of it
/// is seen in the folder that holds both.
pub fn uploads_folder(root: &Path) -> PathBuf {
    root.with_file_name("uploads")
}

/// Marks a folder the grader has written its files into, so that a run that was
/// interrupted before it cleaned up can be graded into again.
const MARKER: &str = ".multithreaded-server-grade";

/// One file of the site and what it holds.
#[derive(Debug)]
pub struct SiteFile {
    /// The path under the root, with `/` separators.
    pub path: &'static str,
    pub bytes: Vec<u8>,
    /// The media type a server should send for it (`Content-Type` without parameters).
    pub media_type: &'static str,
    /// A random word that is in this file and in no other (in the big file,
    /// at its start and at its end).
    pub token: String,
}

impl SiteFile {
    /// Whether `bytes` hold this file's token: it came back, whatever a
    /// server did to its line ends or its other bytes.
    pub fn is_in(&self, bytes: &[u8]) -> bool {
        crate::response::find(bytes, self.token.as_bytes()).is_some()
    }

    /// Whether `bytes` hold this file's token twice, as the big file does at
    /// its start and at its end: the whole file came, not its beginning.
    pub fn is_whole_in(&self, bytes: &[u8]) -> bool {
        let token = self.token.as_bytes();
        bytes.len() >= 2 * token.len()
            && bytes.starts_with(token)
            && crate::response::find(&bytes[bytes.len() - token.len()..], token).is_some()
    }
}

/// The files written for one run, and where.
#[derive(Debug)]
pub struct Fixture {
    /// The folder the server must serve.
    pub root: PathBuf,
    /// A file beside the root; its contents must never come back.
    pub sentinel: PathBuf,
    pub sentinel_text: String,
    /// The random word in the sentinel: any response that holds it leaked it.
    pub sentinel_token: String,
    /// A random word in every file, also used to make names no server can know.
    pub token: String,
    files: Vec<SiteFile>,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    /// A folder of our own: remove all of it.
    Folder(PathBuf),
    /// Someone else's folder: remove only what we wrote.
    Files(Vec<PathBuf>),
}

/// Why the fixture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// `--root` names a folder that does not exist.
    #[error("`{}` is not a folder; create an empty one and start the server on it", .0.display())]
    Missing(PathBuf),
    /// `--root` names a folder that holds files of its own.
    #[error("`{}` is not empty; the grader writes its own files there, so give it an empty folder", .0.display())]
    NotEmpty(PathBuf),
    /// Writing a file failed.
    #[error("cannot write `{}`: {error}", .path.display())]
    Write { path: PathBuf, error: io::Error },
}

/// Folders made by [`Fixture::temporary`] and not removed yet, for
/// [`remove_temporary`].
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary site still on disk: for the grader's Ctrl-C
/// handler, as the process then exits without running destructors.
pub fn remove_temporary() {
    let folders = std::mem::take(&mut *TEMPORARY.lock().unwrap_or_else(PoisonError::into_inner));
    for folder in folders {
        let _ = fs::remove_dir_all(folder);
    }
}

impl Fixture {
    /// Writes a site into a new folder under the system's temporary folder, with
    /// the sentinel beside it. Everything is removed when the fixture is dropped.
    pub fn temporary(with_big_file: bool) -> Result<Fixture, FixtureError> {
        let mut rng = Rng::new();
        let dir = std::env::temp_dir().join(format!(
            "multithreaded-server-grade-{}-{}",
            std::process::id(),
            rng.token()
        ));
        let root = dir.join("site");
        TEMPORARY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(dir.clone());
        make_dir(&root)?;
        let mut fixture = Fixture::write(root, rng, with_big_file, Vec::new())?;
        fixture.cleanup = Cleanup::Folder(dir);
        Ok(fixture)
    }

    /// Writes a site into `root`, a folder a running server already serves,
    /// which must be empty (or hold only what an earlier run left). The sentinel
    /// goes into the folder that holds `root`. Only what was written is removed
    /// when the fixture is dropped.
    pub fn in_folder(root: &Path, with_big_file: bool) -> Result<Fixture, FixtureError> {
        let entries: Vec<_> = fs::read_dir(root)
            .map_err(|_| FixtureError::Missing(root.to_path_buf()))?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .collect();
        let ours = entries.iter().any(|name| name == MARKER);
        if !entries.is_empty() && !ours {
            return Err(FixtureError::NotEmpty(root.to_path_buf()));
        }
        let root = root.canonicalize().map_err(|error| FixtureError::Write {
            path: root.to_path_buf(),
            error,
        })?;
        let marker = root.join(MARKER);
        write_file(
            &marker,
            b"written by `multithreaded-server grade`; safe to delete\n",
        )?;
        Fixture::write(root, Rng::new(), with_big_file, vec![marker])
    }

    fn write(
        root: PathBuf,
        mut rng: Rng,
        with_big_file: bool,
        mut written: Vec<PathBuf>,
    ) -> Result<Fixture, FixtureError> {
        let token = rng.token();
        let parent = root.parent().unwrap_or(Path::new("/")).to_path_buf();
        let sentinel = parent.join(format!("grade-sentinel-{token}.txt"));
        let sentinel_token = rng.token();
        let sentinel_text = format!("SENTINEL {sentinel_token} {}", rng.token());
        write_file(&sentinel, sentinel_text.as_bytes())?;
        written.push(sentinel.clone());

        let mut files = site_files(&mut rng, &token);
        if with_big_file {
            let token = rng.token();
            let bytes = [
                token.as_bytes(),
                &rng.bytes(BIG_LEN - 2 * token.len()),
                token.as_bytes(),
            ]
            .concat();
            files.push(SiteFile {
                path: BIG,
                bytes,
                media_type: "application/octet-stream",
                token,
            });
        }
        for file in &files {
            let path = root.join(file.path);
            if let Some(folder) = path.parent() {
                make_dir(folder)?;
            }
            write_file(&path, &file.bytes)?;
            written.push(path);
        }
        // Folders last, deepest first, so they are empty when their turn comes.
        written.push(root.join("sub/deeper"));
        written.push(root.join("sub"));
        Ok(Fixture {
            root,
            sentinel,
            sentinel_text,
            sentinel_token,
            token,
            files,
            cleanup: Cleanup::Files(written),
        })
    }

    /// Makes the empty folder uploads go to, beside the root
    /// ([`uploads_folder`]). It goes when the rest does.
    pub fn make_uploads_folder(&self) -> Result<PathBuf, FixtureError> {
        let folder = uploads_folder(&self.root);
        make_dir(&folder)?;
        Ok(folder)
    }

    /// The file at `path` (one of the constants of this module).
    ///
    /// # Panics
    ///
    /// If the fixture has no such file: a check asking for one is a bug.
    pub fn file(&self, path: &str) -> &SiteFile {
        self.files
            .iter()
            .find(|file| file.path == path)
            .unwrap_or_else(|| panic!("the fixture has no `{path}`"))
    }

    /// Every file of the site.
    pub fn files(&self) -> &[SiteFile] {
        &self.files
    }

    /// The file of the site whose token `bytes` hold, if any.
    pub fn file_in(&self, bytes: &[u8]) -> Option<&SiteFile> {
        self.files.iter().find(|file| file.is_in(bytes))
    }

    /// The file name of the sentinel, for requests that try to climb to it.
    pub fn sentinel_name(&self) -> String {
        self.sentinel
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Removes what was written. Grading calls it when done, even if a check
    /// that ran out of time still holds the fixture; dropping it does too.
    pub fn remove(&self) {
        match &self.cleanup {
            Cleanup::Folder(dir) => {
                let _ = fs::remove_dir_all(dir);
                TEMPORARY
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|folder| folder != dir);
            }
            Cleanup::Files(paths) => {
                for path in paths {
                    let _ = fs::remove_file(path).or_else(|_| fs::remove_dir(path));
                }
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The site's files, with fresh random contents.
fn site_files(rng: &mut Rng, token: &str) -> Vec<SiteFile> {
    let mut tokens = std::iter::repeat_with(|| rng.token())
        .take(10)
        .collect::<Vec<_>>();
    let mut mine = move || tokens.pop().expect("a token for each file");
    let paragraphs: String = (0..5 + rng.below(30))
        .map(|_| format!("<p>{} {}</p>\r\n", rng.token(), rng.token()))
        .collect();
    let index_token = mine();
    let index = format!(
        "<!doctype html>\r\n<html lang=\"en\">\r\n<head><meta charset=\"utf-8\">\
         <title>Grading {token}</title><link rel=\"stylesheet\" href=\"style.css\"></head>\r\n\
         <body>\r\n<h1>Café ✓ {index_token}</h1>\r\n{paragraphs}<img src=\"image.png\" alt=\"\">\r\n\
         </body>\r\n</html>\r\n"
    );
    let rules: String = (0..3 + rng.below(20))
        .map(|n| format!(".c{n} {{ color: #{:06x}; }}\n", rng.next_u64() & 0xff_ffff))
        .collect();
    let style_token = mine();
    let style = format!("/* {style_token} */\nh1::after {{ content: \" → ✓\"; }}\n{rules}");
    let image_token = mine();
    let image_len = 1024 + rng.below(8 * 1024);
    let image = [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        image_token.clone().into_bytes(),
        rng.bytes(image_len),
    ]
    .concat();
    // At least 256 bytes, so every byte value is there (see `Rng::bytes`).
    let data_token = mine();
    let data_len = 100 * 1024 + rng.below(200 * 1024);
    let data = [data_token.clone().into_bytes(), rng.bytes(data_len)].concat();
    // The files below are ASCII with LF line ends on purpose: a server that gets
    // text wrong should fail the text checks, not these.
    let page_token = mine();
    let sub_page = format!("<!doctype html>\n<title>Sub page</title>\n<p>sub {page_token}</p>\n");
    let notes_token = mine();
    let notes = format!("notes {notes_token}\n{}\n", rng.token());
    let top_notes_token = mine();
    let top_notes = format!(
        "notes {top_notes_token}\n{}\n{}\n",
        rng.token(),
        rng.token()
    );
    let error_token = mine();
    let error = format!(
        "<!doctype html>\n<title>Not found</title>\n<h1>Nothing here</h1>\n<p>{error_token} {}</p>\n",
        rng.token()
    );
    let spaced_token = mine();
    let spaced =
        format!("<!doctype html>\n<title>Two words</title>\n<p>two words {spaced_token}</p>\n");
    let mixed_token = mine();
    let mixed = format!("<!doctype html>\n<title>Mixed case</title>\n<p>{mixed_token}</p>\n");
    vec![
        text(INDEX, index, "text/html", index_token),
        text(STYLE, style, "text/css", style_token),
        text(NOTES, top_notes, "text/plain", top_notes_token),
        SiteFile {
            path: IMAGE,
            bytes: image,
            media_type: "image/png",
            token: image_token,
        },
        SiteFile {
            path: DATA,
            bytes: data,
            media_type: "application/octet-stream",
            token: data_token,
        },
        text(SUB_PAGE, sub_page, "text/html", page_token),
        text(SUB_NOTES, notes, "text/plain", notes_token),
        text(ERROR_PAGE, error, "text/html", error_token),
        text(SPACED, spaced, "text/html", spaced_token),
        text(MIXED_CASE, mixed, "text/html", mixed_token),
    ]
}

fn text(path: &'static str, contents: String, media_type: &'static str, token: String) -> SiteFile {
    SiteFile {
        path,
        bytes: contents.into_bytes(),
        media_type,
        token,
    }
}

fn make_dir(path: &Path) -> Result<(), FixtureError> {
    fs::create_dir_all(path).map_err(|error| FixtureError::Write {
        path: path.to_path_buf(),
        error,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FixtureError> {
    fs::write(path, bytes).map_err(|error| FixtureError::Write {
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_fixtures_differ_and_clean_up_after_themselves() {
        let first = Fixture::temporary(false).unwrap();
        let second = Fixture::temporary(false).unwrap();
        assert_ne!(first.file(INDEX).bytes, second.file(INDEX).bytes);
        assert_ne!(first.file(DATA).bytes, second.file(DATA).bytes);
        for file in first.files() {
            assert_eq!(fs::read(first.root.join(file.path)).unwrap(), file.bytes);
        }
        assert_eq!(first.sentinel.parent(), first.root.parent());
        let dir = first.root.parent().unwrap().to_path_buf();
        drop(first);
        assert!(!dir.exists());
    }

    #[test]
    fn text_files_are_made_to_catch_text_mistakes() {
        let fixture = Fixture::temporary(false).unwrap();
        let index = &fixture.file(INDEX).bytes;
        let text = String::from_utf8(index.clone()).unwrap();
        assert!(text.chars().count() < index.len(), "non-ASCII text");
        assert!(text.contains("\r\n"), "CRLF line ends");
        let data = &fixture.file(DATA).bytes;
        assert!((0..=255).all(|byte| data.contains(&byte)));
    }

    #[test]
    fn a_folder_in_use_is_refused_and_an_empty_one_is_left_empty() {
        let holder = Fixture::temporary(false).unwrap();
        let dir = holder.root.parent().unwrap().join("served");
        fs::create_dir(&dir).unwrap();
        {
            let fixture = Fixture::in_folder(&dir, false).unwrap();
            assert!(dir.join(SUB_NOTES).is_file());
            assert!(fixture.sentinel.is_file());
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::write(dir.join("mine.txt"), "x").unwrap();
        assert!(matches!(
            Fixture::in_folder(&dir, false),
            Err(FixtureError::NotEmpty(_))
        ));
    }
}
