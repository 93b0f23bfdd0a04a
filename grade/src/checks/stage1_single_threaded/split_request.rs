//! `split-request`: a request head is read whole, however it arrives.
//!
//! The report read a request with one `recv(1024)`. TCP is a stream of
//! bytes, not of messages: one read returns what has arrived so far, which
//! may be half a request line, or the first kilobyte of a long head. Here a
//! head comes in three writes 200 ms apart, split inside the request line and
//! inside a header, and another head is about 4 KiB long; each must be
//! answered with the file (recognised by its token).

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{expect_token, holds, request_for};
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use crate::response;
use course::Stage;

pub static CHECK: Check = Check {
    id: "split-request",
    stage: Stage::SingleThreaded,
    title: "a request head that arrives in pieces, or is 4 KiB long, is read whole",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "One read (recv) is not one request: TCP is a stream of bytes, and a head may arrive in pieces. Read on until the blank line (\\r\\n\\r\\n) that ends the head, however many reads that takes, and only then parse it.",
    run,
};

/// How long `split-request` waits between the pieces of a head: far longer
/// than a server's one read takes, so the first read sees only a piece.
pub const SPLIT_PAUSE: Duration = Duration::from_millis(200);

fn run(probe: &Probe) -> Result<(), Failure> {
    let path = fixture::STYLE;
    // The file asked for whole first: a server that cannot serve it at all
    // is `text-files`' to fail, not this check's.
    expect_token(probe, path)?;
    let request = request_for(probe, path);
    // "GET /sty" | "le.css HTTP/1.1\r\nHo" | "st: ...\r\n\r\n"
    let host_at = response::find(&request, b"Host").expect("the request names its host");
    let pieces = [
        &request[..8],
        &request[8..host_at + 2],
        &request[host_at + 2..],
    ];
    probe.step("a request head sent in three pieces");
    let exchange = client::exchange_in_pieces(probe.addr(), &pieces, SPLIT_PAUSE, probe.deadline);
    probe.record(&exchange);
    let pauses = format!(
        "GET /{path} sent in three writes {} ms apart (split after `GET /sty` and inside `Host`)",
        SPLIT_PAUSE.as_millis()
    );
    holds(probe, &exchange, path, &pauses)?;

    // About 4 KiB of headers: more than one read of 1,024 bytes, or of 4,096.
    let padding: String = (0..48)
        .map(|n| format!("X-Padding-{n:02}: {}\r\n", "p".repeat(70)))
        .collect();
    let long = format!(
        "GET /{path} HTTP/1.1\r\nHost: {}\r\n{padding}Connection: close\r\n\r\n",
        probe.addr()
    );
    let exchange = probe.send(long.as_bytes());
    holds(
        probe,
        &exchange,
        path,
        &format!("GET /{path} with a head of {} bytes", long.len()),
    )
    .map(drop)
}
