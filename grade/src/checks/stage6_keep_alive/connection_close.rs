//! `connection-close`: a request with Connection: close gets Connection: close, and the connection closes.

use std::time::Duration;

use super::{Conversation, expect_file, request};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "connection-close",
    stage: Stage::KeepAlive,
    title: "a request with Connection: close gets Connection: close, and the connection closes",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[],
    hint: "If the request says `Connection: close`, send `Connection: close` in the response and close the connection after it.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let mut conversation = Conversation::open(probe)?;
    let exchange = conversation.ask(
        probe,
        &request(probe, fixture::INDEX, "HTTP/1.1", Some("close")),
    );
    let what = "a request with Connection: close";
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if !reply.head.says_connection("close") {
        return Err(Failure::of(
            format!("the response to {what} did not say Connection: close"),
            &exchange,
        ));
    }
    let again = request(probe, fixture::STYLE, "HTTP/1.1", None);
    conversation.expect_closed(probe, &again, what)
}
