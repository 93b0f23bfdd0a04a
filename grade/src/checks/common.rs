//! What the checks of every stage share: how long an answer may take, how a
//! file that came back is recognised, and how a missing answer is reported.
//!
//! A check that is not about exact bytes recognises a file by its token
//! ([`SiteFile::is_in`]), so that a server that rewrites line ends, or
//! mangles binary files, fails `text-files` or `binary-files` and nothing
//! else. A request that got no answer at all is the fault of `connects` when
//! that check failed too (the server answers nothing), and otherwise of the
//! check that asked: [`no_response`] says so with
//! [`Failure::unless`](crate::check::Failure::unless).

use std::time::{Duration, Instant};

use crate::check::Failure;
use crate::client::{self, End, Exchange};
use crate::fixture::SiteFile;
use crate::probe::Probe;
use crate::response::Reply;

/// How long a request may wait for its answer.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// How long a server has to exit after Ctrl-C. The course's servers give up
/// on unfinished clients after 5 s (`--shutdown-timeout`).
pub const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// What a check that got no answer needed: a server that answers, which
/// `connects` judges.
pub const ANSWERS: &str = "a server that answers requests";

/// The failure of a request that got no HTTP response. It is not this
/// check's fault if `connects` failed; when the server printed something
/// (a panic, a stack trace), that is shown, as it says more than the silence.
pub fn no_response(probe: &Probe, what: &str, exchange: &Exchange) -> Failure {
    let mut failure = Failure::of(format!("no HTTP response to {what}"), exchange);
    if let Some(output) = recent_output(probe) {
        let received = failure.received.take().unwrap_or_default();
        failure = failure
            .received(format!("{received}\nthe server's last output:\n{output}"))
            .hint("The server printed the lines above while this request went unanswered: an error in the handler (an exception, a panic) ended the response. Catch it in the handler and answer (500 Internal Server Error), or fix its cause.");
    }
    failure.unless(ANSWERS, &["connects"])
}

/// The server's last lines of output, if it printed any that look like an
/// error: what a check that got no answer should show.
fn recent_output(probe: &Probe) -> Option<String> {
    let output = probe.process()?.output();
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.len().saturating_sub(12);
    let tail = &lines[start..];
    tail.iter()
        .any(|line| looks_like_an_error(line))
        .then(|| tail.join("\n"))
}

/// Whether a line of a server's output reports an error: a panic, a
/// traceback, an exception, a crash.
pub fn looks_like_an_error(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    // "error" as a word, not in a name: a request log's `GET /error.html`
    // is no error.
    [
        "panic",
        "traceback",
        "error:",
        "error ",
        "exception",
        "segmentation",
        "abort",
    ]
    .iter()
    .any(|word| line.contains(word))
}

/// How long an exchange waited, as measured, for a problem that says it got
/// nothing: "waited 5.0 s", or "the server closed the connection after 0.0 s".
pub fn waited(exchange: &Exchange) -> String {
    let seconds = exchange.took.as_secs_f64();
    match exchange.end {
        End::Closed => format!("the server closed the connection after {seconds:.1} s"),
        End::Reset => format!("the server reset the connection after {seconds:.1} s"),
        End::NotConnected(_) => "no connection".to_owned(),
        _ => format!("waited {seconds:.1} s"),
    }
}

/// `GET` a file and demand a `200` with a head, whatever the body.
pub fn expect_200(probe: &Probe, path: &str) -> Result<(Reply, Exchange), Failure> {
    let target = Probe::target(path);
    let exchange = probe.get(&target);
    match exchange.reply() {
        Some(reply) if reply.status() == 200 => Ok((reply, exchange)),
        Some(reply) => Err(Failure::of(
            format!("GET {target} got {} instead of 200", reply.status()),
            &exchange,
        )),
        None => Err(no_response(probe, &format!("GET {target}"), &exchange)),
    }
}

/// `GET` a file of the site and demand a `200` whose body holds its token.
///
/// A failure here is the fault of the check that serves such a file, if it
/// failed: the check that asked is then not judged.
pub fn expect_token(probe: &Probe, path: &str) -> Result<Reply, Failure> {
    let target = Probe::target(path);
    let exchange = probe.get(&target);
    holds(probe, &exchange, path, &format!("GET {target}")).map_err(|failure| {
        let mut by = vec!["connects", served_by(path)];
        if path.contains('/') {
            by.push("sub-folder");
        }
        failure.unless(format!("{target} served"), &by)
    })
}

/// The check that judges whether a file of `path`'s kind is served: a
/// server that fails on `.txt` files fails `text-files`, and a check that
/// asks for `sub/deeper/notes.txt` is not judged for it.
fn served_by(path: &str) -> &'static str {
    if path.ends_with(".png") || path.ends_with(".bin") {
        "binary-files"
    } else {
        "text-files"
    }
}

/// Demands that `exchange` brought a `200` whose body holds the token of
/// the file at `path`; `what` names the request in a failure.
pub fn holds(probe: &Probe, exchange: &Exchange, path: &str, what: &str) -> Result<Reply, Failure> {
    let Some(reply) = exchange.reply() else {
        return Err(no_response(probe, what, exchange));
    };
    if reply.status() != 200 {
        return Err(Failure::of(
            format!("{what} got {} instead of 200", reply.status()),
            exchange,
        ));
    }
    let file = probe.site.file(path);
    let body = reply.body_with_excess();
    if !file.is_in(&body) {
        return Err(Failure::of(
            format!(
                "{what} should bring /{path}; {}",
                which_file(probe, file, &body)
            ),
            exchange,
        ));
    }
    Ok(reply)
}

/// What a body that is not `file` is instead, in words.
pub fn which_file(probe: &Probe, file: &SiteFile, body: &[u8]) -> String {
    match probe.site.file_in(body) {
        Some(other) if other.path != file.path => format!("it holds /{} instead", other.path),
        _ if body.is_empty() => "its body is empty".to_owned(),
        _ => format!(
            "its {} bytes are not that file (they do not hold its token)",
            body.len()
        ),
    }
}

/// How long the server is watched, idle, to see whether it spins.
pub const IDLE_WINDOW: Duration = Duration::from_millis(1000);

/// The most CPU time an idle server may use in [`IDLE_WINDOW`]: a twentieth
/// of a core. An idle server uses next to none. A thread left spinning on a
/// socket whose client has gone uses all it is given, and even on a machine
/// loaded twenty times over its cores that is more than this.
pub const IDLE_CPU_LIMIT: Duration = Duration::from_millis(50);

/// The server must be idle, `after` something: its CPU time over a window
/// with nothing sent must be next to none. Measured where the grader started
/// the server and can read its CPU time; elsewhere a note says why not.
///
/// A busy window is measured again, twice, before it fails the server: a
/// runtime may compile or collect garbage for a moment after a burst of
/// requests, but a spinning thread is busy in every window.
pub fn idle_cpu(
    probe: &Probe,
    window: Duration,
    limit: Duration,
    after: &str,
) -> Result<(), Failure> {
    let Some(server) = probe.process() else {
        probe.note(
            "idle CPU not measured: the grader did not start this server, so it cannot read its CPU time (grade with `-- COMMAND` to measure it)",
        );
        return Ok(());
    };
    let mut windows = Vec::new();
    for _ in 0..3 {
        let Some(before) = server.cpu_time() else {
            if let Some(failure) = probe.exited(after, true) {
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
        std::thread::sleep(window);
        let Some(now) = server.cpu_time() else {
            return Err(probe
                .exited("while it should have been idle", true)
                .unwrap_or_else(|| {
                    Failure::new(
                        "the server's processes were gone when its idle CPU time was measured",
                    )
                }));
        };
        let used = now.saturating_sub(before);
        windows.push(format!(
            "{} ms of CPU time in {} ms",
            used.as_millis(),
            started.elapsed().as_millis()
        ));
        if used <= limit {
            probe.note(format!("idle {after}: {}", windows.join(", then ")));
            return Ok(());
        }
    }
    Err(Failure::new(format!(
        "{after}, with no request under way, the server kept using CPU: {} (an idle server uses at most {} ms in {} ms): something is still spinning",
        windows.join(", then "),
        limit.as_millis(),
        window.as_millis()
    )))
}

/// The request the grader sends for the file at `path`.
pub fn request_for(probe: &Probe, path: &str) -> Vec<u8> {
    client::get_request(probe.addr(), &Probe::target(path))
}
