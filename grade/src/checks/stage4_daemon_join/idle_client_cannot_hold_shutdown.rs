//! `idle-client-cannot-hold-shutdown`: a silent client cannot keep the
//! server from exiting after Ctrl-C.
//!
//! A join with no time limit waits for the thread of a client that will never
//! speak. The silent client connects once the server has answered a request,
//! and is accepted (the grader watches the listening socket's queue empty,
//! where it can); nothing needs serving while it is connected, so a server
//! that cannot serve two clients at once is judged here on its shutdown alone.

use std::time::{Duration, Instant};

use super::SENDS_CTRL_C;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{EXIT_WITHIN, expect_200};
use crate::fixture;
use crate::probe::{Probe, output_of};
use crate::process;
use course::Stage;

pub static CHECK: Check = Check {
    id: "idle-client-cannot-hold-shutdown",
    stage: Stage::DaemonJoin,
    title: "a silent client cannot keep the server from exiting after Ctrl-C",
    limit: Duration::from_secs(20),
    mode: Mode::OwnServer(SENDS_CTRL_C),
    needs: &[],
    hint: "Wait for busy clients with a time limit (or give client sockets a read timeout): a join without a limit waits for the idle client forever.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let _ = expect_200(probe, fixture::INDEX);
    let idle = probe.connect()?;
    // Until the server has taken the silent client off its accept queue, or
    // for a moment where the queue cannot be read.
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        match process::accept_queue(probe.addr().port()) {
            Some(0) => break,
            Some(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Some(_) => break,
            None => {
                std::thread::sleep(Duration::from_millis(300));
                break;
            }
        }
    }
    probe.interrupt()?;
    let server = probe.own_process();
    let exited = server.wait_exit(EXIT_WITHIN);
    drop(idle);
    match exited {
        Some(_) => Ok(()),
        None => Err(Failure::new(format!(
            "with one client connected and silent, the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("a connection that sends nothing, then Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(&server))),
    }
}
