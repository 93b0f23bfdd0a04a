//! `pool-keeps-its-workers`: clients that reset mid-request or
//! mid-download, or send bytes that are not UTF-8, cost the pool no worker.
//!
//! The Rust Book's pool loses a worker to every panic; so does a pool whose
//! job lets an exception out. After each kind of misbehaviour, more times
//! than there are workers, every worker but one is kept busy with a download
//! and the last must still answer.

use std::io::Write;
use std::time::Duration;

use super::{half_request, start_download};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, waited};
use crate::client::{self};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "pool-keeps-its-workers",
    stage: Stage::ThreadPool,
    title: "after clients that reset mid-request or mid-download, or send bytes that are not UTF-8, every worker still serves",
    limit: Duration::from_secs(40),
    mode: Mode::OwnServer("it sets out to break the server's workers"),
    needs: &[Need::Threads, Need::BigFile],
    hint: "A worker must outlive any one connection: handle every error of a job inside the job (in Rust, catch a panic with `std::panic::catch_unwind`), and go back to the queue for the next one.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let workers = probe.threads();
    let rounds = 2 * workers;
    let not_utf8 = [
        b"GET /\xff\xfe%ff.html HTTP/1.1\r\nHost: ".as_slice(),
        probe.addr().to_string().as_bytes(),
        b"\r\nConnection: close\r\n\r\n",
    ]
    .concat();
    let misbehaved = |halves: usize, downloads: usize, not_text: usize| {
        format!(
            "{halves} clients that sent half a request and reset the connection, {downloads} that reset it in the middle of downloading /{}, and {not_text} whose request line is not UTF-8 ({})",
            fixture::BIG,
            client::escape(&not_utf8[..20], 40)
        )
    };
    // Each kind of misbehaviour, `rounds` times: more than there are workers,
    // so that each worker meets each kind if the jobs are shared out at all.
    for round in 0..rounds {
        if let Ok(mut stream) = client::connect(probe.addr(), probe.deadline) {
            let _ = stream.write_all(&half_request(probe));
            client::reset(stream);
        }
        match start_download(probe) {
            Ok((stream, _)) => client::reset(stream),
            Err(exchange) => {
                return Err(Failure::of(
                    format!(
                        "after {}, a download did not start within {} s: the pool has lost its workers",
                        misbehaved(round + 1, round, round),
                        ANSWER_WITHIN.as_secs()
                    ),
                    &exchange,
                ));
            }
        }
        if let Ok(mut stream) = client::connect(probe.addr(), probe.deadline) {
            let _ = stream.write_all(&not_utf8);
        }
    }
    let misbehaved = misbehaved(rounds, rounds, rounds);
    // Queues are first come, first served: once this is answered, every
    // misbehaving client before it has been dealt with.
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr(), &request, probe.within(ANSWER_WITHIN));
    if exchange.reply().is_none_or(|reply| reply.status() != 200) {
        return Err(Failure::of(
            format!(
                "after {misbehaved}, GET /{} got no 200 ({})",
                fixture::INDEX,
                waited(&exchange)
            ),
            &exchange,
        ));
    }
    // Now every worker but one is kept busy; the last one must still be there.
    let mut busy = Vec::new();
    for n in 1..workers {
        let started = start_download(probe).map_err(|exchange| {
            Failure::of(
                format!(
                    "after {misbehaved}, download {n} of {} (one for each worker but one) did not start within {} s: only {} of the {workers} workers seem to be left",
                    workers - 1,
                    ANSWER_WITHIN.as_secs(),
                    n - 1
                ),
                &exchange,
            )
        })?;
        busy.push(started);
    }
    let exchange = client::exchange(probe.addr(), &request, probe.within(ANSWER_WITHIN));
    match exchange.reply() {
        Some(reply) if reply.status() == 200 => Ok(()),
        _ => Err(Failure::of(
            format!(
                "after {misbehaved}, and with {} downloads keeping all workers but one busy, GET /{} got no 200 within {} s: the pool has fewer than its {workers} workers",
                workers - 1,
                fixture::INDEX,
                ANSWER_WITHIN.as_secs()
            ),
            &exchange,
        )),
    }
}
