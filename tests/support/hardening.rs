//! Helpers for the adversarial suites (`security`, `malformed`, `load`): which
//! stages to run, what "still healthy" means after an attack, and more ways out
//! of the root than the stage tests try.

use std::fs;

use multithreaded_server::{Stage, stages};

use super::{Rng, Server, Site, assert_file, get, symlink};

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

/// More ways out than the fixture has: a relative symlink to the secret, a
/// symlinked folder two levels up, a folder whose `index.html` leads out, a
/// symlink loop, and (to show that symlinks as such are fine) one that stays in.
pub fn add_escape_routes(site: &Site) {
    symlink("../../secret.txt", site.root.join("sub/rel-leak.txt"));
    symlink("../..", site.root.join("sub/deep"));
    fs::create_dir(site.root.join("sub2")).unwrap();
    symlink(&site.secret, site.root.join("sub2/index.html"));
    symlink("loop", site.root.join("loop"));
    symlink(".", site.root.join("self"));
}

/// Targets beyond [`super::TRAVERSALS`], for [`add_escape_routes`]'s site: more
/// encodings of `..` and `\`, the new symlinks, and absolute forms.
pub const MORE_TRAVERSALS: &[&str] = &[
    // Backslashes, raw and encoded once or twice, and as overlong UTF-8.
    "/%2e%2e%5csecret.txt",
    "/..%255csecret.txt",
    "/%252e%252e%255csecret.txt",
    "/..%c1%9csecret.txt",
    "/%5c../secret.txt",
    "/\\..\\secret.txt",
    // Dots in other disguises: invalid overlong, IIS `%u`, full-width, NUL.
    "/%c0%2e%c0%2e/secret.txt",
    "/%uff0e%uff0e/secret.txt",
    "/%ef%bc%8e%ef%bc%8e/secret.txt",
    "/..%00/secret.txt",
    "/%00../secret.txt",
    "/.%2E/.%2E/secret.txt",
    "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/sub/..%2f..%2fsecret.txt",
    "/..././secret.txt",
    "/....//secret.txt",
    "/sub/./../../secret.txt",
    // The secret's name alone, and an encoded slash into the symlinked folder.
    "/secret.txt",
    "/up%2fsecret.txt",
    "/up/./secret.txt",
    // Symlinks: relative, to a folder above, a folder's index, a loop.
    "/sub/rel-leak.txt",
    "/sub/deep/secret.txt",
    "/sub/deep",
    "/sub2/",
    "/loop",
    "/loop/secret.txt",
    // Absolute form, with the path climbing.
    "HTTP://test/..%2fsecret.txt",
    "http://test//../secret.txt",
    "http://test/sub/../../secret.txt",
    "https://test/../secret.txt",
    "file:///secret.txt",
];

/// Names Windows reads as more than a name, by family, each aimed at a file
/// that exists (or at the secret): a server that pushed them onto its root
/// would serve that file, or leave the root, on Windows. Every stage refuses
/// them on every system, so a Linux run shows what a Windows one will do:
/// from `not-found` on with 400, before it with a bare close.
pub const WINDOWS_NAMES: &[(&str, &[&str])] = &[
    (
        "a drive",
        &[
            "/C:",
            "/C:secret.txt",
            "/sub/C:..%5Csecret.txt",
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
            "/..%5Csecret.txt.",
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
