//! `http-1.0`: HTTP/1.0 closes after the response, unless it asks for keep-alive; then it stays open and says so.

use std::time::Duration;

use super::{Conversation, expect_file, request};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "http-1.0",
    stage: Stage::KeepAlive,
    title: "HTTP/1.0 closes after the response, unless it asks for keep-alive; then it stays open and says so",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[],
    hint: "HTTP/1.0 closes by default: keep it open only if the request says `Connection: keep-alive`, and then say `Connection: keep-alive` in the response too.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // Without keep-alive, HTTP/1.0 closes after one response.
    let mut conversation = Conversation::open(probe)?;
    let exchange = conversation.ask(probe, &request(probe, fixture::INDEX, "HTTP/1.0", None));
    let what = "an HTTP/1.0 request without Connection: keep-alive";
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if reply.head.says_connection("keep-alive") {
        return Err(Failure::of(
            format!("{what} was answered with Connection: keep-alive"),
            &exchange,
        ));
    }
    let again = request(probe, fixture::STYLE, "HTTP/1.0", None);
    conversation.expect_closed(probe, &again, what)?;

    // With keep-alive, it stays open, and the response must say so: an
    // HTTP/1.0 client assumes a close otherwise.
    let mut conversation = Conversation::open(probe)?;
    let what = "an HTTP/1.0 request with Connection: keep-alive";
    let first = request(probe, fixture::INDEX, "HTTP/1.0", Some("keep-alive"));
    let exchange = conversation.ask(probe, &first);
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if !reply.head.says_connection("keep-alive") {
        return Err(Failure::of(
            format!("the response to {what} did not say Connection: keep-alive"),
            &exchange,
        ));
    }
    let second = request(probe, fixture::STYLE, "HTTP/1.0", Some("keep-alive"));
    let exchange = conversation.ask(probe, &second);
    expect_file(
        probe,
        &exchange,
        fixture::STYLE,
        &format!("a second request on the connection of {what}"),
    )
    .map(drop)
}
