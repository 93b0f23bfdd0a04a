//! `idle-client`: a connected, silent client does not hold up another.
//!
//! A single-threaded server blocks in its read of the silent client, and the
//! next client waits. A read timeout only shortens the wait: the other client
//! must be answered while the silent one is still connected.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, expect_token, holds, request_for, waited};
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "idle-client",
    stage: Stage::ThreadPerClient,
    title: "a connected, silent client does not hold up another client",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Serve each connection on its own thread, so the accept loop goes straight back to accept instead of waiting for a client to speak.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // The server must answer first, with nobody else connected: then a
    // request unanswered while the silent client is there is this check's
    // fault, whatever else the server gets wrong, for no connection has
    // closed in between.
    expect_token(probe, fixture::INDEX)?;
    let idle = probe.connect()?;
    probe.step("a silent connection open, and GET /index.html on another");
    let exchange = client::exchange(
        probe.addr(),
        &request_for(probe, fixture::INDEX),
        probe.within(ANSWER_WITHIN),
    );
    probe.record(&exchange);
    let what = format!(
        "another client's GET /index.html, while one client was connected and silent ({})",
        waited(&exchange)
    );
    holds(probe, &exchange, fixture::INDEX, &what).map_err(Failure::its_own)?;
    // Answered, but perhaps only because the server gave up on the idle client.
    if !client::is_open(&idle) {
        return Err(Failure::of(
            "the other client was answered only after the server had hung up on the silent one",
            &exchange,
        )
        .hint("The server waits on one client at a time; a read timeout only shortens the wait. Serve each connection on its own thread."));
    }
    probe.step("closing the silent connection");
    Ok(())
}
