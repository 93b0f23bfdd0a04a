//! `idle-timeout`: a kept-alive connection that stays idle is closed after the keep-alive timeout.

use std::time::Duration;

use super::{Conversation, IDLE_GRACE, expect_file, request};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::client::{self, End};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "idle-timeout",
    stage: Stage::KeepAlive,
    title: "a kept-alive connection that stays idle is closed after the keep-alive timeout",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[Need::KeepAliveTimeout],
    hint: "Give each idle connection a deadline ({keep_alive_timeout} after its last response) and close it when the deadline passes.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let timeout = probe.keep_alive_timeout();
    let mut conversation = Conversation::open(probe)?;
    for (n, path) in [fixture::INDEX, fixture::STYLE].into_iter().enumerate() {
        let exchange = conversation.ask(probe, &request(probe, path, "HTTP/1.1", None));
        let what = format!("request {} of 2 on one connection", n + 1);
        let reply = expect_file(probe, &exchange, path, &what).map_err(|failure| {
            failure.hint("The connection must stay open after a response before it can time out; see the check `keep-alive`.")
        })?;
        if reply.head.says_connection("close") {
            return Err(Failure::of(
                format!(
                    "{what} was answered with Connection: close, so there was no idle connection to time out"
                ),
                &exchange,
            ));
        }
    }
    let deadline = probe.within(timeout + IDLE_GRACE);
    let (received, end) = client::wait_for_close(
        &mut conversation.stream,
        &mut conversation.pending,
        deadline,
    );
    let sent = "two requests on one connection, answered, then nothing".to_owned();
    match end {
        End::Closed | End::Reset | End::Failed(_) => Ok(()),
        End::TimedOut => Err(Failure::new(format!(
            "the idle connection was still open {} s after its last response; the keep-alive timeout is {} s ({{keep_alive_timeout}})",
            (timeout + IDLE_GRACE).as_secs(),
            timeout.as_secs()
        ))
        .sent(sent)
        .received("nothing, and no close")),
        _ => Err(Failure::new(
            "the server sent something on an idle connection that had asked for nothing",
        )
        .sent(sent)
        .received(client::describe_bytes(&received))),
    }
}
