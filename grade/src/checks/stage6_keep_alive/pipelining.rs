//! `pipelining`: requests sent together in one write are each answered, in order.

use std::io::Write;
use std::time::Duration;

use super::{Conversation, expect_file, request};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::ANSWER_WITHIN;
use crate::client::{self, Exchange};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "pipelining",
    stage: Stage::KeepAlive,
    title: "requests sent together in one write are each answered, in order",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[],
    hint: "One read may bring more than one request: keep the bytes after the first request's head, and answer the next request from them before reading again.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // Told apart by their tokens, alternating so that answers out of order
    // show; the two files every check asks for, so that a fault with
    // sub-folders or a type is judged by the check about it, not here.
    let paths = [
        fixture::INDEX,
        fixture::STYLE,
        fixture::INDEX,
        fixture::STYLE,
    ];
    let requests: Vec<u8> = paths
        .iter()
        .flat_map(|path| request(probe, path, "HTTP/1.1", None))
        .collect();
    let mut conversation = Conversation::open(probe)?;
    let _ = conversation.stream.write_all(&requests);
    for (n, path) in paths.iter().enumerate() {
        let (received, end) = client::read_one(
            &mut conversation.stream,
            &mut conversation.pending,
            "GET",
            probe.within(ANSWER_WITHIN),
        );
        let exchange = Exchange {
            sent: requests.clone(),
            received,
            end,
            took: Duration::ZERO,
        };
        let what = format!(
            "response {} of the {} requests sent together in one write",
            n + 1,
            paths.len()
        );
        expect_file(probe, &exchange, path, &what)?;
    }
    Ok(())
}
