//! What a file's `200` says beyond the grader's checks, request bodies and
//! uploads, validators, byte ranges and compression, on every stage compiled
//! in: they live in the shared HTTP core, so every stage that serves files
//! has them.
//!
//! The stages before `not-found` answer no error (they close instead), so
//! the checks of `4xx` answers run from `not-found` on; everything a `200`,
//! `201`, `204`, `206` or `304` carries is checked on every stage.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Instant;

use grade::checks::stage1_single_threaded::no_traversal::traversal_targets;
use grade::client::{self, End};
use multithreaded_server::Stage;
use support::hardening::*;
use support::*;

/// A client on one connection that reads one response at a time, by its
/// framing, leaving what follows for the next.
struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    fn connect(server: &Server) -> Client {
        Client {
            stream: connect(server.addr),
            buffer: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads exactly one response to a `method` request.
    fn response(&mut self, method: &str) -> Reply {
        let deadline = Instant::now() + PATIENCE;
        let (bytes, end) = client::read_one(&mut self.stream, &mut self.buffer, method, deadline);
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        assert_eq!(end, End::Complete, "not one whole response: {shown:?}");
        Reply::parse(&bytes, method, false).expect("a response")
    }
}

/// One request on a connection of its own, with `Connection: close`, and
/// `body` after the head; the response, parsed.
fn exchange(server: &Server, method: &str, target: &str, headers: &[&str], body: &[u8]) -> Reply {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut client = Client::connect(server);
    client.send(&[head.as_bytes(), body].concat());
    client.response(method)
}

fn stages() -> Vec<Stage> {
    compiled_stages()
}

// ---------------------------------------------------------------------------
// What a file's 200 says beyond the grader's checks

/// The grader's checks judge a file's bytes, its length and its media type
/// (`text-files`, `binary-files`, `content-length`, `content-type`,
/// `sub-folder`, `paths`); this is what they leave out, on every stage: the
/// exact status line, the `charset` of text, `text/plain` and
/// `application/octet-stream`, `Connection: close` when the client asked
/// for it, a sub-folder's `index.html`, and a name in UTF-8 on disk,
/// percent-encoded in the request.
#[test]
fn a_file_comes_with_its_exact_type_and_connection_header() {
    let site = Site::new();
    site.write("sub/index.html", "<p>the sub-folder's index</p>");
    site.write("café menu.txt", "menu: crêpes");
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        for (target, file, content_type) in [
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/style.css", "style.css", "text/css; charset=utf-8"),
            ("/data.bin", "data.bin", "application/octet-stream"),
            ("/sub/", "sub/index.html", "text/html; charset=utf-8"),
            (
                "/caf%C3%A9%20menu.txt",
                "café menu.txt",
                "text/plain; charset=utf-8",
            ),
        ] {
            eprintln!("{stage}: {target}");
            assert_file(&get(server.addr, target), &site.read(file), content_type);
        }
    }
}

// ---------------------------------------------------------------------------
// Ranges

/// One range in each of its three forms gets `206` and exactly its bytes;
/// a resumed download (`curl -C -`) gets the rest of the file.
#[test]
fn a_single_range_gets_its_bytes_with_206() {
    let site = Site::new();
    let data = site.read("data.bin");
    let len = data.len();
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let whole = exchange(&server, "GET", "/data.bin", &[], b"");
        assert_eq!(whole.header("Accept-Ranges"), Some("bytes"), "{stage}");
        let near_the_end = len - 1000;
        for (range, first, last) in [
            ("bytes=1000-1999".to_owned(), 1000, 1999),
            ("bytes=-500".to_owned(), len - 500, len - 1),
            (format!("bytes={near_the_end}-"), near_the_end, len - 1),
            ("bytes=0-0".to_owned(), 0, 0),
            ("bytes=5000-99999999".to_owned(), 5000, len - 1),
        ] {
            let reply = exchange(
                &server,
                "GET",
                "/data.bin",
                &[&format!("Range: {range}")],
                b"",
            );
            assert_eq!(reply.status(), 206, "{stage} {range}");
            let content_range = format!("bytes {first}-{last}/{len}");
            assert_eq!(reply.header("Content-Range"), Some(&content_range[..]));
            assert_eq!(reply.body, &data[first..=last], "{stage} {range}");
            assert_eq!(
                reply.header("Content-Length"),
                Some(&(last - first + 1).to_string()[..])
            );
        }
        // HEAD has no ranges (RFC 9110 §14.2): the whole file's head.
        let head = exchange(&server, "HEAD", "/data.bin", &["Range: bytes=0-9"], b"");
        assert_eq!(head.status(), 200, "{stage}");
    }
}

/// Several ranges get the whole file with `200` (see src/http/ranges.rs),
/// as does a range that cannot be read; one past the end gets `416` with
/// the length, from the stage that answers errors.
#[test]
fn other_ranges_get_the_whole_file_or_416() {
    let site = Site::new();
    let data = site.read("data.bin");
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        for range in ["bytes=0-9,20-29", "bytes=9-0", "items=0-9", "bytes=x-"] {
            let reply = exchange(
                &server,
                "GET",
                "/data.bin",
                &[&format!("Range: {range}")],
                b"",
            );
            assert_eq!(reply.status(), 200, "{stage} {range}");
            assert_eq!(reply.body, data, "{stage} {range}");
        }
        if answers_errors(stage) {
            let past = format!("Range: bytes={}-", data.len());
            let reply = exchange(&server, "GET", "/data.bin", &[&past], b"");
            assert_eq!(reply.status(), 416, "{stage}");
            let star = format!("bytes */{}", data.len());
            assert_eq!(reply.header("Content-Range"), Some(&star[..]), "{stage}");
        }
    }
}

/// `If-Range` honours the range only for the file as the client knew it.
#[test]
fn if_range_sends_the_whole_file_once_it_changed() {
    let site = Site::new();
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let first = exchange(&server, "GET", "/data.bin", &[], b"");
        let etag = first.header("ETag").expect("an ETag").to_owned();
        let modified = first.header("Last-Modified").unwrap().to_owned();
        for condition in [&etag, &modified] {
            let if_range = format!("If-Range: {condition}");
            let reply = exchange(
                &server,
                "GET",
                "/data.bin",
                &["Range: bytes=0-9", &if_range],
                b"",
            );
            assert_eq!(reply.status(), 206, "{stage} {condition}");
        }
        let stale = ["Range: bytes=0-9", "If-Range: \"something-else\""];
        let reply = exchange(&server, "GET", "/data.bin", &stale, b"");
        assert_eq!(reply.status(), 200, "{stage}");
        assert_eq!(reply.body.len(), first.body.len(), "{stage}");
    }
}

// ---------------------------------------------------------------------------
// Validators

/// A file's `ETag` comes back in `If-None-Match` and gets `304`, compared
/// weakly, and before any date; a changed file gets a new tag and `200`.
#[test]
fn if_none_match_gets_304_until_the_file_changes() {
    let site = Site::new();
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let first = exchange(&server, "GET", "/style.css", &[], b"");
        let etag = first.header("ETag").expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong: {etag}"
        );
        assert_eq!(first.header("Cache-Control"), Some("no-cache"), "{stage}");
        let modified = first.header("Last-Modified").unwrap().to_owned();

        for list in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"x\", {etag}"),
            "*".into(),
        ] {
            let reply = exchange(
                &server,
                "GET",
                "/style.css",
                &[&format!("If-None-Match: {list}")],
                b"",
            );
            assert_eq!(reply.status(), 304, "{stage} {list}");
            assert!(reply.body.is_empty());
            assert_eq!(reply.header("ETag"), Some(&etag[..]));
        }
        // RFC 9110 §13.2.2: a tag that does not match wins over a date that would.
        let both = [
            "If-None-Match: \"x\"",
            &format!("If-Modified-Since: {modified}"),
        ];
        let reply = exchange(&server, "GET", "/style.css", &both, b"");
        assert_eq!(reply.status(), 200, "{stage}");
    }
    // The file changes (its length, and so its tag, certainly does).
    let server = Server::start("single-threaded", &site.root, &[]);
    let before = exchange(&server, "GET", "/style.css", &[], b"");
    let etag = before.header("ETag").unwrap().to_owned();
    site.write("style.css", "body { color: red; margin: 0 }\n");
    let reply = exchange(
        &server,
        "GET",
        "/style.css",
        &[&format!("If-None-Match: {etag}")],
        b"",
    );
    assert_eq!(reply.status(), 200);
    assert_ne!(reply.header("ETag"), Some(&etag[..]));
    assert_eq!(reply.body, b"body { color: red; margin: 0 }\n");
}

#[test]
fn cache_control_is_a_flag() {
    let site = Site::new();
    let server = Server::start(
        "single-threaded",
        &site.root,
        &["--cache-control", "max-age=60"],
    );
    let reply = exchange(&server, "GET", "/index.html", &[], b"");
    assert_eq!(reply.header("Cache-Control"), Some("max-age=60"));
}

// ---------------------------------------------------------------------------
// Compression

/// Text of a size worth compressing.
fn page_text() -> String {
    (0..400)
        .map(|i| format!("<p>paragraph {i} of the page</p>\n"))
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// gzip for a client that accepts it, the exact bytes once undone, and
/// `Vary` always; none for a client that does not, for a picture, or a
/// range; none at all with `--no-compression`.
#[test]
fn text_is_gzipped_for_clients_that_accept_it() {
    let site = Site::new();
    let text = page_text();
    site.write("page.html", &text);
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let gzip = "Accept-Encoding: gzip, deflate, br, zstd";
        let reply = exchange(&server, "GET", "/page.html", &[gzip], b"");
        assert_eq!(reply.status(), 200, "{stage}");
        assert_eq!(reply.header("Content-Encoding"), Some("gzip"), "{stage}");
        assert_eq!(reply.header("Vary"), Some("Accept-Encoding"));
        assert!(
            reply.body.len() < text.len() / 4,
            "{} bytes",
            reply.body.len()
        );
        assert_eq!(gunzip(&reply.body), text.as_bytes(), "{stage}");
        let etag = reply.header("ETag").unwrap().to_owned();
        assert!(etag.starts_with("W/"), "made now: a weak tag ({etag})");
        let again = exchange(
            &server,
            "GET",
            "/page.html",
            &[gzip, &format!("If-None-Match: {etag}")],
            b"",
        );
        assert_eq!(again.status(), 304, "{stage}");

        let plain = exchange(&server, "GET", "/page.html", &[], b"");
        assert_eq!(plain.header("Content-Encoding"), None);
        assert_eq!(plain.header("Vary"), Some("Accept-Encoding"));
        assert_eq!(plain.body, text.as_bytes());
        let refused = exchange(
            &server,
            "GET",
            "/page.html",
            &["Accept-Encoding: gzip;q=0"],
            b"",
        );
        assert_eq!(refused.header("Content-Encoding"), None, "{stage}");

        let range = exchange(
            &server,
            "GET",
            "/page.html",
            &[gzip, "Range: bytes=0-9"],
            b"",
        );
        assert_eq!(
            (range.status(), range.header("Content-Encoding")),
            (206, None)
        );
        assert_eq!(range.body, &text.as_bytes()[..10]);

        let picture = exchange(&server, "GET", "/image.png", &[gzip], b"");
        assert_eq!(picture.header("Content-Encoding"), None, "{stage}");
        assert_eq!(picture.body, site.read("image.png"));
    }
    let server = Server::start("single-threaded", &site.root, &["--no-compression"]);
    let reply = exchange(
        &server,
        "GET",
        "/page.html",
        &["Accept-Encoding: gzip"],
        b"",
    );
    assert_eq!(reply.header("Content-Encoding"), None);
    assert_eq!(reply.body, text.as_bytes());
}

/// `app.js.gz` beside `app.js` is sent as it is, as nginx's `gzip_static`
/// does, with a strong tag of its own; a client without gzip gets `app.js`.
#[test]
fn a_ready_made_gz_file_is_sent_as_it_is() {
    let site = Site::new();
    let script = "console.log('hello');\n".repeat(50);
    site.write("app.js", &script);
    // Made by hand, so that it differs from anything the server would make.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(script.as_bytes()).unwrap();
    let ready = encoder.finish().unwrap();
    site.write("app.js.gz", &ready);
    for stage in stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let reply = exchange(&server, "GET", "/app.js", &["Accept-Encoding: gzip"], b"");
        assert_eq!(reply.header("Content-Encoding"), Some("gzip"), "{stage}");
        assert_eq!(reply.body, ready, "{stage}: the file's own bytes");
        assert!(!reply.header("ETag").unwrap().starts_with("W/"));
        let plain = exchange(&server, "GET", "/app.js", &[], b"");
        assert_eq!(plain.body, script.as_bytes(), "{stage}");
        assert_ne!(plain.header("ETag"), reply.header("ETag"));
    }
}

// ---------------------------------------------------------------------------
// Bodies

/// A body no one wants is read past, and the request after it on the same
/// connection is answered: with its length, and in chunks.
#[test]
fn a_body_then_a_pipelined_request_on_one_connection() {
    let site = Site::new();
    let index = site.read("index.html");
    for stage in stages().into_iter().filter(|s| *s >= Stage::KeepAlive) {
        let server = Server::start(stage.name(), &site.root, &[]);
        let mut client = Client::connect(&server);
        client.send(
            b"GET /index.html HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello\
              GET /index.html HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n0\r\n\r\n\
              GET /index.html HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        );
        for round in 0..3 {
            let reply = client.response("GET");
            assert_eq!(reply.status(), 200, "{stage} request {round}");
            assert_eq!(reply.body, index, "{stage} request {round}");
        }
        assert!(wait_for_close(&mut client.stream).is_some_and(|rest| rest.is_empty()));
    }
}

/// Bodies outside the limits or badly framed get their status, and the
/// server goes on serving.
#[test]
fn bad_bodies_get_their_status() {
    let site = Site::new();
    for stage in stages().into_iter().filter(|s| answers_errors(*s)) {
        let server = Server::start(stage.name(), &site.root, &[]);
        let status = |headers: &[&str], body: &[u8]| {
            exchange(&server, "GET", "/index.html", headers, body).status()
        };
        // Past the 1 MiB a body may have when it is thrown away.
        let long = status(&["Content-Length: 2000000"], b"");
        assert_eq!(long, 413, "{stage}: a long body");
        let huge = status(&["Transfer-Encoding: chunked"], b"ffffffffffff\r\n");
        assert_eq!(huge, 413, "{stage}: a huge chunk");
        let not_hex = status(&["Transfer-Encoding: chunked"], b"zz\r\n");
        assert_eq!(not_hex, 400, "{stage}: a size that is not hex");
        let no_crlf = status(&["Transfer-Encoding: chunked"], b"3\r\nabcX\r\n0\r\n\r\n");
        assert_eq!(no_crlf, 400, "{stage}: a chunk without its CRLF");
        let both = ["Content-Length: 3", "Transfer-Encoding: chunked"];
        assert_eq!(status(&both, b"0\r\n\r\n"), 400, "{stage}: both framings");
        assert_still_serves(&server, &site, "bad bodies");
    }
}

/// A client that sends `Expect: 100-continue` waits for `100 Continue`
/// before its body: it gets it, then the answer to its upload.
#[test]
fn an_upload_is_asked_for_its_body_with_100_continue() {
    let site = Site::new();
    let uploads = uploads_folder(&site);
    for stage in stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--uploads", uploads.to_str().unwrap()],
        );
        let mut client = Client::connect(&server);
        let name = format!("continue-{}.txt", stage.name());
        client.send(
            format!(
                "PUT /uploads/{name} HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\
                 Expect: 100-continue\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        let interim = client.response("PUT");
        assert_eq!(interim.head.status_line, "HTTP/1.1 100 Continue", "{stage}");
        client.send(b"hello");
        let reply = client.response("PUT");
        assert_eq!(reply.status(), 201, "{stage}");
        assert_eq!(fs::read(uploads.join(&name)).unwrap(), b"hello");
    }
}

// ---------------------------------------------------------------------------
// Uploads

/// An empty uploads folder beside the root.
fn uploads_folder(site: &Site) -> PathBuf {
    let folder = site.dir.join("uploads");
    fs::create_dir_all(&folder).unwrap();
    folder
}

#[test]
fn uploads_are_off_by_default() {
    let site = Site::new();
    for stage in stages().into_iter().filter(|s| answers_errors(*s)) {
        let server = Server::start(stage.name(), &site.root, &[]);
        let reply = exchange(
            &server,
            "PUT",
            "/uploads/a.txt",
            &["Content-Length: 2"],
            b"hi",
        );
        assert_eq!(reply.status(), 405, "{stage}");
        assert_eq!(reply.header("Allow"), Some("GET, HEAD"));
    }
    assert!(!site.root.join("uploads").exists() && !site.dir.join("uploads").exists());
}

/// An upload needs a length (`411`), and may be larger than a body that is
/// thrown away, up to its own limit (`413`); an expectation other than
/// `100-continue` gets `417`. None of them writes a thing.
#[test]
fn bad_uploads_get_their_status() {
    let site = Site::new();
    let uploads = uploads_folder(&site);
    for stage in stages().into_iter().filter(|s| answers_errors(*s)) {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--uploads", uploads.to_str().unwrap()],
        );
        let status = |headers: &[&str], body: &[u8]| {
            exchange(&server, "PUT", "/uploads/a.txt", headers, body).status()
        };
        assert_eq!(status(&[], b""), 411, "{stage}: no length");
        let long = status(&["Content-Length: 99999999999"], b"");
        assert_eq!(long, 413, "{stage}: past the upload limit");
        // 16 MiB and one byte, in one chunk.
        let chunk = status(&["Transfer-Encoding: chunked"], b"1000001\r\n");
        assert_eq!(chunk, 413, "{stage}: a chunk past the upload limit");
        let expect = status(&["Expect: 200-ok", "Content-Length: 1"], b"x");
        assert_eq!(expect, 417, "{stage}");
        assert_still_serves(&server, &site, "bad uploads");
    }
    assert_eq!(
        fs::read_dir(&uploads).unwrap().count(),
        0,
        "nothing was written"
    );
}

/// `PUT` makes a file (`201` and its `Location`), replaces it (`204`), and
/// `DELETE` removes it; the file reads back byte-exact in between. The
/// upload is pipelined with the `GET` after it, on the stages that keep
/// connections.
#[test]
fn put_writes_a_file_that_reads_back() {
    let site = Site::new();
    let uploads = uploads_folder(&site);
    // Larger than the 1 MiB a body may have when it is thrown away.
    let bytes = fixed_bytes(22, 1_500_000);
    for stage in stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--uploads", uploads.to_str().unwrap()],
        );
        let target = format!("/uploads/{}.bin", stage.name());
        let length = format!("Content-Length: {}", bytes.len());
        let created = exchange(&server, "PUT", &target, &[&length], &bytes);
        assert_eq!(created.status(), 201, "{stage}");
        assert_eq!(created.header("Location"), Some(&target[..]));
        assert_eq!(get(server.addr, &target).body, bytes, "{stage}");

        // Replaced, in chunks.
        let chunked = [&b"5\r\nfirst\r\n7\r\n second\r\n0\r\n\r\n"[..]].concat();
        let replaced = exchange(
            &server,
            "PUT",
            &target,
            &["Transfer-Encoding: chunked"],
            &chunked,
        );
        assert_eq!(replaced.status(), 204, "{stage}");
        assert_eq!(get(server.addr, &target).body, b"first second", "{stage}");

        if stage >= Stage::KeepAlive {
            let mut client = Client::connect(&server);
            let put =
                format!("PUT {target} HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nnew");
            let get = format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            client.send(format!("{put}{get}").as_bytes());
            assert_eq!(client.response("PUT").status(), 204, "{stage}");
            assert_eq!(client.response("GET").body, b"new", "{stage}");
        }

        let deleted = exchange(&server, "DELETE", &target, &[], b"");
        assert_eq!(deleted.status(), 204, "{stage}");
        assert!(!uploads.join(format!("{}.bin", stage.name())).exists());
    }
    assert_eq!(
        fs::read_dir(&uploads).unwrap().count(),
        0,
        "{:?}",
        tree(&uploads)
    );
}

/// Every file under `folder`, with its contents (symlinks as their target).
fn tree(folder: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_symlink() {
                let target = fs::read_link(entry.path()).unwrap();
                files.insert(entry.path(), target.to_string_lossy().as_bytes().to_vec());
            } else {
                files.insert(entry.path(), fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// No name writes outside the uploads folder, through `..`, encodings,
/// Windows names or symlinks: everything beside it is as it was, and every
/// file that was made lies directly in it.
#[test]
fn no_upload_writes_outside_its_folder() {
    let site = Site::new();
    let uploads = uploads_folder(&site);
    symlink(&site.dir, uploads.join("out"));
    symlink(&site.secret, uploads.join("secret-link.txt"));
    let outside_before: BTreeMap<_, _> = tree(&site.dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(&uploads))
        .collect();
    let mut targets: Vec<String> = traversal_targets(&site.fixture)
        .iter()
        .filter_map(|t| t.strip_prefix('/'))
        .map(|rest| format!("/uploads/{rest}"))
        .collect();
    targets.push(format!("/uploads/out/{}", site.secret_name()));
    targets.extend(
        [
            "/uploads/out/x.txt",
            "/uploads/%2e%2e/x.txt",
            "/uploads/.hidden",
            "/uploads/CON",
            "/uploads/x.txt::$DATA",
            "/uploads/C:x.txt",
            "/uploads/x.txt.",
            "/uploads/a%2fb.txt",
            "/uploads/missing/x.txt",
            "/uploads/",
        ]
        .map(String::from),
    );
    for stage in stages() {
        let uploads_flag = ["--uploads", uploads.to_str().unwrap()];
        let server = Server::start(stage.name(), &site.root, &uploads_flag);
        for target in &targets {
            let request = format!(
                "PUT {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
                 Content-Length: 6\r\n\r\nPWNED!"
            );
            // Some are names like any other (`/uploads/..;/…`), and make a file
            // in the folder; none may fail the server. The first stages
            // answer no error: they close instead.
            let bytes = send_raw(server.addr, request.as_bytes());
            if let Some(reply) = parse_reply(&bytes) {
                assert!(
                    reply.status() < 500,
                    "{stage} {target}: {}",
                    reply.head.status_line
                );
            }
        }
        // A symlink in the folder is replaced by the upload, never followed:
        // 204, for a name that was there. Where no symlink could be made
        // (Windows without the privilege, Wine), the first stage makes the
        // file (201), and the stages after replace it.
        let there = uploads.join("secret-link.txt").symlink_metadata().is_ok();
        let length = ["Content-Length: 6"];
        let reply = exchange(
            &server,
            "PUT",
            "/uploads/secret-link.txt",
            &length,
            b"PWNED!",
        );
        assert_eq!(reply.status(), if there { 204 } else { 201 }, "{stage}");
        assert_still_serves(&server, &site, "uploads with hostile names");
    }
    let outside_after: BTreeMap<_, _> = tree(&site.dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(&uploads))
        .collect();
    assert_eq!(
        outside_before, outside_after,
        "a file outside the uploads folder changed"
    );
    assert_eq!(fs::read_to_string(&site.secret).unwrap(), site.secret_text);
    for path in tree(&uploads).keys() {
        assert_eq!(path.parent(), Some(uploads.as_path()), "{}", path.display());
    }
}

/// A connection cut halfway through an upload leaves nothing: not the
/// file, not a temporary one.
#[test]
fn a_cut_upload_leaves_nothing_behind() {
    let site = Site::new();
    let uploads = uploads_folder(&site);
    for stage in stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--uploads", uploads.to_str().unwrap()],
        );
        let mut client = Client::connect(&server);
        client
            .send(b"PUT /uploads/cut.bin HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n");
        client.send(&fixed_bytes(1, 50_000));
        drop(client);
        // Once the server has let go of the connection, it has seen the cut.
        let open = server.settle_connections();
        assert!(open.is_none_or(|open| open == 0), "{stage}: {open:?} open");
        assert!(tree(&uploads).is_empty(), "{stage}: {:?}", tree(&uploads));
    }
}
