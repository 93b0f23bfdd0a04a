//! Path traversal, against every stage compiled in: no request target, however
//! it spells `..`, and no symlink, however it is made, reads the secret file that
//! sits beside the root. The report's server (`open(filename[1:])`) failed the
//! first of these targets.

use crate::support::hardening::*;
use crate::support::*;

/// The grader's `no-traversal` payloads (absolute paths among them) and the
/// ones in [`MORE_TRAVERSALS`] never return the secret. From `not-found` on,
/// each of [`MORE_TRAVERSALS`] is answered 400 (the target is malformed or
/// climbs above the root) or 404 (the path leads nowhere, or out through a
/// symlink), and three tell-tale ones with the right one of the two; earlier
/// stages close without a byte. The same tricks used to stay inside the root
/// still work, so the server is not passing by refusing everything.
#[test]
fn no_target_reaches_the_secret_beside_the_root() {
    for stage in compiled_stages() {
        let site = Site::new();
        add_escape_routes(&site);
        let server = Server::start(stage.name(), &site.root, &[]);
        assert_no_traversal(server.addr, &site);

        for target in MORE_TRAVERSALS.iter().map(|target| aimed(target, &site)) {
            let request =
                format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            let bytes = send_raw(server.addr, request.as_bytes());
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&site.secret_text),
                "{stage}: {target} leaked the secret: {text}"
            );
            if answers_errors(stage) {
                let status = parse_reply(&bytes).map(|reply| reply.head.status);
                assert!(
                    matches!(status, Some(400 | 404)),
                    "{stage}: {target} got {status:?}, not 400 or 404: {text}"
                );
            } else {
                assert!(bytes.is_empty(), "{stage}: {target} got an answer: {text}");
            }
        }

        // Which of the two: a symlink out leads nowhere (404, as if it were
        // not there), a climb above the root is a malformed target (400).
        if answers_errors(stage) {
            for (target, status) in [
                ("/leak.txt", 404),
                ("/up/{secret}", 404),
                ("/../{secret}", 400),
            ] {
                let target = aimed(target, &site);
                assert_eq!(
                    get(server.addr, &target).status(),
                    status,
                    "{stage}: {target}"
                );
            }
        }

        for (target, file) in INSIDE_THE_ROOT {
            // Through the symlink `self`, which Windows may not have made
            // (see `crate::support::symlink`).
            if target.starts_with("/self/") && !site.root.join("self").exists() {
                continue;
            }
            let reply = get(server.addr, target);
            assert_eq!(
                reply.head.status, 200,
                "{stage}: {target} is inside the root"
            );
            assert_eq!(reply.body, site.read(file), "{stage}: {target} is {file}");
        }
        assert_no_panic(&server);
    }
}
/// Each family of name that Windows reads as more than a name (a drive, a
/// stream, a UNC path, a trailing dot or space, a device) is refused as a
/// malformed target, on every system: 400 from `not-found` on, a bare close
/// before. On Linux most of them would otherwise be a plain 404 and the
/// trailing-dot ones a 200 under Wine, so the status tells the refusal apart.
#[test]
fn names_windows_reads_differently_are_refused() {
    for stage in compiled_stages() {
        let site = Site::new();
        let server = Server::start(stage.name(), &site.root, &[]);
        for (family, targets) in WINDOWS_NAMES {
            for target in targets.iter().map(|target| aimed(target, &site)) {
                let request =
                    format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
                let bytes = send_raw(server.addr, request.as_bytes());
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(&site.secret_text),
                    "{stage}: {target} ({family}) leaked the secret: {text}"
                );
                if answers_errors(stage) {
                    let status = parse_reply(&bytes).map(|reply| reply.head.status);
                    assert_eq!(status, Some(400), "{stage}: {target} ({family}): {text}");
                } else {
                    assert!(
                        bytes.is_empty(),
                        "{stage}: {target} ({family}) got an answer: {text}"
                    );
                }
            }
        }
        assert_no_panic(&server);
    }
}

/// The 404 page goes through the same gate as every other file: an `error.html`
/// that is a symlink out of the root is not followed, and the built-in page is
/// sent instead.
#[test]
#[cfg(feature = "not-found")]
fn a_symlinked_error_page_does_not_leak() {
    use std::fs;
    for stage in compiled_stages().into_iter().filter(|s| answers_errors(*s)) {
        let site = Site::new();
        fs::remove_file(site.root.join("error.html")).unwrap();
        symlink(&site.secret, site.root.join("error.html"));
        let server = Server::start(stage.name(), &site.root, &[]);
        let reply = get(server.addr, "/missing.html");
        assert_eq!(reply.head.status, 404, "{stage}");
        assert!(
            !reply.text().contains(&site.secret_text),
            "{stage}: the 404 page is the secret: {}",
            reply.text()
        );
        assert!(reply.text().contains("<h1>404 Not Found</h1>"), "{stage}");
    }
}
