//! `connects`: the server is there, and serving.
//!
//! Before any check, the grader waited for the server's port with its
//! readiness probe: a connection opened and closed at once, with nothing
//! sent. A server that accepts is not yet one that serves: it may have died
//! of that empty connection, or be stuck on it, spinning on a socket whose
//! client has gone and never accepting again. So this check asks for a page
//! and wants an answer, any answer, within a few seconds, and then watches
//! the server's CPU time while nothing happens.
//!
//! When it fails, the runner starts a fresh copy of the server for the checks
//! after it (with a probe that asks for a page instead), so that a server
//! that cannot take an empty connection is failed here, once, and graded on
//! the rest; one that answers nothing at all is not graded further.

use std::time::{Duration, Instant};

use crate::check::Failure;
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, idle_cpu, request_for};
use crate::client;
use crate::fixture;
use crate::probe::{Probe, output_of};
use crate::process::{self, describe_exit};
use crate::watch::Replay;
use course::Stage;

pub static CHECK: Check = Check {
    id: "connects",
    stage: Stage::SingleThreaded,
    title: "accepts connections on its port and answers a request, even after a client that sent nothing",
    limit: Duration::from_secs(20),
    mode: crate::check::Mode::Shared,
    needs: &[],
    hint: "Listen on 127.0.0.1 at the port given on the command line, and call accept in a loop. A client that connects and closes without a byte is a client like any other: its recv returns nothing (0 bytes) at once; close that connection and go back to accept.",
    run,
};

/// How long the server is watched, idle, once it has answered: short, as
/// every run pays it; a spinning server is busy in every window anyway.
const IDLE_WINDOW: Duration = Duration::from_millis(300);
/// The most CPU time the server may use in [`IDLE_WINDOW`]: a tenth of a core.
const IDLE_CPU_LIMIT: Duration = Duration::from_millis(30);

fn run(probe: &Probe) -> Result<(), Failure> {
    let gone = |status| {
        Failure::new(format!(
            "the server {} after the grader's readiness probe ({}) and before any request",
            describe_exit(status),
            process::READINESS_PROBE
        ))
    };
    let process = probe.process();
    if let Some(server) = &process
        && let Some(status) = server.exit_status()
    {
        return Err(gone(status).received(output_of(server)));
    }
    // What a fresh copy is sent again, if the server dies of it: the probe's
    // connection, which said nothing.
    probe.step_with(
        "a connection closed without a byte sent (the readiness probe)",
        Some(Replay {
            bytes: Vec::new(),
            hang_up: true,
        }),
    );
    let cpu_before = process.as_ref().and_then(|server| server.cpu_time());
    let started = Instant::now();
    let exchange = probe.send_within(&request_for(probe, fixture::INDEX), ANSWER_WITHIN);
    if let Some(server) = &process
        && let Some(status) = server.wait_exit(Duration::from_millis(200))
    {
        return Err(gone(status).received(output_of(server)));
    }
    // A server that answers only `/` answers all the same: what it does
    // with /index.html is for the checks that ask for files.
    // (Asked only of a server that closed on /index.html: one that kept the
    // connection open without a word would keep this one too.)
    let root =
        (exchange.reply().is_none() && !exchange.answered_unreadably() && exchange.hung_up())
            .then(|| probe.send_within(&client::get_request(probe.addr(), "/"), ANSWER_WITHIN))
            .filter(|root| root.reply().is_some() || root.answered_unreadably());
    if let Some(root) = &root {
        probe.note(format!(
            "GET /index.html got no response, but GET / was answered{}; the checks that ask for files judge the rest",
            if root.reply().is_some() { "" } else { " (not in HTTP a client can read)" }
        ));
    } else if exchange.answered_unreadably() {
        // It serves: what it writes is not HTTP a client can read, which
        // `head-syntax` names, and every check that reads a file fails for.
        probe.note(format!(
            "GET /index.html was answered with {} bytes that are not an HTTP response a client can read (its head never ends); head-syntax judges it",
            exchange.received.len()
        ));
    } else if exchange.reply().is_none() {
        let mut problem = format!(
            "after the readiness probe (a connection that sent nothing), GET /index.html got no HTTP response within {} s",
            ANSWER_WITHIN.as_secs()
        );
        let spent = process.as_ref().and_then(|server| {
            let used = server.cpu_time()?.checked_sub(cpu_before?)?;
            Some((used, started.elapsed()))
        });
        if let Some((used, elapsed)) = spent {
            problem.push_str(&format!(
                "; meanwhile the server used {} ms of CPU time in {:.1} s",
                used.as_millis(),
                elapsed.as_secs_f64()
            ));
            if used * 4 > elapsed {
                problem.push_str(": it is spinning, most likely in a loop that reads the probe's closed connection again and again");
            }
        }
        return Err(Failure::of(problem, &exchange));
    }
    idle_cpu(
        probe,
        IDLE_WINDOW,
        IDLE_CPU_LIMIT,
        "after a connection that sent nothing, and a request answered",
    )
    .map_err(|failure| {
        failure.hint("A loop that reads a closed socket must stop: recv returning 0 bytes means the client has gone, so close the connection and go back to accept.")
    })
}
