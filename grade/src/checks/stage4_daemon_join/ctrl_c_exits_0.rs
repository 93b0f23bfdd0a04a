//! `ctrl-c-exits-0`: after Ctrl-C the server exits with status 0, in time.
//!
//! An uncaught signal, or an exception that escapes `main`, is not a clean
//! exit: a service manager, a script, a test runner reads the status.

use std::time::Duration;

use super::SENDS_CTRL_C;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{EXIT_WITHIN, expect_200};
use crate::fixture;
use crate::probe::{Probe, output_of};
use crate::process::describe_exit;
use course::Stage;

pub static CHECK: Check = Check {
    id: "ctrl-c-exits-0",
    stage: Stage::DaemonJoin,
    title: "after Ctrl-C the server exits with status 0, within 10 s",
    limit: Duration::from_secs(20),
    mode: Mode::OwnServer(SENDS_CTRL_C),
    needs: &[],
    hint: "Catch Ctrl-C (SIGINT), finish cleanly and return from main: an uncaught signal or a re-raised exception is not a clean exit.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // Any answer shows the server has started to serve; what it is, is for
    // other checks.
    let _ = expect_200(probe, fixture::INDEX);
    probe.interrupt()?;
    let server = probe.own_process();
    match server.wait_exit(EXIT_WITHIN) {
        Some(status) if status.code() == Some(0) => Ok(()),
        Some(status) => Err(Failure::new(format!(
            "after Ctrl-C the server {}",
            describe_exit(status)
        ))
        .sent("Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(&server))),
        None => Err(Failure::new(format!(
            "the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("Ctrl-C (SIGINT to the server's process group), with no client connected")
        .received(output_of(&server))),
    }
}
