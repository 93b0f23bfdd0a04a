//! Stage 4's checks: Ctrl-C. The server stops accepting, lets the responses
//! under way finish, and exits with status 0, within a time limit even when a
//! client holds a connection and says nothing.

use std::io::Write;
use std::time::Duration;

use super::{EXIT_WITHIN, Probe, expect_200, output_of};
use crate::check::Failure;
use crate::client::{self, Exchange};
use crate::fixture;
use crate::process::describe_exit;

pub fn ctrl_c_finishes_download(probe: &Probe) -> Result<(), Failure> {
    let expected = &probe.site.file(fixture::BIG).bytes;
    let mut stream = probe.connect()?;
    let request = client::get_request(probe.addr, &Probe::target(fixture::BIG));
    stream
        .write_all(&request)
        .map_err(|error| Failure::new(format!("could not send the request: {error}")))?;
    // Read the first bytes, then stop reading: the server fills the socket
    // buffers and blocks mid-file, and that is when Ctrl-C lands.
    let mut first = [0; 1];
    let _ = stream.set_read_timeout(client::time_left(probe.within(Duration::from_secs(10))));
    if !matches!(std::io::Read::read(&mut stream, &mut first), Ok(1)) {
        return Err(Failure::new("the download did not start within 10 s")
            .sent(client::escape(&request, 400))
            .received("nothing"));
    }
    probe.interrupt()?;
    let (rest, end) = client::read_response(&mut stream, "GET", probe.deadline);
    let received = [&first[..], &rest].concat();
    let exchange = Exchange {
        sent: request,
        received,
        end,
        took: Duration::ZERO,
    };
    let reply = exchange.reply().filter(|reply| reply.status == 200);
    match reply {
        Some(reply) if reply.body_with_excess()[..] == expected[..] => Ok(()),
        Some(reply) => Err(Failure::of(
            format!(
                "Ctrl-C was sent during the download of /{}; {}",
                fixture::BIG,
                client::first_difference(expected, &reply.body_with_excess())
            ),
            &exchange,
        )),
        None => Err(Failure::of(
            format!("no 200 response to GET /{} across Ctrl-C", fixture::BIG),
            &exchange,
        )),
    }
}

pub fn ctrl_c_exits_0(probe: &Probe) -> Result<(), Failure> {
    expect_200(probe, fixture::INDEX)?;
    probe.interrupt()?;
    let server = probe.server();
    match server.wait_exit(EXIT_WITHIN) {
        Some(status) if status.code() == Some(0) => Ok(()),
        Some(status) => Err(Failure::new(format!(
            "after Ctrl-C the server {}",
            describe_exit(status)
        ))
        .sent("Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(server))),
        None => Err(Failure::new(format!(
            "the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("Ctrl-C (SIGINT to the server's process group), with no client connected")
        .received(output_of(server))),
    }
}

pub fn idle_client_cannot_hold_shutdown(probe: &Probe) -> Result<(), Failure> {
    let idle = probe.connect()?;
    // A request on another connection, answered, shows the server has moved
    // past accepting the idle one.
    expect_200(probe, fixture::INDEX)?;
    probe.interrupt()?;
    let server = probe.server();
    let exited = server.wait_exit(EXIT_WITHIN);
    drop(idle);
    match exited {
        Some(_) => Ok(()),
        None => Err(Failure::new(format!(
            "with one client connected and silent, the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("a connection that sends nothing, then Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(server))),
    }
}
