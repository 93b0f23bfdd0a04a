//! Stage 5's checks: a fixed set of workers, a bounded queue, and `503` when
//! both are full. This module holds what they share (and stage 6's
//! `many-idle-connections` with them): crowds of clients, counts of threads,
//! a pool kept full.
//!
//! The grader cannot see a server's pool, only what it does. So the checks keep
//! the workers busy the one way that works for every design, a readiness loop
//! included: downloads of the big file by clients that stop reading, which
//! leave a worker blocked in a write. Silent clients are the other tool: they
//! cost a thread-per-client server a thread each.

pub mod ctrl_c_with_busy_pool;
pub mod overload_503;
pub mod pool_keeps_its_workers;
pub mod threads_bounded;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::check::Failure;
use crate::checks::common::ANSWER_WITHIN;
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::probe::Probe;
use crate::process;

/// How many slow clients `threads-bounded` connects: far more than a pool's
/// workers, so that a thread for each client cannot hide.
pub const CROWD: usize = 200;

/// Clients beyond a full queue, in the checks that fill it: a few more than
/// needed, so that a queue off by one or two is not failed for it.
pub const EXTRA: usize = 4;

/// Threads a server may have beyond its workers and still count as bounded: a
/// main thread, a signal handler, a readiness loop, the `cargo run` around it.
pub const THREAD_SLACK: usize = 8;

/// How long a server may take to accept a crowd of connections.
const ACCEPT_WITHIN: Duration = Duration::from_secs(10);

/// How long a server may take to serve again once a crowd has gone: it may
/// have a queue of abandoned connections to work through first.
pub const RECOVER_WITHIN: Duration = Duration::from_secs(10);

/// Once a crowd has gone, asks for the front page until the answer is not
/// `503` (or [`RECOVER_WITHIN`] has passed), and returns the last exchange.
/// The checks that bring a crowd call it on their way out, so that the next
/// check does not meet a queue still full of the last one's clients.
pub fn after_the_crowd(probe: &Probe) -> Exchange {
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    let until = probe.within(RECOVER_WITHIN);
    loop {
        let exchange = client::exchange(
            probe.addr(),
            &request,
            until.min(probe.within(ANSWER_WITHIN)),
        );
        let full = exchange
            .reply()
            .is_some_and(|reply| reply.head.status == 503);
        if !full || Instant::now() >= until {
            return exchange;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// A request head cut off in the middle, as a slow client sends it.
pub fn half_request(probe: &Probe) -> Vec<u8> {
    format!(
        "GET /{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: slow",
        fixture::INDEX,
        probe.addr()
    )
    .into_bytes()
}

/// The server's thread count before a crowd, to hold the count with the
/// crowd against.
pub struct ThreadWatch {
    baseline: usize,
}

/// How the clients of a crowd stand, when its threads are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Still connected, and not answered.
    pub open: usize,
    /// Answered with `503` (then closed, or about to be).
    pub turned_away: usize,
    /// Closed without a `503`, or answered with something else.
    pub dropped: usize,
}

impl Standing {
    /// How each of `clients` stands, looked at without waiting.
    pub fn of(clients: &[TcpStream]) -> Standing {
        let mut standing = Standing::default();
        for stream in clients {
            let mut start = [0; 12];
            let _ = stream.set_nonblocking(true);
            match stream.peek(&mut start) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => standing.open += 1,
                Ok(n) if n > 0 && start[..n].windows(4).any(|w| w == b" 503") => {
                    standing.turned_away += 1
                }
                // A partial status line, as yet: answered, in any case.
                Ok(n) if n > 0 && n < 12 && start.starts_with(b"HTTP/") => {
                    standing.turned_away += 1
                }
                _ => standing.dropped += 1,
            }
            let _ = stream.set_nonblocking(false);
        }
        standing
    }
}

impl ThreadWatch {
    /// Counts the server's threads now, if they can be counted.
    pub fn start(probe: &Probe) -> Option<ThreadWatch> {
        Some(ThreadWatch {
            baseline: probe.thread_count()?,
        })
    }

    /// Fails if the server has more threads than it may have with the
    /// `clients` still connected: with `{threads}` known, its workers (a pool
    /// may start them lazily) and [`THREAD_SLACK`] more; without, fewer than
    /// one for every two clients still open. `with` says what was connected
    /// at the time, and `sent` shows it.
    pub fn check(
        &self,
        probe: &Probe,
        clients: &[TcpStream],
        with: &str,
        sent: &str,
    ) -> Result<(), Failure> {
        let Some(now) = probe.thread_count() else {
            return Err(
                Failure::new(format!("the server's threads could not be counted {with}"))
                    .sent(sent.to_owned())
                    .received("no process left in the server's process group"),
            );
        };
        let standing = Standing::of(clients);
        let (growth, allowed) = match probe.settings.threads {
            Some(workers) => (
                workers + THREAD_SLACK,
                format!("its {workers} workers ({{threads}} = {workers}) and {THREAD_SLACK} more"),
            ),
            None => (
                standing.open.saturating_sub(1) / 2,
                format!(
                    "fewer than one for every two of the {} clients still connected (put {{threads}} in the command for a tighter limit)",
                    standing.open
                ),
            ),
        };
        let limit = self.baseline + growth;
        if now <= limit {
            return Ok(());
        }
        Err(Failure::new(format!(
            "{with} ({} of them still connected), the server had {now} threads; it had {} before, and may add {allowed}, so at most {limit}",
            standing.open, self.baseline
        ))
        .sent(sent.to_owned())
        .received(format!(
            "{now} threads in the server's processes, counted in /proc"
        )))
    }
}

/// Waits until the server has accepted every connection made so far (its
/// listening socket's accept queue is empty), and returns how many still wait
/// if it has not by `deadline`. Where the queue cannot be read, it gives the
/// server a moment instead.
pub fn wait_until_accepted(probe: &Probe, deadline: Instant) -> Option<usize> {
    loop {
        match process::accept_queue(probe.addr().port()) {
            Some(0) => return None,
            Some(waiting) if Instant::now() >= deadline => return Some(waiting),
            Some(_) => thread::sleep(Duration::from_millis(20)),
            None => {
                thread::sleep(Duration::from_millis(300));
                return None;
            }
        }
    }
}

/// The request for the big file.
pub fn download_request(probe: &Probe) -> Vec<u8> {
    client::get_request(probe.addr(), &format!("/{}", fixture::BIG))
}

/// Asks for the big file on a new connection, and reads its first byte, which
/// shows that a worker is sending it. The caller then stops reading, so the
/// worker stays busy: the file is far bigger than the sockets' buffers.
pub fn start_download(probe: &Probe) -> Result<(TcpStream, u8), Exchange> {
    let request = download_request(probe);
    let started = Instant::now();
    let failed = |end| Exchange {
        sent: request.clone(),
        received: Vec::new(),
        end,
        took: started.elapsed(),
    };
    let mut stream =
        client::connect(probe.addr(), probe.deadline).map_err(|e| failed(End::NotConnected(e)))?;
    let _ = stream.write_all(&request);
    let mut first = [0; 1];
    let _ = stream.set_read_timeout(client::time_left(probe.within(ANSWER_WITHIN)));
    match stream.read(&mut first) {
        Ok(1) => Ok((stream, first[0])),
        Ok(_) => Err(failed(End::Closed)),
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            Err(failed(End::Reset))
        }
        Err(_) => Err(failed(End::TimedOut)),
    }
}

/// Asks for the big file on a new connection and reads nothing: with every
/// worker busy, the request waits in the queue, or is turned away. Once served
/// it holds whatever serves it, as the downloads under way do: a server with
/// more workers than it was told to have cannot hide them.
pub fn queue_download(probe: &Probe) -> Result<TcpStream, Failure> {
    let mut stream = probe.connect()?;
    let _ = stream.write_all(&download_request(probe));
    Ok(stream)
}

/// Waits, until `deadline` at the most, for the first answer to any of the
/// `waiting` clients: with every worker busy, that can only be a turn-away,
/// so the queue is full. A server may count a client as queued only once it
/// has read its request (an async server does), not in the order they
/// connected; without this wait, the next client could arrive while a few of
/// the crowd were still unread, take the last place in the queue, and wait for
/// ever. A server that answers none of them is not failed here: the client
/// asked next shows what it does.
fn until_one_is_turned_away(waiting: &[TcpStream], deadline: Instant) {
    let answered = |stream: &TcpStream| {
        let mut byte = [0; 1];
        matches!(stream.peek(&mut byte), Ok(1))
    };
    if waiting.iter().any(|s| s.set_nonblocking(true).is_err()) {
        return;
    }
    while Instant::now() < deadline && !waiting.iter().any(answered) {
        thread::sleep(Duration::from_millis(10));
    }
    for stream in waiting {
        let _ = stream.set_nonblocking(false);
    }
}

/// A pool kept full by [`fill_pool`].
pub struct FullPool {
    /// The downloads under way, one per worker, each with its first byte.
    pub busy: Vec<(TcpStream, u8)>,
    /// The clients waiting behind them, in the queue or turned away. Held
    /// only to keep their connections open.
    _waiting: Vec<TcpStream>,
}

/// Makes every worker busy with a download, then fills the queue behind them.
pub fn fill_pool(probe: &Probe) -> Result<FullPool, Failure> {
    let (workers, queue) = (probe.threads(), probe.queue());
    let mut busy = Vec::with_capacity(workers);
    for n in 1..=workers {
        let started = start_download(probe).map_err(|exchange| {
            Failure::of(
                format!(
                    "download {n} of {workers} (one for each worker, {{threads}} = {workers}) did not start within {} s",
                    ANSWER_WITHIN.as_secs()
                ),
                &exchange,
            )
            .hint("Start {threads} workers before accepting; each takes the next connection from the queue and serves it.")
        })?;
        busy.push(started);
    }
    let mut waiting = Vec::with_capacity(queue + EXTRA);
    for _ in 0..queue + EXTRA {
        waiting.push(queue_download(probe)?);
    }
    until_one_is_turned_away(&waiting, probe.within(ANSWER_WITHIN));
    Ok(FullPool {
        busy,
        _waiting: waiting,
    })
}

/// What [`fill_pool`] did, for a report.
pub fn filled(probe: &Probe) -> String {
    format!(
        "{} clients asking for /{} and reading only its first byte (one for each worker), then {} more asking for it and reading nothing (the queue holds {})",
        probe.threads(),
        fixture::BIG,
        probe.queue() + EXTRA,
        probe.queue()
    )
}
