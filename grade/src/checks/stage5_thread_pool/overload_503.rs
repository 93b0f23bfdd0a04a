//! `overload-503`: with every worker busy and the queue full, a new client
//! is turned away at once with `503` and `Retry-After`; once the crowd has
//! gone, the server serves again.

use std::time::Duration;

use super::{after_the_crowd, fill_pool, filled};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, waited};
use crate::client::{self};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "overload-503",
    stage: Stage::ThreadPool,
    title: "with every worker busy and the queue full, a new client gets 503 with Retry-After at once; once they leave, it serves again",
    limit: Duration::from_secs(30),
    mode: Mode::Shared,
    needs: &[Need::Threads, Need::Queue, Need::BigFile],
    hint: "Give the queue a size ({queue}); when a connection finds it full, answer `503 Service Unavailable` with `Retry-After` and close, without waiting for a worker.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let result = fill_and_ask(probe);
    let exchange = after_the_crowd(probe);
    result?;
    match exchange.reply() {
        Some(reply) if reply.status() == 200 => Ok(()),
        _ => Err(Failure::of(
            format!(
                "once the clients that filled the pool had gone, GET /{} got no 200 ({})",
                fixture::INDEX,
                waited(&exchange)
            ),
            &exchange,
        )
        .hint("The workers must come back for more once their clients have gone: an error while sending ends that response, not the worker.")),
    }
}

/// Fills the pool and the queue, then asks for one more.
fn fill_and_ask(probe: &Probe) -> Result<(), Failure> {
    let _full = fill_pool(probe)?;
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr(), &request, probe.within(ANSWER_WITHIN));
    let setting = format!("after {}", filled(probe));
    match exchange.reply() {
        Some(reply) if reply.status() == 503 => match reply.header("Retry-After") {
            Some(_) => Ok(()),
            None => Err(Failure::of(
                format!("{setting}, a new client got 503 but no Retry-After header"),
                &exchange,
            )
            .hint("Add `Retry-After: 1` (seconds) to the 503, so clients know when to try again.")),
        },
        Some(reply) => Err(Failure::of(
            format!(
                "{setting}, a new client got {} instead of 503 Service Unavailable",
                reply.status()
            ),
            &exchange,
        )),
        None => Err(Failure::of(
            format!(
                "{setting}, a new client got no answer within {} s; it should be turned away at once",
                ANSWER_WITHIN.as_secs()
            ),
            &exchange,
        )),
    }
}
