//! `threads-bounded`: 200 slow clients at once do not make 200 threads.
//!
//! The clients connect and say nothing, which costs a thread-per-client
//! server a thread each (however it reads: one `recv` waits as long as a
//! loop does), and a pool nothing but the wait. The count is
//! evidence only while the clients are still there: each is checked to be
//! still connected (or turned away with `503`) when the threads are counted;
//! a server that hung up on them proves nothing either way.

use std::thread;
use std::time::Duration;

use super::{ACCEPT_WITHIN, CROWD, Standing, ThreadWatch, after_the_crowd, wait_until_accepted};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::expect_200;
use crate::client::{self};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "threads-bounded",
    stage: Stage::ThreadPool,
    title: "200 slow clients at once do not make 200 threads",
    limit: Duration::from_secs(40),
    mode: Mode::Shared,
    needs: &[Need::ThreadCount],
    hint: "Start a fixed number of workers ({threads}) once, and hand them connections through a queue, instead of starting a thread for every client.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let result = crowd_of_slow_clients(probe);
    after_the_crowd(probe);
    result
}

/// The fewest silent clients whose threads say something: a thread-per-client
/// server would have ten more threads than the bound allows.
const MIN_CROWD: usize = 40;

fn crowd_of_slow_clients(probe: &Probe) -> Result<(), Failure> {
    // A request first, so that a pool that starts its threads on demand has
    // started some, and they are counted before the crowd comes.
    expect_200(probe, fixture::INDEX)?;
    let Some(watch) = ThreadWatch::start(probe) else {
        return Err(Failure::new("the server's threads could not be counted"));
    };
    let sent = |n: usize| format!("{n} connections, each sending nothing");
    let mut clients = Vec::with_capacity(CROWD);
    let mut refused = None;
    for n in 1..=CROWD {
        match client::connect(probe.addr(), probe.deadline) {
            Ok(stream) => clients.push(stream),
            // A server that caps its connections, or stops accepting while
            // its queue is full, fills its backlog: that is not a thread
            // too many, so the count goes on with the crowd it let in.
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
        if n % 20 == 0 {
            watch.check(
                probe,
                &clients,
                &format!("with {n} silent clients connected"),
                &sent(n),
            )?;
        }
    }
    let crowd = clients.len();
    if crowd < MIN_CROWD {
        return Err(Failure::new(format!(
            "with {crowd} silent clients connected, connection {} could not be made, so there was no crowd whose threads to count",
            crowd + 1
        ))
        .sent(sent(crowd))
        .received(refused.unwrap_or_default())
        .hint("Keep accepting while the workers are busy: hand each connection to the queue, or answer it with 503 when the queue is full, and go straight back to accept."));
    }
    if let Some(error) = refused {
        probe.note(format!(
            "connection {} could not be made ({error}); the threads were counted with the {crowd} connected",
            crowd + 1
        ));
    }
    if let Some(waiting) = wait_until_accepted(probe, probe.within(ACCEPT_WITHIN)) {
        probe.note(format!(
            "{waiting} of the {crowd} silent clients were still in the accept queue after {} s (how fast a busy server turns clients away is overload-503's business); the threads were counted with them connected",
            ACCEPT_WITHIN.as_secs()
        ));
    }
    // A thread-per-client server starts each thread just after its accept;
    // look a few times, so that the last ones are counted too.
    for _ in 0..5 {
        watch.check(
            probe,
            &clients,
            &format!("with {crowd} silent clients connected"),
            &sent(crowd),
        )?;
        thread::sleep(Duration::from_millis(50));
    }
    // The count is evidence only if the crowd was there to be counted: held
    // open, or turned away with 503, not hung up on.
    let standing = Standing::of(&clients);
    if standing.dropped > crowd / 2 {
        return Err(Failure::new(format!(
            "the server closed {} of the {crowd} silent clients without a 503 (or answered them otherwise) within a second or so, so there was no crowd to hold and its threads say nothing ({} still connected, {} turned away with 503)",
            standing.dropped, standing.open, standing.turned_away
        ))
        .sent(sent(crowd))
        .hint("A client that is slow to send its request is not an error: wait for it, with a read timeout of a few seconds, in a worker or in the queue; when every worker is busy and the queue is full, answer 503."));
    }
    probe.note(format!(
        "with {crowd} silent clients: {} still connected, {} turned away with 503, {} closed",
        standing.open, standing.turned_away, standing.dropped
    ));
    drop(clients);
    Ok(())
}
