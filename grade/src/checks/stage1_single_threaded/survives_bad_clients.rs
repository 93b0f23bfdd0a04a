//! `survives-bad-clients`: clients that hang up, send half a request, or send
//! garbage do not stop the server, nor leave it spinning.
//!
//! After each such client, a request must still be answered; and once they
//! are all gone the server must be idle. A server that dies of one of them
//! fails here, with the signal in words: a C server killed by SIGPIPE wrote
//! to a client that had gone. This check is risky (it may bring a broken
//! server down), so it runs after the ordinary ones, and last of the risky.

use std::io::{Read, Write};
use std::time::Duration;

use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, IDLE_CPU_LIMIT, IDLE_WINDOW, idle_cpu};
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use crate::watch::Replay;
use course::Stage;

pub static CHECK: Check = Check {
    id: "survives-bad-clients",
    stage: Stage::SingleThreaded,
    title: "still serves after clients that hang up, send half a request, or send garbage, and goes idle after them",
    limit: Duration::from_secs(40),
    mode: Mode::Risky,
    needs: &[Need::BigFile],
    hint: "Handle every error of one connection inside its handler (log it, close that connection) so it never ends the accept loop or the process.",
    run,
};

/// How long the client that resets waits for the response to begin.
const RESPONSE_BEGINS: Duration = Duration::from_secs(10);

/// The misdeeds, each with the bytes its client sends before it hangs up.
fn misdeeds(probe: &Probe) -> Vec<(&'static str, Vec<u8>, bool)> {
    let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(20_000));
    let big = client::get_request(probe.addr(), &Probe::target(fixture::BIG));
    // (what, bytes, reset): a reset is a close that says the client crashed;
    // the server's next write on it fails at once. The one that resets asks
    // for the big file and waits for the response to begin: only then is the
    // server sure to be still writing when the reset comes (a small file may
    // already sit whole in the socket buffers, and a reset that comes before
    // the request is read is never written to).
    vec![
        ("connected and hung up without a word", Vec::new(), false),
        (
            "sent half a request line and hung up",
            b"GET /index.ht".to_vec(),
            false,
        ),
        (
            "sent a request head that never ends, and hung up",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n".to_vec(),
            false,
        ),
        (
            "sent binary garbage",
            vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xfe, b'\r', b'\n', b'\r', b'\n',
            ],
            false,
        ),
        ("sent a 20 KB request line", long_line.into_bytes(), false),
        (
            "asked for /big.bin and reset the connection once the response began",
            big,
            true,
        ),
    ]
}

fn run(probe: &Probe) -> Result<(), Failure> {
    let index = probe.site.file(fixture::INDEX);
    let served = |exchange: &client::Exchange| {
        exchange
            .reply()
            .is_some_and(|reply| reply.status() == 200 && index.is_in(&reply.body_with_excess()))
    };
    // Up to begin with? (A risky check of a later stage runs before this one.)
    let exchange = probe.get(&Probe::target(fixture::INDEX));
    if !served(&exchange) {
        return Err(probe
            .exited("before this check began (see the checks above)", true)
            .unwrap_or_else(|| {
                Failure::of(
                    "GET /index.html was not answered with 200 and the page even before any misbehaving client",
                    &exchange,
                )
            })
            .unless("/index.html served", &["connects", "text-files"]));
    }
    for (what, bytes, reset) in misdeeds(probe) {
        probe.step_with(
            format!("a client that {what}"),
            Some(Replay {
                bytes: bytes.clone(),
                hang_up: true,
            }),
        );
        // Send, then hang up at once: the server must cope with the close
        // whatever it was doing.
        if let Ok(mut stream) = client::connect(probe.addr(), probe.deadline) {
            let _ = stream.write_all(&bytes);
            if reset {
                let mut first = [0; 1];
                let _ = stream.set_read_timeout(client::time_left(probe.within(RESPONSE_BEGINS)));
                let _ = stream.read(&mut first);
                client::reset(stream);
            }
        }
        // Asked without a step of its own, so that a death seen now is
        // blamed on the client before it, which is what it follows.
        let exchange = client::exchange(
            probe.addr(),
            &client::get_request(probe.addr(), &Probe::target(fixture::INDEX)),
            // A server the last client wedged does not answer in the whole
            // check's time either: a few seconds tell.
            probe.within(ANSWER_WITHIN),
        );
        probe.record(&exchange);
        let answered = served(&exchange);
        if let Some(failure) = probe.exited(&format!("after a client {what}"), !answered) {
            let sent = if bytes.is_empty() {
                "nothing".to_owned()
            } else {
                client::escape(&bytes, 200)
            };
            let failure = failure.sent(sent);
            // A server that dies of any request for a binary file dies of
            // this one too: that is `binary-files`' fault, not this check's.
            return Err(if reset {
                failure.unless("a binary file served", &["binary-files"])
            } else {
                failure
            });
        }
        if !answered {
            return Err(Failure::of(
                format!(
                    "after a client {what}, GET /index.html was not answered with 200 and the page"
                ),
                &exchange,
            ));
        }
    }
    idle_cpu(probe, IDLE_WINDOW, IDLE_CPU_LIMIT, "with every bad client gone")
        .map_err(|failure| failure.hint("A loop that reads a closed or non-blocking socket must stop: recv returning 0 bytes means the client has gone, so close the connection; and wait for data (a blocking read with a timeout, or select/poll) instead of asking again at once."))
}
