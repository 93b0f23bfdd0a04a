//! Stage 2's checks: a client that connects and says nothing must not hold up
//! the others, as it does a server that serves one connection at a time.

use super::{ANSWER_WITHIN, Probe, waited};
use crate::check::Failure;
use crate::client;
use crate::fixture;

pub fn idle_client(probe: &Probe) -> Result<(), Failure> {
    let idle = probe.connect()?;
    let request = client::get_request(probe.addr, "/index.html");
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    let answered = exchange.reply().is_some_and(|reply| reply.status == 200);
    if !answered {
        return Err(Failure::of(
            format!(
                "while one client was connected and silent, another client's GET /index.html got no 200 ({})",
                waited(&exchange)
            ),
            &exchange,
        ));
    }
    // Answered, but perhaps only because the server gave up on the idle client.
    if !client::is_open(&idle) {
        return Err(Failure::of(
            "the other client was answered only after the server had hung up on the silent one",
            &exchange,
        )
        .hint("The server waits on one client at a time; a read timeout only shortens the wait. Serve each connection on its own thread."));
    }
    Ok(())
}

pub fn reverse_order(probe: &Probe) -> Result<(), Failure> {
    // Small text files only: this check is about who is served when, so a
    // server that mangles binary files must not fail it for that.
    let paths = [
        fixture::INDEX,
        fixture::STYLE,
        fixture::SUB_PAGE,
        fixture::SUB_NOTES,
    ];
    let mut streams = Vec::new();
    for _ in &paths {
        streams.push(probe.connect()?);
    }
    for (n, (stream, path)) in streams.iter_mut().zip(paths).enumerate().rev() {
        let request = client::get_request(probe.addr, &Probe::target(path));
        let exchange = client::exchange_on(stream, &request, probe.within(ANSWER_WITHIN));
        let expected = &probe.site.file(path).bytes;
        let served = exchange.reply().is_some_and(|reply| {
            reply.status == 200 && reply.body_with_excess()[..] == expected[..]
        });
        if !served {
            return Err(Failure::of(
                format!(
                    "connection {} of {} (asking first, while the {n} opened before it were silent) did not get /{path} ({})",
                    n + 1,
                    paths.len(),
                    waited(&exchange)
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}
