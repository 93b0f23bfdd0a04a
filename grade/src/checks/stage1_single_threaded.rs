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
use std::time::{Duration, Instant};

use super::{ANSWER_WITHIN, Probe, exited, expect_200, no_response, output_of};
use crate::check::Failure;
use crate::client::{self, Exchange};
use crate::fixture::{self, Fixture};
use crate::process;
use crate::response::{self, Ending, Framing, Reply};

/// How long `connects` watches a server after its connection closes: long
/// enough for one that dies of a client that says nothing to do so.
const SETTLE: Duration = Duration::from_millis(500);

/// The server accepts a connection, and a client that sends nothing (as the
/// grader's readiness probe did, before any check) does not stop it.
pub fn connects(probe: &Probe) -> Result<(), Failure> {
    let gone = |status| {
        Failure::new(format!(
            "the server {} after the grader's readiness probe ({}) and before any request",
            process::describe_exit(status),
            process::READINESS_PROBE
        ))
        .hint("A client that connects and closes without a byte is a client like any other: its recv returns nothing at once; close that connection and go back to accept.")
    };
    if let Some(server) = probe.watched.as_deref()
        && let Some(status) = server.exit_status()
    {
        return Err(gone(status).received(output_of(server)));
    }
    probe.step("a connection closed without a byte sent");
    let connected = probe.connect().map(drop);
    // Dying on the probe may take a moment, and may come before or after
    // this connection: either way, that is what the report must say.
    if let Some(server) = probe.watched.as_deref()
        && let Some(status) = server.wait_exit(SETTLE)
    {
        return Err(gone(status).received(output_of(server)));
    }
    connected
}

/// `GET` a fixture file and demand `200` with its exact bytes.
fn expect_file(probe: &Probe, path: &str) -> Result<Reply, Failure> {
    let expected = &probe.site.file(path).bytes;
    let exchange = probe.get(&Probe::target(path));
    let Some(reply) = exchange.reply() else {
        return Err(no_response(&format!("GET /{path}"), &exchange));
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

/// The file that checks about something else ask for, to see that the server
/// still serves: the stylesheet, at the top of the root, text with LF line
/// ends, so that only a server that cannot serve a file at all fails to send
/// it back (not one that reads files in text mode, or mangles binaries).
const CONTROL: &str = fixture::STYLE;

/// Files at the top of the root, for the header checks (so that a server that
/// cannot reach sub-folders fails only the sub-folder check).
const TOP_FILES: [&str; 4] = [
    fixture::INDEX,
    fixture::STYLE,
    fixture::IMAGE,
    fixture::DATA,
];

/// Each top file's body is framed so that a client knows where it ends: a
/// `Content-Length` that counts its bytes, or chunks (RFC 9112 §7.1) that
/// decode to it. Either is right; a response says which it used.
pub fn content_length(probe: &Probe) -> Result<(), Failure> {
    let mut seen = Vec::new();
    for path in TOP_FILES {
        let (reply, exchange) = expect_200(probe, path)?;
        let values: Vec<&str> = reply.headers_named("Content-Length").collect();
        if reply.framing == Framing::Chunked {
            if !values.is_empty() {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: both Transfer-Encoding: chunked and Content-Length; send one or the other"
                    ),
                    &exchange,
                ));
            }
            if let Ending::Broken(error) = &reply.ending {
                return Err(Failure::of(format!("GET /{path}: {error}"), &exchange)
                    .hint("Each chunk is its size in hex, CRLF, exactly that many bytes, CRLF; the body ends with a chunk of size 0 and a blank line."));
            }
            if reply.ending != Ending::Complete {
                return Err(Failure::of(
                    format!("GET /{path}: the chunked body never reached its last chunk"),
                    &exchange,
                ));
            }
            seen.push("chunked");
            continue;
        }
        let body = reply.body_with_excess().len();
        match values[..] {
            [] => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: no Content-Length header (and not chunked), so a client cannot tell where the body ends"
                    ),
                    &exchange,
                ));
            }
            [value] if value.trim().parse() == Ok(body) => seen.push("Content-Length"),
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
    seen.sort_unstable();
    seen.dedup();
    probe.note(format!("framing seen: {}", seen.join(" and ")));
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

/// No target reaches the sentinel; and each gets evidence of that (an answer
/// without the sentinel, or a close), and the server still serves a real
/// file after it. A server that stops answering has not shown that it does
/// not leak, so it fails, and the report names the request it stopped after.
pub fn no_traversal(probe: &Probe) -> Result<(), Failure> {
    let control = |after: &str| -> Result<(), Failure> {
        let exchange = probe.send_within(
            &client::get_request(probe.addr, &Probe::target(CONTROL)),
            ANSWER_WITHIN,
        );
        let served = exchange.reply().is_some_and(|reply| {
            reply.status == 200
                && reply.body_with_excess()[..] == probe.site.file(CONTROL).bytes[..]
        });
        if served {
            return Ok(());
        }
        let problem = format!(
            "could not be checked: the server stopped answering {after}: GET /{CONTROL} did not bring the file back"
        );
        Err(exited(probe, after, true).unwrap_or_else(|| Failure::of(problem, &exchange)))
    };
    control("before any path outside the root was asked for")?;
    for target in traversal_targets(&probe.site) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            probe.addr
        );
        let exchange = probe.send_within(request.as_bytes(), ANSWER_WITHIN);
        if response::find(&exchange.received, probe.site.sentinel_text.as_bytes()).is_some() {
            return Err(Failure::of(
                format!(
                    "GET {target} sent back the contents of {}, a file outside the root",
                    probe.site.sentinel.display()
                ),
                &exchange,
            ));
        }
        // Evidence that nothing leaked: an answer, or a close.
        let answered = exchange.reply().is_some()
            || matches!(exchange.end, client::End::Closed | client::End::Reset);
        if !answered {
            return Err(Failure::of(
                format!(
                    "could not be checked: the server stopped answering at GET {target}, so it may have leaked the file"
                ),
                &exchange,
            ));
        }
        control(&format!("after GET {target}"))?;
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
        probe.step(format!("a client that {what}"));
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
    idle_after_bad_clients(probe)
}

/// How long the server is watched, idle, after the bad clients have left.
pub const IDLE_WINDOW: Duration = Duration::from_secs(2);

/// The most CPU time an idle server may use in [`IDLE_WINDOW`]: a twentieth
/// of a core. An idle server uses next to none. A thread left spinning on a
/// socket whose client has gone uses all it is given, and even on a machine
/// loaded twenty times over its cores that is more than this.
pub const IDLE_CPU_LIMIT: Duration = Duration::from_millis(100);

/// With the bad clients gone, the server must go idle: a thread still
/// spinning on a connection that was closed half-way burns a core for ever,
/// though the server still answers. Measured where the grader started the
/// server and can read its CPU time; elsewhere a note says why not.
///
/// A busy window is measured once more before it fails the server: a
/// runtime may compile or collect garbage for a moment after a burst of
/// requests, but a spinning thread is busy in every window.
fn idle_after_bad_clients(probe: &Probe) -> Result<(), Failure> {
    let Some(server) = probe.watched.as_deref().or(probe.server.as_deref()) else {
        probe.note(
            "idle CPU not measured: the grader did not start this server, so it cannot read its CPU time (grade with `-- COMMAND` to measure it)",
        );
        return Ok(());
    };
    let mut windows = Vec::new();
    for _ in 0..2 {
        let Some(before) = server.cpu_time() else {
            if let Some(failure) = exited(probe, "after the bad clients", true) {
                return Err(failure);
            }
            if windows.is_empty() {
                probe.note(
                    "idle CPU not measured: the grader does not read a server's CPU time on this system (it does on Linux and macOS)",
                );
                return Ok(());
            }
            break;
        };
        let started = Instant::now();
        // The window is the measurement: nothing is sent during it.
        std::thread::sleep(IDLE_WINDOW);
        let Some(after) = server.cpu_time() else {
            return Err(
                exited(probe, "while it should have been idle", true).unwrap_or_else(|| {
                    Failure::new(
                        "the server's processes were gone when its idle CPU time was measured",
                    )
                }),
            );
        };
        let used = after.saturating_sub(before);
        windows.push(format!(
            "{} ms of CPU time in {} ms",
            used.as_millis(),
            started.elapsed().as_millis()
        ));
        if used <= IDLE_CPU_LIMIT {
            probe.note(format!(
                "idle after the bad clients: {}",
                windows.join(", then ")
            ));
            return Ok(());
        }
    }
    Err(Failure::new(format!(
        "with every bad client gone and no request under way, the server kept using CPU: {} (an idle server uses at most {} ms in {} s): something is still spinning",
        windows.join(", then "),
        IDLE_CPU_LIMIT.as_millis(),
        IDLE_WINDOW.as_secs()
    ))
    .hint("A loop that reads a closed or non-blocking socket must stop: recv returning 0 bytes means the client has gone, so close the connection; and wait for data (a blocking read with a timeout, or select/poll) instead of asking again at once."))
}

/// How long `split-request` waits between the pieces of a head: far longer
/// than a server's one read takes, so the first read sees only a piece.
pub const SPLIT_PAUSE: Duration = Duration::from_millis(200);

/// A request head that arrives in three pieces, split inside the request line
/// and inside a header, and a head with about 4 KiB of headers: both must be
/// answered with the file, as a server that reads until the blank line does.
pub fn split_request(probe: &Probe) -> Result<(), Failure> {
    let path = CONTROL;
    let expected = &probe.site.file(path).bytes;
    let request = client::get_request(probe.addr, &Probe::target(path));
    // "GET /sty" | "le.css HTTP/1.1\r\nHo" | "st: ...\r\n\r\n"
    let host_at = response::find(&request, b"Host").expect("the request names its host");
    let pieces = [
        &request[..8],
        &request[8..host_at + 2],
        &request[host_at + 2..],
    ];
    let exchange = client::exchange_in_pieces(probe.addr, &pieces, SPLIT_PAUSE, probe.deadline);
    let pauses = format!(
        "in three writes {} ms apart (split after `GET /sty` and inside `Host`)",
        SPLIT_PAUSE.as_millis()
    );
    expect_body(&exchange, path, expected, &pauses)?;

    // About 4 KiB of headers: more than one read of 1,024 bytes, or of 4,096.
    let padding: String = (0..48)
        .map(|n| format!("X-Padding-{n:02}: {}\r\n", "p".repeat(70)))
        .collect();
    let long = format!(
        "GET /{path} HTTP/1.1\r\nHost: {}\r\n{padding}Connection: close\r\n\r\n",
        probe.addr
    );
    let exchange = probe.send(long.as_bytes());
    expect_body(
        &exchange,
        path,
        expected,
        &format!("with a head of {} bytes", long.len()),
    )
}

/// A failure unless `exchange` brought back `200` with `expected` as its body.
fn expect_body(exchange: &Exchange, path: &str, expected: &[u8], how: &str) -> Result<(), Failure> {
    match exchange.reply() {
        Some(reply) if reply.status == 200 && reply.body_with_excess()[..] == expected[..] => {
            Ok(())
        }
        Some(reply) if reply.status == 200 => Err(Failure::of(
            format!(
                "GET /{path} sent {how}: the body is not the file: {}",
                client::first_difference(expected, &reply.body_with_excess())
            ),
            exchange,
        )),
        Some(reply) => Err(Failure::of(
            format!("GET /{path} sent {how} got {} instead of 200", reply.status),
            exchange,
        )),
        None => Err(Failure::of(
            format!("GET /{path} sent {how} got no HTTP response"),
            exchange,
        )),
    }
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
