//! `keep-alive`: two, then ten requests on one connection are each answered in full, without Connection: close.

use std::time::Duration;

use super::one_connection;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "keep-alive",
    stage: Stage::KeepAlive,
    title: "two, then ten requests on one connection are each answered in full, without Connection: close",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[],
    hint: "After a response, read the next request from the same connection, unless the client asked to close. Every response needs a Content-Length, so the client knows where it ends.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    one_connection(probe, &[fixture::INDEX, fixture::STYLE])?;
    // The two files every check asks for, in turn: a server that mangles
    // binary files, fails on sub-folders or on `.txt` files fails the check
    // about that, and should not fail the keep-alive checks for it too.
    let files = [fixture::INDEX, fixture::STYLE];
    let ten: Vec<&str> = files.iter().cycle().take(10).copied().collect();
    one_connection(probe, &ten)
}
