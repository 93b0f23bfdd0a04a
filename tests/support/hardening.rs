//! Helpers for the adversarial suites (`security`, `malformed`, `load`): which
//! stages to run, what "still healthy" means after an attack, and ways out of
//! the root: the grader's `no-traversal` payloads and more.

use std::fs;

use multithreaded_server::{Stage, stages};

use std::net::SocketAddr;

use grade::checks::stage1_single_threaded::no_traversal::traversal_targets;

use super::{Rng, Server, Site, assert_file, get, parse_reply, send_raw, symlink};

/// Every stage this build has, in course order. New stages join automatically.
pub fn compiled_stages() -> Vec<Stage> {
    Stage::ALL
        .into_iter()
        .filter(|stage| stages::is_compiled(*stage))
        .collect()
}

/// From `not-found` on, an error gets a response; before it, a bare close.
pub fn answers_errors(stage: Stage) -> bool {
    stage >= Stage::NotFound
}

/// The same random bytes on every run, so a failure can be replayed.
pub fn fixed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::seeded(seed);
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend(rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// Fails unless the server still serves a page, byte-exact: after an attack, a
/// server that is up but broken is as bad as one that is down.
pub fn assert_still_serves(server: &Server, site: &Site, after: &str) {
    let reply = get(server.addr, "/index.html");
    assert_eq!(
        reply.head.status,
        200,
        "no longer serving after {after}; log:\n{}",
        server.log()
    );
    assert_file(&reply, &site.read("index.html"), "text/html; charset=utf-8");
}

/// Fails if the server's log (stdout and stderr) mentions a panic. The panic
/// hook logs every panic, in any thread, as a line containing `panic`.
pub fn assert_no_panic(server: &Server) {
    let log = server.log();
    assert!(
        !log.to_lowercase().contains("panic"),
        "the server panicked:\n{log}"
    );
}

/// Ways out of the root that the grader's site does not have: a symlink to
/// the secret (absolute and relative), symlinked folders one and two levels
/// up, a folder whose `index.html` leads out, a symlink loop, and (to show
/// that symlinks as such are fine) one that stays in.
pub fn add_escape_routes(site: &Site) {
    let secret = site.secret_name();
    symlink(&site.secret, site.root.join("leak.txt"));
    symlink(&site.dir, site.root.join("up"));
    symlink(
        format!("../../{secret}"),
        site.root.join("sub/rel-leak.txt"),
    );
    symlink("../..", site.root.join("sub/deep"));
    fs::create_dir(site.root.join("sub2")).unwrap();
    symlink(&site.secret, site.root.join("sub2/index.html"));
    symlink("loop", site.root.join("loop"));
    symlink(".", site.root.join("self"));
}

/// `target` aimed at this site: `{secret}` is the secret's file name and
/// `{root}` the root folder's (both random, as the grader makes them).
pub fn aimed(target: &str, site: &Site) -> String {
    let root = site.root.file_name().unwrap_or_default().to_string_lossy();
    target
        .replace("{secret}", &site.secret_name())
        .replace("{root}", &root)
}

/// Sends the grader's `no-traversal` payloads (`traversal_targets`, the
/// secret's absolute path among them) and checks that the secret never comes
/// back, nor a `200`, whatever the status; and the absolute path after `//`.
pub fn assert_no_traversal(addr: SocketAddr, site: &Site) {
    let after_two_slashes = format!("//{}", site.secret.to_string_lossy());
    for target in traversal_targets(&site.fixture)
        .into_iter()
        .chain([after_two_slashes])
    {
        let request = format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        let bytes = send_raw(addr, request.as_bytes());
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&site.secret_text),
            "{target} leaked the secret: {text}"
        );
        if let Some(reply) = parse_reply(&bytes) {
            assert_ne!(reply.head.status, 200, "{target} got 200: {text}");
        }
    }
}

/// Targets beyond the grader's, for [`add_escape_routes`]'s site (aim them
/// with [`aimed`]): more encodings of `..` and `\`, the symlinks, and
/// absolute forms.
pub const MORE_TRAVERSALS: &[&str] = &[
    // Backslashes, raw and encoded once or twice, and as overlong UTF-8.
    "/%2e%2e%5c{secret}",
    "/..%5c..%5c{secret}",
    "/..%255c{secret}",
    "/%252e%252e%255c{secret}",
    "/..%c1%9c{secret}",
    "/%5c../{secret}",
    "/\\..\\{secret}",
    // Dots in other disguises: overlong (valid and not), IIS `%u`,
    // full-width, NUL, three dots.
    "/%e0%80%ae%e0%80%ae/{secret}",
    "/%c0%2e%c0%2e/{secret}",
    "/%uff0e%uff0e/{secret}",
    "/%ef%bc%8e%ef%bc%8e/{secret}",
    "/..%00/{secret}",
    "/%00../{secret}",
    "/../{secret}%00",
    "/{secret}%00.html",
    "/.%2E/.%2E/{secret}",
    "/%2e%2e%2f%2e%2e%2f{secret}",
    "/sub/..%2f..%2f{secret}",
    "/..././{secret}",
    "/....//{secret}",
    "/.../{secret}",
    "/sub/./../../{secret}",
    "/sub/../sub/../../{secret}",
    // The secret's name alone, and through the symlinked folder `up`.
    "/{secret}",
    "/up/{secret}",
    "/up%2f{secret}",
    "/up/./{secret}",
    "/up/{root}/../{secret}",
    // Symlinks: absolute, relative, to a folder above, a folder's index, a loop.
    "/leak.txt",
    "/sub/rel-leak.txt",
    "/sub/deep/{secret}",
    "/sub/deep",
    "/sub2/",
    "/loop",
    "/loop/{secret}",
    // Absolute form, with the path climbing.
    "HTTP://test/..%2f{secret}",
    "http://test//../{secret}",
    "http://test/sub/../../{secret}",
    "https://test/../{secret}",
    "file:///{secret}",
];

/// Names Windows reads as more than a name, by family, each aimed at a file
/// that exists (or, with [`aimed`], at the secret): a server that pushed them onto its root
/// would serve that file, or leave the root, on Windows. Every stage refuses
/// them on every system, so a Linux run shows what a Windows one will do:
/// from `not-found` on with 400, before it with a bare close.
pub const WINDOWS_NAMES: &[(&str, &[&str])] = &[
    (
        "a drive",
        &[
            "/C:",
            "/C:{secret}",
            "/sub/C:..%5C{secret}",
            "/c:/windows/win.ini",
        ],
    ),
    (
        "an alternate data stream",
        &[
            "/index.html::$DATA",
            "/index.html:$DATA",
            "/sub::$INDEX_ALLOCATION/page.html",
        ],
    ),
    (
        "a UNC or device path",
        &[
            "/%5C%5C%3F%5CC:%5Cwindows%5Cwin.ini",
            "/%5C%5Clocalhost%5Cc$%5Cwindows%5Cwin.ini",
            "/%5C%5C.%5CCON",
        ],
    ),
    (
        "a trailing dot",
        &[
            "/index.html.",
            "/style.css..",
            "/sub./page.html",
            "/..%5C{secret}.",
        ],
    ),
    (
        "a trailing space",
        &["/index.html%20", "/sub%20/page.html", "/index.html.%20"],
    ),
    (
        "a device name",
        &[
            "/CON",
            "/nul",
            "/nul.html",
            "/Com1.txt",
            "/LPT1",
            "/sub/aux.css",
            "/prn%20.txt",
        ],
    ),
];

/// Targets that use the same tricks but stay inside the root: each must be served
/// as the named file. A server that refused everything would pass the traversal
/// checks; it fails these.
pub const INSIDE_THE_ROOT: &[(&str, &str)] = &[
    ("/sub/../index.html", "index.html"),
    ("/sub/%2e%2e/index.html", "index.html"),
    ("/%69ndex.html", "index.html"),
    ("//sub//page.html", "sub/page.html"),
    ("/sub/./page.html", "sub/page.html"),
    ("/self/self/sub/page.html", "sub/page.html"),
    ("/index.html?../../secret.txt", "index.html"),
    ("http://test/sub/page.html", "sub/page.html"),
    ("HTTP://TEST/sub/../index.html", "index.html"),
];
