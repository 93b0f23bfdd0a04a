//! Stage 5's checks: a fixed set of workers, a bounded queue, and `503` when
//! both are full.
//!
//! The grader cannot see a server's pool, only what it does. So the checks keep
//! the workers busy the one way that works for every design, a readiness loop
//! included: downloads of the big file by clients that stop reading, which
//! leave a worker blocked in a write. Silent clients are the other tool: they
//! cost a thread-per-client server a thread each.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use super::{ANSWER_WITHIN, EXIT_WITHIN, Probe, expect_200, output_of, waited};
use crate::check::Failure;
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::process::{self, describe_exit};

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
    let request = client::get_request(probe.addr, &format!("/{}", fixture::INDEX));
    let until = probe.within(RECOVER_WITHIN);
    loop {
        let exchange =
            client::exchange(probe.addr, &request, until.min(probe.within(ANSWER_WITHIN)));
        let full = exchange.reply().is_some_and(|reply| reply.status == 503);
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
        probe.addr
    )
    .into_bytes()
}

/// The server's thread count before a crowd, and the most it may reach.
pub struct ThreadWatch {
    baseline: usize,
    limit: usize,
}

impl ThreadWatch {
    /// Counts the server's threads now, if they can be counted. With
    /// `{threads}` known, the server may grow by its workers (a pool may start
    /// them lazily) and [`THREAD_SLACK`]; without, by less than half of `crowd`.
    pub fn start(probe: &Probe, crowd: usize) -> Option<ThreadWatch> {
        let baseline = probe.thread_count()?;
        let growth = match probe.settings.threads {
            Some(workers) => workers + THREAD_SLACK,
            None => crowd / 2,
        };
        Some(ThreadWatch {
            baseline,
            limit: baseline + growth,
        })
    }

    /// Fails if the server has more threads than it may have; `with` says what
    /// was connected at the time, and `sent` shows it.
    pub fn check(&self, probe: &Probe, with: &str, sent: &str) -> Result<(), Failure> {
        let Some(now) = probe.thread_count() else {
            return Err(
                Failure::new(format!("the server's threads could not be counted {with}"))
                    .sent(sent.to_owned())
                    .received("no process left in the server's process group"),
            );
        };
        if now <= self.limit {
            return Ok(());
        }
        let allowed = match probe.settings.threads {
            Some(workers) => format!(
                "its {workers} workers ({{threads}}) and {THREAD_SLACK} more"
            ),
            None => "fewer than one for every two clients (put {threads} in the command for a tighter limit)".to_owned(),
        };
        Err(Failure::new(format!(
            "{with}, the server had {now} threads; it had {} before, and may add {allowed}, so at most {}",
            self.baseline, self.limit
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
        match process::accept_queue(probe.addr.port()) {
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
fn download_request(probe: &Probe) -> Vec<u8> {
    client::get_request(probe.addr, &format!("/{}", fixture::BIG))
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
        client::connect(probe.addr, probe.deadline).map_err(|e| failed(End::NotConnected(e)))?;
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
fn queue_download(probe: &Probe) -> Result<TcpStream, Failure> {
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
struct FullPool {
    /// The downloads under way, one per worker, each with its first byte.
    busy: Vec<(TcpStream, u8)>,
    /// The clients waiting behind them, in the queue or turned away. Held
    /// only to keep their connections open.
    _waiting: Vec<TcpStream>,
}

/// Makes every worker busy with a download, then fills the queue behind them.
fn fill_pool(probe: &Probe) -> Result<FullPool, Failure> {
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
fn filled(probe: &Probe) -> String {
    format!(
        "{} clients asking for /{} and reading only its first byte (one for each worker), then {} more asking for it and reading nothing (the queue holds {})",
        probe.threads(),
        fixture::BIG,
        probe.queue() + EXTRA,
        probe.queue()
    )
}

// ---------------------------------------------------------------------------

pub fn threads_bounded(probe: &Probe) -> Result<(), Failure> {
    let result = crowd_of_slow_clients(probe);
    after_the_crowd(probe);
    result
}

fn crowd_of_slow_clients(probe: &Probe) -> Result<(), Failure> {
    // A request first, so that a pool that starts its threads on demand has
    // started some, and they are counted before the crowd comes.
    expect_200(probe, fixture::INDEX)?;
    let Some(watch) = ThreadWatch::start(probe, CROWD) else {
        return Err(Failure::new("the server's threads could not be counted"));
    };
    let half = half_request(probe);
    let sent = |n: usize| {
        format!(
            "{n} connections, each sending half a request head and then nothing: {}",
            client::escape(&half, 200)
        )
    };
    let mut clients = Vec::with_capacity(CROWD);
    for n in 1..=CROWD {
        let mut stream = client::connect(probe.addr, probe.deadline).map_err(|error| {
            Failure::new(format!(
                "with {} slow clients connected, connection {n} could not be made",
                n - 1
            ))
            .sent(sent(n - 1))
            .received(error)
        })?;
        let _ = stream.write_all(&half);
        clients.push(stream);
        if n % 20 == 0 {
            watch.check(probe, &format!("with {n} slow clients connected"), &sent(n))?;
        }
    }
    if let Some(waiting) = wait_until_accepted(probe, probe.within(ACCEPT_WITHIN)) {
        return Err(Failure::new(format!(
            "{waiting} of the {CROWD} slow clients were still waiting to be accepted after {} s",
            ACCEPT_WITHIN.as_secs()
        ))
        .sent(sent(CROWD))
        .received(format!("{waiting} connections in the listening socket's accept queue"))
        .hint("Keep accepting while the workers are busy: hand each connection to the queue, or answer it with 503 when the queue is full, and go straight back to accept."));
    }
    // A thread-per-client server starts each thread just after its accept;
    // look a few times, so that the last ones are counted too.
    for _ in 0..5 {
        watch.check(
            probe,
            &format!("with {CROWD} slow clients connected"),
            &sent(CROWD),
        )?;
        thread::sleep(Duration::from_millis(50));
    }
    drop(clients);
    Ok(())
}

pub fn overload_503(probe: &Probe) -> Result<(), Failure> {
    let result = fill_and_ask(probe);
    let exchange = after_the_crowd(probe);
    result?;
    match exchange.reply() {
        Some(reply) if reply.status == 200 => Ok(()),
        _ => Err(Failure::of(
            format!(
                "once the clients that filled the pool had gone, GET /{} got no 200 ({})",
                fixture::INDEX,
                waited(&exchange)
            ),
            &exchange,
        )
        .hint("The workers must come back for more once their clients have gone: an error while sending ends that response, not the worker.")),
    }
}

/// Fills the pool and the queue, then asks for one more.
fn fill_and_ask(probe: &Probe) -> Result<(), Failure> {
    let _full = fill_pool(probe)?;
    let request = client::get_request(probe.addr, &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    let setting = format!("after {}", filled(probe));
    match exchange.reply() {
        Some(reply) if reply.status == 503 => match reply.header("Retry-After") {
            Some(_) => Ok(()),
            None => Err(Failure::of(
                format!("{setting}, a new client got 503 but no Retry-After header"),
                &exchange,
            )
            .hint("Add `Retry-After: 1` (seconds) to the 503, so clients know when to try again.")),
        },
        Some(reply) => Err(Failure::of(
            format!(
                "{setting}, a new client got {} instead of 503 Service Unavailable",
                reply.status
            ),
            &exchange,
        )),
        None => Err(Failure::of(
            format!(
                "{setting}, a new client got no answer within {} s; it should be turned away at once",
                ANSWER_WITHIN.as_secs()
            ),
            &exchange,
        )),
    }
}

pub fn pool_keeps_its_workers(probe: &Probe) -> Result<(), Failure> {
    let workers = probe.threads();
    let rounds = 2 * workers;
    let not_utf8 = [
        b"GET /\xff\xfe%ff.html HTTP/1.1\r\nHost: ".as_slice(),
        probe.addr.to_string().as_bytes(),
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
        if let Ok(mut stream) = client::connect(probe.addr, probe.deadline) {
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
        if let Ok(mut stream) = client::connect(probe.addr, probe.deadline) {
            let _ = stream.write_all(&not_utf8);
        }
    }
    let misbehaved = misbehaved(rounds, rounds, rounds);
    // Queues are first come, first served: once this is answered, every
    // misbehaving client before it has been dealt with.
    let request = client::get_request(probe.addr, &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    if exchange.reply().is_none_or(|reply| reply.status != 200) {
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
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    match exchange.reply() {
        Some(reply) if reply.status == 200 => Ok(()),
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

pub fn ctrl_c_with_busy_pool(probe: &Probe) -> Result<(), Failure> {
    // The waiting clients never read what they asked for: a server that
    // insists on serving the whole queue before it exits is stuck with them.
    let mut full = fill_pool(probe)?;
    // Best effort: let the server take in the waiting clients before Ctrl-C.
    let _ = wait_until_accepted(probe, probe.within(ANSWER_WITHIN));
    probe.interrupt()?;
    let setting = format!("Ctrl-C came after {}", filled(probe));
    let expected = &probe.site.file(fixture::BIG).bytes;
    let request = download_request(probe);
    let downloads = full.busy.len();
    for (n, (stream, first)) in full.busy.iter_mut().enumerate() {
        let (rest, end) = client::read_response(stream, "GET", probe.deadline);
        let exchange = Exchange {
            sent: request.clone(),
            received: [&[*first][..], &rest].concat(),
            end,
            took: Duration::ZERO,
        };
        let reply = exchange.reply().filter(|reply| reply.status == 200);
        if reply.is_none_or(|reply| reply.body_with_excess()[..] != expected[..]) {
            let what = match exchange.reply() {
                Some(reply) => client::first_difference(expected, &reply.body_with_excess()),
                None => "no whole response came".to_owned(),
            };
            return Err(Failure::of(
                format!("{setting}; download {} of {downloads}: {what}", n + 1),
                &exchange,
            ));
        }
    }
    let server = probe.server();
    match server.wait_exit(EXIT_WITHIN) {
        Some(status) if status.code() == Some(0) => Ok(()),
        Some(status) => Err(Failure::new(format!(
            "{setting}; the downloads under way finished, then the server {}",
            describe_exit(status)
        ))
        .sent(format!("{}, then Ctrl-C", filled(probe)))
        .received(output_of(server))),
        None => Err(Failure::new(format!(
            "{setting}; the downloads under way finished, but the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent(format!("{}, then Ctrl-C", filled(probe)))
        .received(output_of(server))),
    }
}
