//! Stage 1's checks: the report's six steps, done right. Accept, read the
//! request, find the file under the root (and nowhere else), and send it back
//! byte for byte with a true `Content-Length` and `Content-Type`; and survive
//! clients that misbehave.
//!
//! A file is checked against everything the server sent after its head, not
//! only what its `Content-Length` covers: a wrong length is for the
//! `content-length` check to catch, so that a server that counts characters
//! fails that one check and not every check that fetches a text file.

use std::io::Write;

use super::{Probe, exited, expect_200};
use crate::check::Failure;
use crate::client;
use crate::fixture::{self, Fixture};
use crate::response::{self, Reply};

pub fn connects(probe: &Probe) -> Result<(), Failure> {
    probe.connect().map(drop)
}

/// `GET` a fixture file and demand `200` with its exact bytes.
fn expect_file(probe: &Probe, path: &str) -> Result<Reply, Failure> {
    let expected = &probe.site.file(path).bytes;
    let exchange = probe.get(&Probe::target(path));
    let Some(reply) = exchange.reply() else {
        return Err(Failure::of(
            format!("no HTTP response to GET /{path}"),
            &exchange,
        ));
    };
    if reply.status != 200 {
        return Err(Failure::of(
            format!("GET /{path} got {} instead of 200", reply.status),
            &exchange,
        ));
    }
    let body = reply.body_with_excess();
    if body[..] != expected[..] {
        let difference = client::first_difference(expected, &body);
        return Err(Failure::of(
            format!("GET /{path}: the body is not the file: {difference}"),
            &exchange,
        ));
    }
    Ok(reply)
}

pub fn text_files(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::INDEX, fixture::STYLE] {
        expect_file(probe, path)?;
    }
    Ok(())
}

pub fn binary_files(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::IMAGE, fixture::DATA] {
        expect_file(probe, path)?;
    }
    Ok(())
}

/// Files at the top of the root, for the header checks (so that a server that
/// cannot reach sub-folders fails only the sub-folder check).
const TOP_FILES: [&str; 4] = [
    fixture::INDEX,
    fixture::STYLE,
    fixture::IMAGE,
    fixture::DATA,
];

pub fn content_length(probe: &Probe) -> Result<(), Failure> {
    for path in TOP_FILES {
        let (reply, exchange) = expect_200(probe, path)?;
        let values: Vec<&str> = reply.headers_named("Content-Length").collect();
        let body = reply.body_with_excess().len();
        match values[..] {
            [] => {
                return Err(Failure::of(
                    format!("GET /{path}: no Content-Length header"),
                    &exchange,
                ));
            }
            [value] if value.parse() == Ok(body) => {}
            [value] => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: Content-Length says {value}, but the body has {body} bytes"
                    ),
                    &exchange,
                ));
            }
            _ => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: {} Content-Length headers; send exactly one",
                        values.len()
                    ),
                    &exchange,
                ));
            }
        }
    }
    Ok(())
}

pub fn content_type(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::INDEX, fixture::STYLE, fixture::IMAGE] {
        let expected = probe.site.file(path).media_type;
        let (reply, exchange) = expect_200(probe, path)?;
        // `text/html; charset=utf-8` is text/html: only the media type counts.
        let got = reply.header("Content-Type").unwrap_or("");
        let media_type = got.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(expected) {
            let problem = if got.is_empty() {
                format!("GET /{path}: no Content-Type header; expected {expected}")
            } else {
                format!("GET /{path}: Content-Type is `{got}`; expected {expected}")
            };
            return Err(Failure::of(problem, &exchange));
        }
    }
    Ok(())
}

pub fn sub_folder(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::SUB_PAGE, fixture::SUB_NOTES] {
        expect_file(probe, path)?;
    }
    Ok(())
}

/// Request targets that try to reach the sentinel beside the root, from the
/// well-known families: plain and nested `..`, percent-encoded (once and
/// twice), backslashes, overlong UTF-8, NUL tricks, the absolute form, and the
/// sentinel's absolute path on disk.
pub fn traversal_targets(site: &Fixture) -> Vec<String> {
    let name = site.sentinel_name();
    let absolute = site.sentinel.to_string_lossy().into_owned();
    let climbs = [
        "/../",
        "/../../",
        "/sub/../../",
        "/sub/deeper/../../../",
        "/./../",
        "/%2e%2e/",
        "/%2E%2E/",
        "/.%2e/",
        "/%2e%2e%2f",
        "/..%2f",
        "/..%2F",
        "/sub%2f..%2f..%2f",
        "/%252e%252e/",
        "/%252e%252e%252f",
        "/..%5c",
        "/..\\",
        "/%c0%ae%c0%ae/",
        "/%c0%ae%c0%ae%c0%af",
        "/..%c0%af",
        "//../",
        "/..;/",
        "http://grader/../",
        "http://grader/%2e%2e/",
        "/../../../../../../../../../../../../../../../../",
    ];
    let mut targets: Vec<String> = climbs
        .iter()
        .map(|climb| format!("{climb}{name}"))
        .collect();
    targets.push(format!("/../{name}%00.html"));
    targets.push(format!("/%2e%2e/{name}%00"));
    targets.push(absolute.clone());
    targets.push(format!("/{absolute}"));
    targets.push(format!("file://{absolute}"));
    // Names Windows reads as more than a name: `..\` with a trailing dot or
    // space or a stream (Windows strips the first two, and `::$DATA` is the
    // file itself), and the absolute path as one segment (`C:\...`, which
    // `Path::push` takes as a new root), with `/`, encoded, or as `\\?\`.
    for tail in [".", "%20", "::$DATA", ".%20."] {
        targets.push(format!("/..%5c{name}{tail}"));
    }
    let forward = absolute.replace('\\', "/");
    let encoded = absolute.replace('\\', "%5C");
    targets.push(format!("/{forward}"));
    targets.push(format!("/{encoded}"));
    targets.push(format!("/%5C%5C%3F%5C{encoded}"));
    targets
}

pub fn no_traversal(probe: &Probe) -> Result<(), Failure> {
    for target in traversal_targets(&probe.site) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            probe.addr
        );
        let exchange = probe.send(request.as_bytes());
        if response::find(&exchange.received, probe.site.sentinel_text.as_bytes()).is_some() {
            return Err(Failure::of(
                format!(
                    "GET {target} sent back the contents of {}, a file outside the root",
                    probe.site.sentinel.display()
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}

/// Misbehaving clients, each followed by a request that must still be served.
pub fn survives_bad_clients(probe: &Probe) -> Result<(), Failure> {
    let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(20_000));
    let misdeeds: [(&str, Vec<u8>); 5] = [
        ("connected and hung up without a word", Vec::new()),
        (
            "sent half a request line and hung up",
            b"GET /index.ht".to_vec(),
        ),
        (
            "sent a request head that never ends, and hung up",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n".to_vec(),
        ),
        (
            "sent binary garbage",
            vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xfe, b'\r', b'\n', b'\r', b'\n',
            ],
        ),
        ("sent a 20 KB request line", long_line.into_bytes()),
    ];
    // Up to begin with? (A risky check of a later stage runs before this one.)
    let exchange = probe.get(&Probe::target(fixture::INDEX));
    let up = exchange.reply().is_some_and(|reply| reply.status == 200);
    if !up {
        return Err(exited(
            probe,
            "before this check began (see the checks above)",
            true,
        )
        .unwrap_or_else(|| {
            Failure::of(
                "GET /index.html was not answered with 200 even before any misbehaving client",
                &exchange,
            )
        }));
    }
    for (what, bytes) in misdeeds {
        // Send, then hang up at once: the server must cope with the close
        // whatever it was doing.
        if let Ok(mut stream) = client::connect(probe.addr, probe.deadline) {
            let _ = stream.write_all(&bytes);
        }
        let exchange = probe.get(&Probe::target(fixture::INDEX));
        let answered = exchange.reply().is_some_and(|reply| reply.status == 200);
        if let Some(failure) = exited(probe, &format!("after a client {what}"), !answered) {
            let sent = if bytes.is_empty() {
                "nothing".to_owned()
            } else {
                client::escape(&bytes, 200)
            };
            return Err(failure.sent(sent));
        }
        if !answered {
            return Err(Failure::of(
                format!("after a client {what}, GET /index.html was not answered with 200"),
                &exchange,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_targets_all_name_the_sentinel() {
        let site = Fixture::temporary(false).unwrap();
        let name = site.sentinel_name();
        for target in traversal_targets(&site) {
            assert!(target.contains(&name), "{target}");
        }
    }
}
