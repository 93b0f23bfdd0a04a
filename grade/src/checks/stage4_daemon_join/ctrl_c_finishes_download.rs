//! `ctrl-c-finishes-download`: Ctrl-C during a download lets it finish.
//!
//! The big file is far bigger than the sockets' buffers, so a server that
//! exits at once (daemon threads, as the report's did) cuts it short. The
//! download is whole when its framing is complete and the file's token is at
//! both its ends: exact bytes are `binary-files`' to judge. A download cut
//! [`GIVES_UP_AFTER`] or more after Ctrl-C is the server's own time limit.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::{GIVES_UP_AFTER, SENDS_CTRL_C};
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::request_for;
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "ctrl-c-finishes-download",
    stage: Stage::DaemonJoin,
    title: "Ctrl-C during a download lets the download finish",
    limit: Duration::from_secs(40),
    mode: Mode::OwnServer(SENDS_CTRL_C),
    needs: &[Need::BigFile],
    hint: "On Ctrl-C, stop accepting but do not exit yet: wait for the threads still sending (join them), then exit.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let file = probe.site.file(fixture::BIG);
    let mut stream = probe.connect()?;
    let request = request_for(probe, fixture::BIG);
    stream
        .write_all(&request)
        .map_err(|error| Failure::new(format!("could not send the request: {error}")))?;
    // Read the first bytes, then stop reading: the server fills the socket
    // buffers and blocks mid-file, and that is when Ctrl-C lands.
    let mut first = [0; 1];
    let _ = stream.set_read_timeout(client::time_left(probe.within(Duration::from_secs(10))));
    if !matches!(stream.read(&mut first), Ok(1)) {
        // A server that cannot serve a binary file at all never starts this
        // download: that is `binary-files`' fault, and Ctrl-C is not judged.
        return Err(Failure::new("the download did not start within 10 s")
            .sent(client::escape(&request, 400))
            .received("nothing")
            .unless("a binary file served", &["binary-files"]));
    }
    probe.interrupt()?;
    let interrupted = Instant::now();
    let (rest, end) = client::read_response(&mut stream, "GET", probe.deadline);
    let ended = interrupted.elapsed();
    let exchange = Exchange {
        sent: request,
        received: [&first[..], &rest].concat(),
        end,
        took: Duration::ZERO,
    };
    match exchange.reply() {
        Some(reply)
            if reply.status() == 200
                && reply.is_complete()
                && file.is_whole_in(&reply.body_with_excess()) =>
        {
            Ok(())
        }
        // Cut short by the server (closed or reset, not still open when the
        // grader stopped reading), a few seconds after Ctrl-C.
        Some(reply)
            if reply.status() == 200
                && !reply.is_complete()
                && matches!(exchange.end, End::Closed | End::Reset)
                && ended >= GIVES_UP_AFTER =>
        {
            probe.note(format!(
                "the download was cut short {:.1} s after Ctrl-C, with {} of its {} bytes sent: the server's own time limit, which it may have",
                ended.as_secs_f64(),
                reply.body_with_excess().len(),
                file.bytes.len()
            ));
            Ok(())
        }
        Some(reply) if reply.status() == 200 => Err(Failure::of(
            format!(
                "Ctrl-C was sent during the download of /{}; {} of its {} bytes arrived, and {}, {:.1} s after Ctrl-C",
                fixture::BIG,
                reply.body_with_excess().len(),
                file.bytes.len(),
                if reply.is_complete() {
                    "the file's last bytes were not among them"
                } else if matches!(exchange.end, End::Closed | End::Reset) {
                    "the response was cut short"
                } else {
                    "the rest had not come, the connection still open"
                },
                ended.as_secs_f64()
            ),
            &exchange,
        )),
        Some(reply) => Err(Failure::of(
            format!(
                "GET /{} got {} instead of 200",
                fixture::BIG,
                reply.status()
            ),
            &exchange,
        )),
        None => Err(Failure::of(
            format!("no HTTP response to GET /{} across Ctrl-C", fixture::BIG),
            &exchange,
        )
        .unless("a binary file served", &["binary-files"])),
    }
}
