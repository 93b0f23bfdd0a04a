//! `many-idle-connections`: with 300 idle connections open, a new client is served, and (command mode) the threads stay near the workers.

use std::time::Duration;

use super::{Conversation, IDLE_KEPT, IDLE_SILENT, expect_file, request};
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, expect_200, waited};
use crate::checks::stage5_thread_pool::{self, ThreadWatch};
use crate::client::{self};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "many-idle-connections",
    stage: Stage::KeepAlive,
    title: "with 300 idle connections open, a new client is served, and (command mode) the threads stay near the workers",
    limit: Duration::from_secs(60),
    mode: Mode::Shared,
    needs: &[],
    hint: "Idle connections must not hold a worker or a thread: keep them in a readiness loop (epoll, through mio or polling) and give a connection to a worker only when a whole request head has arrived.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let result = idle_crowd(probe);
    stage5_thread_pool::after_the_crowd(probe);
    result
}

fn idle_crowd(probe: &Probe) -> Result<(), Failure> {
    expect_200(probe, fixture::INDEX)?;
    let crowd = IDLE_SILENT + IDLE_KEPT;
    let watch = ThreadWatch::start(probe);
    let look = |idle: &[std::net::TcpStream], with: &str, sent: &str| match &watch {
        Some(watch) => watch.check(probe, idle, with, sent),
        None => Ok(()),
    };
    let sent = |silent: usize, kept: usize| {
        format!(
            "{silent} connections that never send a byte, then {kept} that each ask for /{} without Connection: close and then say nothing",
            fixture::INDEX
        )
    };
    // The silent ones first: a server that gives each connection a worker
    // runs out of workers and queue on them, and turns the rest away.
    let mut idle = Vec::with_capacity(crowd);
    for n in 1..=IDLE_SILENT {
        idle.push(probe.connect()?);
        if n % 25 == 0 {
            look(
                &idle,
                &format!("with {n} silent connections open"),
                &sent(n, 0),
            )?;
        }
    }
    for n in 1..=IDLE_KEPT {
        let mut conversation = Conversation::open(probe)?;
        let exchange = conversation.ask(probe, &request(probe, fixture::INDEX, "HTTP/1.1", None));
        let got = match exchange.reply() {
            Some(reply) if reply.status() == 200 => None,
            Some(reply) => Some(format!("got {}", reply.status())),
            None => Some(format!("got no response ({})", waited(&exchange))),
        };
        if let Some(got) = got {
            return Err(Failure::of(
                format!(
                    "with {IDLE_SILENT} silent connections and {} kept-alive idle ones open, the next one's request {got}",
                    n - 1
                ),
                &exchange,
            ));
        }
        idle.push(conversation.stream);
        if n % 25 == 0 {
            look(
                &idle,
                &format!("with {IDLE_SILENT} silent and {n} kept-alive idle connections open"),
                &sent(IDLE_SILENT, n),
            )?;
        }
    }
    let _ = stage5_thread_pool::wait_until_accepted(probe, probe.within(ANSWER_WITHIN));
    let with = format!("with {crowd} idle connections open");
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr(), &request, probe.within(ANSWER_WITHIN));
    probe.record(&exchange);
    expect_file(
        probe,
        &exchange,
        fixture::INDEX,
        &format!("{with}, a new client's GET /{}", fixture::INDEX),
    )?;
    look(&idle, &with, &sent(IDLE_SILENT, IDLE_KEPT))?;
    drop(idle);
    Ok(())
}
