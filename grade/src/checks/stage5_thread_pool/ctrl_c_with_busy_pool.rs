//! `ctrl-c-with-busy-pool`: Ctrl-C with every worker busy and the queue full:
//! the downloads under way finish, and the server exits 0 within 10 s.
//!
//! The downloads are read at the same time, each on a thread of its own, as
//! real clients read them: a server that gives up on them after a few
//! seconds must not fail because the grader read one after another on a
//! busy machine. A download is whole when its framing is complete and the
//! file's token is at both its ends.
//!
//! A server may also give up on a download after a few seconds, as the
//! hint says and the course's servers do (`--shutdown-timeout`): on a busy
//! machine four 16 MiB downloads can take longer than that. So a download
//! cut short [`GIVES_UP_AFTER`] or more after Ctrl-C is the server's own
//! time limit, and noted, not failed; one cut sooner was not let finish.

use std::thread;
use std::time::{Duration, Instant};

use super::{download_request, fill_pool, filled, wait_until_accepted};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, EXIT_WITHIN};
use crate::checks::stage4_daemon_join::{GIVES_UP_AFTER, SENDS_CTRL_C};
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::probe::{Probe, output_of};
use crate::process::describe_exit;
use course::Stage;

pub static CHECK: Check = Check {
    id: "ctrl-c-with-busy-pool",
    stage: Stage::ThreadPool,
    title: "Ctrl-C with every worker busy and the queue full: the downloads finish, and it exits 0 within 10 s",
    // Filling the pool may take 30 s on a busy machine before Ctrl-C is
    // even sent (each of its steps waits up to 5 s), and the exit is
    // waited for after the downloads: room for both.
    limit: Duration::from_secs(60),
    mode: Mode::OwnServer(SENDS_CTRL_C),
    needs: &[Need::Threads, Need::Queue, Need::BigFile],
    hint: "On Ctrl-C, let the workers finish the responses under way, but do not wait without a limit for everything still queued: close the waiting connections, or give up after a few seconds.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // The waiting clients never read what they asked for: a server that
    // insists on serving the whole queue before it exits is stuck with them.
    let mut full = fill_pool(probe)?;
    // Best effort: let the server take in the waiting clients before Ctrl-C.
    let _ = wait_until_accepted(probe, probe.within(ANSWER_WITHIN));
    probe.interrupt()?;
    let interrupted = Instant::now();
    let setting = format!("Ctrl-C came after {}", filled(probe));
    let file = probe.site.file(fixture::BIG);
    let request = download_request(probe);
    let downloads = full.busy.len();
    // The downloads are read until there is just time left to wait for the
    // exit, so that a slow machine is reported as what it did, not as a
    // check that ran out of time.
    let deadline = probe
        .deadline
        .checked_sub(EXIT_WITHIN)
        .unwrap_or(probe.deadline);
    // Every download read at once, as its own client would read it.
    let exchanges: Vec<(Exchange, Duration)> = thread::scope(|scope| {
        let readers: Vec<_> = full
            .busy
            .iter_mut()
            .map(|(stream, first)| {
                let request = request.clone();
                scope.spawn(move || {
                    let (rest, end) = client::read_response(stream, "GET", deadline);
                    let exchange = Exchange {
                        sent: request,
                        received: [&[*first][..], &rest].concat(),
                        end,
                        took: Duration::ZERO,
                    };
                    (exchange, interrupted.elapsed())
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|reader| reader.join().expect("a reader does not panic"))
            .collect()
    });
    for (n, (exchange, ended)) in exchanges.iter().enumerate() {
        let whole = exchange.reply().is_some_and(|reply| {
            reply.status() == 200
                && reply.is_complete()
                && file.is_whole_in(&reply.body_with_excess())
        });
        // Cut short by the server: closed or reset, not still open when
        // the grader stopped reading.
        let closed = matches!(exchange.end, End::Closed | End::Reset);
        let given_up = exchange
            .reply()
            .filter(|reply| closed && reply.status() == 200 && !reply.is_complete());
        if let Some(reply) = given_up.as_ref().filter(|_| *ended >= GIVES_UP_AFTER) {
            probe.note(format!(
                "download {} of {downloads} was cut short {:.1} s after Ctrl-C, with {} of its {} bytes sent: the server's own time limit, which it may have",
                n + 1,
                ended.as_secs_f64(),
                reply.body_with_excess().len(),
                file.bytes.len()
            ));
            continue;
        }
        if !whole {
            let what = match exchange.reply() {
                Some(reply) => format!(
                    "{} of its {} bytes arrived{}",
                    reply.body_with_excess().len(),
                    file.bytes.len(),
                    if reply.is_complete() {
                        ", but not the file's last bytes".to_owned()
                    } else if !closed {
                        format!(
                            ", and the connection was still open {:.1} s after Ctrl-C, with the rest not sent",
                            ended.as_secs_f64()
                        )
                    } else {
                        format!(
                            ", and then it was cut short, {:.1} s after Ctrl-C: give downloads under way a few seconds",
                            ended.as_secs_f64()
                        )
                    }
                ),
                None => "no whole response came".to_owned(),
            };
            return Err(Failure::of(
                format!("{setting}; download {} of {downloads}: {what}", n + 1),
                exchange,
            ));
        }
    }
    let server = probe.own_process();
    match server.wait_exit(EXIT_WITHIN) {
        Some(status) if status.code() == Some(0) => Ok(()),
        Some(status) => Err(Failure::new(format!(
            "{setting}; the downloads under way finished, then the server {}",
            describe_exit(status)
        ))
        .sent(format!("{}, then Ctrl-C", filled(probe)))
        .received(output_of(&server))),
        None => Err(Failure::new(format!(
            "{setting}; the downloads under way finished, but the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent(format!("{}, then Ctrl-C", filled(probe)))
        .received(output_of(&server))),
    }
}
