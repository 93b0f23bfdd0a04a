//! Properties of the HTTP core that must hold for every input, checked on
//! thousands of generated ones (with `proptest`, which also shrinks a failure to
//! a small example):
//!
//! - the request parser never panics, whatever the bytes;
//! - how the bytes of a head are split into reads never changes the outcome;
//! - a request target, however built, never resolves to a file outside the root;
//! - an upload, whatever its name, never writes outside the uploads folder;
//! - a chunked body reads the same however it is split, within its limit;
//! - a byte range never reaches outside the file, and no `Accept-Encoding`
//!   makes negotiation panic.
//!
//! The generators build inputs from pieces that matter to HTTP (CRLF, colons,
//! `%2e`, `..`, symlink names) as well as raw bytes, so most cases get past the
//! first byte instead of failing there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRunner};

use multithreaded_server::http::body::{BodyReader, Framing};
use multithreaded_server::http::compression::{self, Coding};
use multithreaded_server::http::files::{self, Found};
use multithreaded_server::http::ranges::{self, Ranged};
use multithreaded_server::http::request::{HeadScanner, Status, parse, parse_head};
use multithreaded_server::http::{Error, Limits, request};
use multithreaded_server::{Config, http};

use grade::checks::stage1_single_threaded::no_traversal::CLIMBS;

use crate::support::hardening::{MORE_TRAVERSALS, WINDOWS_NAMES, add_escape_routes, aimed};
use crate::support::{Site, symlink};

/// Small limits, so that generated heads run into every one of them.
const SMALL: Limits = Limits {
    request_line: 48,
    header_bytes: 96,
    header_count: 4,
    body: 100,
    upload: 0,
};

/// Bytes a request head is made of, with some that have no business in one.
fn head_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"GET".to_vec()),
        Just(b"HEAD".to_vec()),
        Just(b"get".to_vec()),
        Just(b" ".to_vec()),
        Just(b"/".to_vec()),
        Just(b"/index.html".to_vec()),
        Just(b"%2e%2E".to_vec()),
        Just(b"%".to_vec()),
        Just(b"http://h".to_vec()),
        Just(b"HTTP/1.1".to_vec()),
        Just(b"HTTP/1.0".to_vec()),
        Just(b"HTTP/2.0".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\t".to_vec()),
        Just(b":".to_vec()),
        Just(b"Host".to_vec()),
        Just(b"Content-Length".to_vec()),
        Just(b"Transfer-Encoding".to_vec()),
        Just(b"Connection".to_vec()),
        Just(b",".to_vec()),
        Just(b"0".to_vec()),
        Just(b"18446744073709551616".to_vec()),
        Just("é".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 1..4),
    ]
}

/// A sequence of pieces, or plain random bytes.
fn head_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(head_piece(), 0..60).prop_map(|pieces| pieces.concat()),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// A well-formed request head: method, target, version, a few headers.
fn valid_head() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![Just("GET"), Just("HEAD"), Just("POST"), Just("BREW")];
    let target = "/[a-z0-9._~%/-]{0,40}(\\?[a-z=&]{0,10})?";
    let header = ("[A-Za-z][A-Za-z0-9-]{0,15}", "[ -~]{0,30}")
        .prop_filter("Host is added separately", |(name, _)| {
            !["host", "content-length", "transfer-encoding"].contains(&name.to_lowercase().as_str())
        })
        .prop_map(|(name, value)| format!("{name}: {}\r\n", value.trim()));
    let headers = proptest::collection::vec(header, 0..12);
    (method, target, headers).prop_map(|(method, target, headers)| {
        format!(
            "{method} {target} HTTP/1.1\r\nHost: example.com\r\n{}\r\n",
            headers.concat()
        )
        .into_bytes()
    })
}

/// Scans `bytes` the way a connection does: one read at a time, ending at each
/// of `cuts`, stopping at the first answer.
fn scan_in_pieces(bytes: &[u8], cuts: &[usize], limits: &Limits) -> Result<Option<usize>, Error> {
    let mut scanner = HeadScanner::new();
    let mut ends: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
    ends.push(bytes.len());
    ends.sort_unstable();
    for end in ends {
        if let Some(done) = scanner.scan(&bytes[..end], limits).transpose() {
            return done.map(Some);
        }
    }
    Ok(None)
}

/// How many cases each property gets, with the fast generator: proptest's
/// default (ChaCha) dominates the run time in an unoptimised test build.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::with_cases(cases)
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// No input makes the parser panic, at the real limits or small ones, and
    /// `parse` itself survives bytes the scanner would have refused.
    #[test]
    fn the_parser_never_panics(bytes in head_bytes()) {
        let _ = parse_head(&bytes, &Limits::default());
        let _ = parse_head(&bytes, &SMALL);
        let _ = parse(&bytes, &SMALL);
    }

    /// A head read in any number of pieces is scanned to the same end, or
    /// refused for the same reason, as the same bytes read at once: the status
    /// a client gets does not depend on how TCP cut up its bytes.
    #[test]
    fn splitting_never_changes_the_scan(
        bytes in head_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        for limits in [Limits::default(), SMALL] {
            let whole = HeadScanner::new().scan(&bytes, &limits);
            prop_assert_eq!(scan_in_pieces(&bytes, &cuts, &limits), whole);
        }
    }

}

proptest! {
    // Fewer cases: generating text from patterns is slower.
    #![proptest_config(config(1000))]

    /// A valid request parses, and parses the same however it is split.
    #[test]
    fn valid_requests_parse_the_same_in_pieces(
        bytes in valid_head(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let limits = Limits::default();
        let whole = parse_head(&bytes, &limits);
        let Ok(Status::Complete(request, len)) = &whole else {
            return Err(TestCaseError::fail(format!("{whole:?}")));
        };
        prop_assert_eq!(*len, bytes.len());
        prop_assert_eq!(request.header("host"), Some("example.com"));
        prop_assert_eq!(scan_in_pieces(&bytes, &cuts, &limits), Ok(Some(bytes.len())));
        prop_assert_eq!(&parse(&bytes[..*len], &limits), &Ok(request.clone()));
    }
}

/// Pieces of a chunked body: sizes in hex, line ends right and wrong,
/// extensions, trailers, data, and the last chunk.
fn chunk_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"0\r\n\r\n".to_vec()),
        Just(b";ext=1".to_vec()),
        Just(b"X-Trailer: 1\r\n".to_vec()),
        "[0-9a-fA-F]{1,20}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

/// What a reader made of a body fed in pieces cut at `cuts`: how many bytes
/// it took and what it kept, whether it ended, or the error it stopped at.
fn read_body(bytes: &[u8], cuts: &[usize], limit: u64) -> Result<(usize, Vec<u8>, bool), Error> {
    let mut reader = BodyReader::new(Framing::Chunked, true, limit)?;
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    for point in points {
        if point <= at {
            continue;
        }
        let took = reader.feed(&bytes[at..point])?;
        at += took;
        if at < point {
            break; // the body ended inside this piece
        }
    }
    let done = reader.is_done();
    Ok((at, reader.into_body(), done))
}

proptest! {
    #![proptest_config(config(2000))]

    /// A chunked body is read to the same end, kept the same, or refused for
    /// the same reason however it is split, and never makes the reader panic;
    /// what it keeps is never more than its limit.
    #[test]
    fn a_chunked_body_reads_the_same_however_it_is_split(
        pieces in proptest::collection::vec(chunk_piece(), 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes = pieces.concat();
        for limit in [16, 1 << 20] {
            let whole = read_body(&bytes, &[], limit);
            prop_assert_eq!(&read_body(&bytes, &cuts, limit), &whole);
            if let Ok((used, kept, _)) = &whole {
                prop_assert!(*used <= bytes.len());
                prop_assert!(kept.len() as u64 <= limit);
            }
        }
    }

    /// Whatever a `Range` says, a part it selects lies inside the file.
    #[test]
    fn a_range_is_always_inside_the_file(
        value in "(bytes=)?[0-9 ,-]{0,24}|.{0,24}",
        len in prop_oneof![Just(0u64), Just(1), 0..10_000u64, Just(u64::MAX)],
    ) {
        if let Ranged::Part { first, last } = ranges::parse(&value, len) {
            prop_assert!(first <= last && last < len, "{value:?} of {len}: {first}-{last}");
        }
    }

    /// No `Accept-Encoding` makes negotiation panic, and identity is chosen
    /// whenever gzip is not acceptable.
    #[test]
    fn negotiation_never_panics(value in "[a-zA-Z0-9*;=., -]{0,40}|.{0,40}") {
        let chosen = compression::choose(Some(&value), &[Coding::Gzip]);
        if compression::quality(Some(&value), Coding::Gzip) == 0 {
            prop_assert_eq!(chosen, Coding::Identity);
        }
    }
}

/// Pieces of a request target: every spelling of `.`, `..`, `/` and `\` that
/// the traversal suite uses, the names of the fixture's files and symlinks,
/// and arbitrary text; `root` and `secret` are this run's names of the root
/// folder and of the secret beside it.
fn target_piece(root: String, secret: String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("%2e".to_string()),
        Just("%2E%2e".to_string()),
        Just("%2f".to_string()),
        Just("%5c".to_string()),
        Just("\\".to_string()),
        Just("%00".to_string()),
        Just("%c0%ae".to_string()),
        Just("%252e".to_string()),
        Just("%".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("http://h".to_string()),
        Just("sub".to_string()),
        Just("sub2".to_string()),
        Just("up".to_string()),
        Just(root),
        Just("self".to_string()),
        Just("loop".to_string()),
        Just("deep".to_string()),
        Just("leak.txt".to_string()),
        Just("rel-leak.txt".to_string()),
        Just(secret),
        Just("index.html".to_string()),
        Just("error.html".to_string()),
        any::<String>().prop_map(|text| text.chars().take(6).collect()),
    ]
}

/// Whatever the target, a file that is found lies under the root, is not the
/// secret, and a redirect stays on this site. Run against a real folder with
/// the fixture's symlinks out (absolute, relative, to a folder above, through an
/// `index.html`) and in (`self`), and a symlink loop.
#[test]
fn a_resolved_path_is_always_inside_the_root() {
    let site = Site::new();
    add_escape_routes(&site);
    let root = fs::canonicalize(&site.root).unwrap();
    let secret = fs::read(&site.secret).unwrap();
    let root_name = site
        .root
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let pieces = target_piece(root_name, site.secret_name());
    let targets = proptest::collection::vec(pieces, 0..12).prop_map(|pieces| {
        let target = pieces.concat();
        if target.starts_with("http://") {
            target
        } else {
            format!("/{target}")
        }
    });
    let mut runner = TestRunner::new(config(3000));
    let served = std::cell::Cell::new(0);
    runner
        .run(&targets, |target| {
            match files::find(&root, &target) {
                Ok(Found::File { file, path, .. }) => {
                    served.set(served.get() + 1);
                    prop_assert!(path.starts_with(&root), "{target} -> {}", path.display());
                    let contents = std::io::read_to_string(file).unwrap_or_default();
                    prop_assert_ne!(contents.as_bytes(), secret.as_slice(), "{}", target);
                }
                Ok(Found::Redirect { location }) => {
                    prop_assert!(location.starts_with('/') && !location.starts_with("//"));
                    prop_assert!(location.ends_with('/'));
                }
                Err(_) => {}
            }
            if let Ok(path) = files::decode_path(&target) {
                for segment in &path.segments {
                    prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                    prop_assert!(!segment.contains(['/', '\\', '\0']), "{:?}", segment);
                }
            }
            Ok(())
        })
        .unwrap();
    // The generator reaches real files, or the property would hold vacuously.
    let served = served.get();
    assert!(served > 100, "only {served} targets found a file");
}

/// What every file beside the uploads folder is: its kind, length and
/// time of change, and a symlink's target, in a few `stat` calls, so that
/// it can be taken after every case. (Every file's bytes are compared once,
/// at the end.)
type Snapshot = BTreeMap<PathBuf, (bool, u64, Option<SystemTime>, Option<PathBuf>)>;

fn snapshot(folder: &Path, leave_out: Option<&Path>) -> Snapshot {
    let mut seen = Snapshot::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if leave_out.is_some_and(|leave_out| path.starts_with(leave_out)) {
                continue;
            }
            let metadata = fs::symlink_metadata(&path).unwrap();
            let link = fs::read_link(&path).ok();
            if metadata.is_dir() {
                stack.push(path.clone());
            }
            let modified = metadata.modified().ok();
            seen.insert(path, (metadata.is_dir(), metadata.len(), modified, link));
        }
    }
    seen
}

/// Every regular file's bytes under `folder`, but for those under `leave_out`.
fn contents(folder: &Path, leave_out: Option<&Path>) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(folder, leave_out)
        .into_iter()
        .filter(|(path, (dir, ..))| !dir && fs::symlink_metadata(path).unwrap().is_file())
        .map(|(path, _)| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

/// `PUT target` with a six-byte body, answered by the core as a server
/// with `config` answers it; `None` when the head does not parse (the
/// server refuses it before it is a request).
fn put(config: &Config, target: &str) -> Option<Result<http::Response, Error>> {
    let head = format!("PUT {target} HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n");
    let mut request = request::parse(head.as_bytes(), &Limits::default()).ok()?;
    request.body = b"PWNED!".to_vec();
    Some(http::files::respond(config, &request))
}

/// Pieces of an upload's name: the grader's climbs (`no-traversal`'s
/// `CLIMBS`), the suite's other spellings of `..` ([`MORE_TRAVERSALS`]),
/// every name Windows reads as more than a name ([`WINDOWS_NAMES`]), the
/// symlinks in the uploads folder, a folder in it, and arbitrary text.
fn upload_piece(site: &Site) -> impl Strategy<Value = String> {
    let spelled: Vec<String> = CLIMBS
        .iter()
        .chain(MORE_TRAVERSALS)
        .chain(WINDOWS_NAMES.iter().flat_map(|(_, names)| names.iter()))
        .map(|piece| aimed(piece, site))
        .map(|piece| piece.trim_start_matches('/').to_owned())
        .collect();
    prop_oneof![
        3 => proptest::sample::select(spelled),
        3 => proptest::sample::select(
            ["/", "..", "%2e%2e", "%2f", "%5c", "out", "secret-link.txt", "in", "x.txt", ".hidden"]
                .map(String::from)
                .to_vec()
        ),
        1 => Just(site.secret_name()),
        1 => any::<String>().prop_map(|text| text.chars().take(6).collect()),
    ]
}

/// No name makes an upload write outside the uploads folder: whatever the
/// target (the grader's climbs, every other spelling of `..`, the Windows
/// families, through a symlink to the folder above or one to the secret,
/// in absolute form), every file and folder beside the uploads folder is
/// as it was after each `PUT`, and a file the `PUT` made lies in it. Each
/// Windows family is refused outright, as a malformed target: on Windows
/// those names would not stay in the folder (`C:x`, `\\?\`), or would
/// name a file other than the one written (`x.`, `x::$DATA`, `CON`).
#[test]
fn no_upload_name_writes_outside_the_uploads_folder() {
    let site = Site::new();
    add_escape_routes(&site);
    let uploads = site.dir.join("uploads");
    fs::create_dir_all(uploads.join("in")).unwrap();
    symlink(&site.dir, uploads.join("out"));
    symlink(&site.secret, uploads.join("secret-link.txt"));
    let server = Config::new(&site.root)
        .and_then(|config| config.with_uploads(&uploads))
        .expect("a root and an uploads folder");
    let folder = server.uploads.clone().expect("uploads on");
    let beside = Some(uploads.as_path());
    let before = snapshot(&site.dir, beside);
    let bytes_before = contents(&site.dir, beside);

    for (family, names) in WINDOWS_NAMES {
        for name in names.iter().map(|name| aimed(name, &site)) {
            let target = format!("/uploads{name}");
            let answer = put(&server, &target).map(|answer| {
                answer
                    .map(|response| response.status.as_u16())
                    .map_err(|error| error.status().map(|status| status.as_u16()))
            });
            assert!(
                matches!(answer, Some(Err(Some(400)))),
                "{target} ({family}): {answer:?}"
            );
        }
    }

    let prefixes = proptest::sample::select(vec![
        "/uploads/",
        "/uploads/in/",
        "/uploads/out/",
        "/sub/../uploads/",
        "http://h/uploads/",
    ]);
    let targets = (
        prefixes,
        proptest::collection::vec(upload_piece(&site), 1..6),
    )
        .prop_map(|(prefix, pieces)| format!("{prefix}{}", pieces.concat()));
    let mut runner = TestRunner::new(config(1000));
    let written = std::cell::Cell::new(0);
    runner
        .run(&targets, |target| {
            let Some(answer) = put(&server, &target) else {
                return Ok(());
            };
            if let Ok(response) = &answer {
                prop_assert!(
                    response.status.as_u16() < 300,
                    "{target}: {:?}",
                    response.status
                );
                written.set(written.get() + 1);
            }
            prop_assert_eq!(
                &snapshot(&site.dir, beside),
                &before,
                "{} ({:?}) changed something beside the uploads folder",
                target,
                answer.as_ref().map(|r| r.status)
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(contents(&site.dir, beside), bytes_before);
    assert_eq!(fs::read_to_string(&site.secret).unwrap(), site.secret_text);
    for path in snapshot(&uploads, None).keys() {
        let canonical = fs::canonicalize(path.parent().unwrap()).unwrap();
        assert!(canonical.starts_with(&folder), "{}", path.display());
    }
    // The generator reaches names that are written, or the property would
    // hold vacuously.
    let written = written.get();
    assert!(written > 30, "only {written} uploads were written");
}
