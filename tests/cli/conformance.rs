//! The real `curl` against the real binary: what the HTTP core promises is
//! what a client that nobody here wrote actually gets. A resumed download
//! (`-C -`), a compressed one (`--compressed`), an upload (`-T`) and a
//! reload with the tag saved from the last visit (`--etag-save`,
//! `--etag-compare`, as a browser's cache does) each run on every stage
//! compiled in: every stage serves files through the same core, and a stage
//! that wired its reading or writing differently (a body not read on, a
//! `sendfile` from the wrong offset) shows up only in its own run. Each
//! stage's server starts in a fraction of a second, so the seven cost little.
//!
//! curl must be installed: without it these tests fail and say so, rather
//! than pass having checked nothing. Under Wine they are ignored, as the
//! other tests that start a Linux program are (see `.ci/wine/README.md`).

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::support::hardening::compiled_stages;
use crate::support::*;

/// What to say when curl cannot be used.
const INSTALL: &str = "these tests run the real curl, 7.68 or later (for --etag-save): \
     install it (Debian and Ubuntu: apt-get install curl; macOS and Windows 10 \
     and later have it)";

/// Fails, saying what to install, unless curl is there and new enough.
fn check_curl() {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    let checked = VERSION.get_or_init(|| {
        let output = match Command::new("curl").arg("--version").output() {
            Ok(output) => output,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                return Err(format!("curl is not installed: {INSTALL}"));
            }
            Err(error) => return Err(format!("curl did not run ({error}): {INSTALL}")),
        };
        // `curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 ...`
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let version = text.split_whitespace().nth(1).unwrap_or_default();
        let numbers: Vec<u32> = version
            .split(['.', '-'])
            .take(2)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        match numbers[..] {
            [major, minor] if (major, minor) >= (7, 68) => Ok(version.to_owned()),
            _ => Err(format!("curl {version:?} is too old: {INSTALL}")),
        }
    });
    if let Err(message) = checked {
        panic!("{message}");
    }
}

/// Runs curl with `args`, on a clean slate: `-q` first, so that no
/// `~/.curlrc` adds options; no proxy, whatever the environment says, so
/// that the request goes to 127.0.0.1 and nowhere else; errors shown, the
/// progress meter not. Fails unless curl exits 0.
fn curl(args: &[&str]) -> Output {
    check_curl();
    let output = Command::new("curl")
        .args(["-q", "--noproxy", "*", "--silent", "--show-error"])
        // A guard against a server that never answers, not a speed goal.
        .args(["--max-time", "300"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What curl printed for `-w`: a status code, a count, several of them.
fn written(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn path(path: &Path) -> &str {
    path.to_str().expect("the temporary folder's path is UTF-8")
}

/// `curl -C -` picks a download up where a cut left it: it asks for the rest
/// with `Range: bytes=HALF-`, gets `206` and only those bytes, and the file
/// is whole again, byte for byte. A server that ignored the range would get
/// curl's own error (it refuses a `200` to a resumed download); one that sent
/// the wrong part would leave a file that differs.
#[test]
#[cfg_attr(
    wine,
    ignore = "it runs curl, a Linux program, which a Windows program under Wine cannot start"
)]
fn curl_resumes_a_download_cut_halfway() {
    let site = Site::new();
    let original = site.add_big_file("big.bin", 4 * 1024 * 1024 + 123);
    let half = original.len() / 2;
    for stage in compiled_stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let saved = site.dir.join(format!("resumed-{}.bin", stage.name()));
        fs::write(&saved, &original[..half]).unwrap();
        let url = format!("http://{}/big.bin", server.addr);
        let output = curl(&[
            "-C",
            "-",
            "-o",
            path(&saved),
            "-w",
            "%{http_code} %{size_download}",
            &url,
        ]);
        let rest = original.len() - half;
        assert_eq!(
            written(&output),
            format!("206 {rest}"),
            "{stage}: 206, and only the part that was missing"
        );
        assert!(
            fs::read(&saved).unwrap() == original,
            "{stage}: the resumed file is the original, byte for byte"
        );
    }
}

/// `curl --compressed` (which sends `Accept-Encoding` and undoes what comes)
/// gets a text file's exact bytes, and fewer of them came over the wire:
/// gzip made on the spot for one file, and for another the `.gz` made ready
/// beside it, sent as it is.
#[test]
#[cfg_attr(
    wine,
    ignore = "it runs curl, a Linux program, which a Windows program under Wine cannot start"
)]
fn curl_compressed_gets_the_exact_bytes_in_fewer() {
    let site = Site::new();
    // Text worth compressing, with CRLF and UTF-8 in it, so that a decoder
    // or a server that touched line ends or characters would show.
    let text: String = (0..2000)
        .map(|i| format!("line {i}: naïve café, the same words again\r\n"))
        .collect();
    site.write("notes.txt", &text);
    let script = "console.log('ready-made');\n".repeat(400);
    site.write("app.js", &script);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(script.as_bytes()).unwrap();
    let ready = encoder.finish().unwrap();
    site.write("app.js.gz", &ready);

    for stage in compiled_stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        for (name, expected) in [
            ("notes.txt", text.as_bytes()),
            ("app.js", script.as_bytes()),
        ] {
            let saved = site.dir.join(format!("{}-{name}", stage.name()));
            let headers = site.dir.join(format!("{}-{name}.head", stage.name()));
            let output = curl(&[
                "--compressed",
                "-o",
                path(&saved),
                "-D",
                path(&headers),
                "-w",
                "%{http_code} %{size_download}",
                &format!("http://{}/{name}", server.addr),
            ]);
            let printed = written(&output);
            let (status, size) = printed.split_once(' ').expect("two numbers");
            assert_eq!(status, "200", "{stage} {name}");
            let head = fs::read_to_string(&headers).unwrap().to_lowercase();
            assert!(
                head.contains("\r\ncontent-encoding: gzip\r\n"),
                "{stage} {name}: not gzipped:\n{head}"
            );
            let size: usize = size.parse().unwrap();
            assert!(
                size < expected.len() / 4,
                "{stage} {name}: {size} bytes came for {}",
                expected.len()
            );
            if name == "app.js" {
                assert_eq!(size, ready.len(), "{stage}: the .gz file as it is");
            }
            assert!(
                fs::read(&saved).unwrap() == expected,
                "{stage} {name}: curl's copy is the file, byte for byte"
            );
        }
    }
}

/// `curl -T FILE URL` sends a `PUT` with the file as its body (3 MB: curl
/// asks `Expect: 100-continue` first, and the body comes in many reads).
/// The first makes the file (`201`), the second replaces it (`204`), and
/// the uploads folder then holds that one file, byte-exact, and no
/// temporary one.
#[test]
#[cfg_attr(
    wine,
    ignore = "it runs curl, a Linux program, which a Windows program under Wine cannot start"
)]
fn curl_uploads_a_file_byte_exact() {
    let site = Site::new();
    let uploads = site.dir.join("uploads");
    fs::create_dir(&uploads).unwrap();
    let local = site.dir.join("to-send.bin");
    let bytes = Rng::new().bytes(3_000_000);
    fs::write(&local, &bytes).unwrap();
    let answer = site.dir.join("answer.html");
    for stage in compiled_stages() {
        let server = Server::start(stage.name(), &site.root, &["--uploads", path(&uploads)]);
        let name = format!("{}.bin", stage.name());
        let url = format!("http://{}/uploads/{name}", server.addr);
        for expected in ["201", "204"] {
            let output = curl(&[
                "-T",
                path(&local),
                "-o",
                path(&answer),
                "-w",
                "%{http_code}",
                &url,
            ]);
            assert_eq!(written(&output), expected, "{stage}");
            assert!(
                fs::read(uploads.join(&name)).unwrap() == bytes,
                "{stage}: the uploaded file is byte-exact"
            );
        }
        let mut names: Vec<String> = fs::read_dir(&uploads)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            std::slice::from_ref(&name),
            "{stage}: that file and nothing else"
        );
        fs::remove_file(uploads.join(&name)).unwrap();
    }
}

/// A reload as a browser does it: the first visit keeps the `ETag`
/// (`--etag-save`), the next sends it back as `If-None-Match`
/// (`--etag-compare`) and gets `304`, with nothing to download. A tag
/// that is not the file's gets the file: a server that said `304` to any
/// `If-None-Match` fails there.
#[test]
#[cfg_attr(
    wine,
    ignore = "it runs curl, a Linux program, which a Windows program under Wine cannot start"
)]
fn curl_reloads_with_its_saved_etag_and_gets_304() {
    let site = Site::new();
    let expected = site.read("data.bin");
    for stage in compiled_stages() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let url = format!("http://{}/data.bin", server.addr);
        let etag = site.dir.join(format!("{}.etag", stage.name()));
        let saved = site.dir.join(format!("{}.bin", stage.name()));
        let first = curl(&[
            "--etag-save",
            path(&etag),
            "-o",
            path(&saved),
            "-w",
            "%{http_code}",
            &url,
        ]);
        assert_eq!(written(&first), "200", "{stage}");
        assert!(fs::read(&saved).unwrap() == expected, "{stage}");
        let tag = fs::read_to_string(&etag).unwrap();
        assert!(
            tag.trim().starts_with('"') && tag.trim().ends_with('"'),
            "{stage}: curl saved a strong tag, not {tag:?}"
        );

        let again = site.dir.join(format!("{}-again.bin", stage.name()));
        let reload = curl(&[
            "--etag-compare",
            path(&etag),
            "-o",
            path(&again),
            "-w",
            "%{http_code} %{size_download}",
            &url,
        ]);
        assert_eq!(written(&reload), "304 0", "{stage}: not modified");

        fs::write(&etag, "\"not-this-file\"\n").unwrap();
        let other = curl(&[
            "--etag-compare",
            path(&etag),
            "-o",
            path(&again),
            "-w",
            "%{http_code}",
            &url,
        ]);
        assert_eq!(written(&other), "200", "{stage}: another tag, the file");
        assert!(fs::read(&again).unwrap() == expected, "{stage}");
    }
}
