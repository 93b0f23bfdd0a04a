//! `ten-thousand-idle`: connections that cost no thread, by the ten thousand.
//!
//! Stage 6's `many-idle-connections` holds 300 and lets the server add its
//! workers and a few threads more. Here there are ten thousand, the count that
//! named the "C10k problem", and the bound on threads is absolute: a server
//! that gives each connection a thread, or a pool that grows with the crowd,
//! cannot hide behind a large `{threads}`.

use std::thread;
use std::time::{Duration, Instant};

use crate::check::Failure;
use crate::check::Mode;
use crate::check::Need;
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, expect_200};
use crate::checks::stage5_thread_pool;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use crate::process;
use course::Stage;

pub static CHECK: Check = Check {
    id: "ten-thousand-idle",
    stage: Stage::Async,
    title: "with 10,000 idle connections open, a new client is served within a second and the server has fewer than 20 threads; once they hang up, it serves again within 10 s",
    limit: Duration::from_secs(150),
    mode: Mode::Shared,
    needs: &[Need::ThreadCount],
    hint: "Make each connection a task (or an entry in a readiness loop), never a thread: an async runtime with one thread per core holds ten thousand idle connections as easily as ten. Raise the open-file limit at start, or the server runs out of descriptors first.",
    run,
};

/// How many idle connections `ten-thousand-idle` holds open.
pub const C10K: usize = 10_000;

/// The most threads a server may have while it holds them: a thread per core
/// for the runtime, a main thread, a signal handler, a few blocking threads
/// for files, the `cargo run` around it, with room to spare. On a machine with
/// more than [`SPARE`] cores the runtime may have a thread on each.
pub const MAX_THREADS: usize = 20;
const SPARE: usize = 12;

/// How long one connection may take to be made.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);

/// How fast the client among the crowd must be served.
pub const SERVED_WITHIN: Duration = Duration::from_secs(1);

fn thread_limit() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    MAX_THREADS.max(cores + SPARE)
}

/// How long the server may take to serve again once the crowd has hung up:
/// on Linux it takes milliseconds.
pub const RECOVER_WITHIN: Duration = Duration::from_secs(10);

/// How much longer to wait, quietly, for a server that did not recover in
/// time, so that the checks after this one are not failed for its aftermath.
const CLEAR_WITHIN: Duration = Duration::from_secs(40);

fn run(probe: &Probe) -> Result<(), Failure> {
    let held = hold_the_crowd(probe);
    // The crowd is gone either way. Unless the server has exited, give it
    // time to clear the hang-ups, so that the next check starts clean; the
    // verdict on how long that took is this check's.
    let gone = probe.process().and_then(|server| server.exit_status());
    if gone.is_some() {
        return held;
    }
    let hung_up = Instant::now();
    let recovered = served_again(probe, hung_up, RECOVER_WITHIN);
    if recovered.is_err() {
        let _ = served_again(probe, hung_up, CLEAR_WITHIN);
    }
    held.and(recovered)
}

/// After the crowd has hung up: asks for the front page until a `200` comes
/// back, and fails if none does `within`. Notes how long it took since
/// `hung_up` when that was long enough for a person to notice.
fn served_again(probe: &Probe, hung_up: Instant, within: Duration) -> Result<(), Failure> {
    let until = probe.within(within);
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    loop {
        // A new connection for each try: one made while the server was still
        // closing the crowd's may wait longer than the next.
        let exchange = client::exchange(
            probe.addr(),
            &request,
            until.min(probe.within(ANSWER_WITHIN)),
        );
        if exchange.reply().is_some_and(|reply| reply.status() == 200) {
            let took = hung_up.elapsed();
            if took >= Duration::from_secs(1) {
                probe.note(format!(
                    "after the 10,000 connections hung up, the server took {:.1} s to answer again",
                    took.as_secs_f64()
                ));
            }
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(Failure::of(
                format!(
                    "after the 10,000 idle connections hung up, GET /{} got no 200 for {} s",
                    fixture::INDEX,
                    within.as_secs()
                ),
                &exchange,
            )
            .hint("A hang-up must cost the loop no more than its own clean-up: never block the thread that runs the loop (a synchronous log write, a sleep, a lookup), or every other client waits behind ten thousand of them."));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn hold_the_crowd(probe: &Probe) -> Result<(), Failure> {
    expect_200(probe, fixture::INDEX)?;
    let limit = thread_limit();
    let sent = |n: usize| format!("{n} connections that never send a byte");
    let mut idle = Vec::with_capacity(C10K);
    let opening = Instant::now();
    for n in 1..=C10K {
        if n % 1000 == 0 {
            // A server with a thread per connection fails here, long before
            // it has ten thousand of them.
            too_many_threads(
                probe,
                limit,
                &format!("with {} idle connections open", n - 1),
            )?;
        }
        pace(probe);
        // A connection the server does not accept waits in its backlog, and
        // once that is full, connecting waits: give up after a while.
        match client::connect(probe.addr(), probe.within(CONNECT_WITHIN)) {
            Ok(stream) => idle.push(stream),
            Err(error) if is_out_of_files(&error) => {
                return Err(Failure::new(format!(
                    "the grader itself could not open connection {n}: its open-file limit is too low"
                ))
                .sent(sent(n - 1))
                .received(error)
                .hint("Raise the open-file limit of the shell that runs the grader (`ulimit -n 20000`) and grade again."));
            }
            Err(error) => {
                return Err(Failure::new(format!(
                    "with {} idle connections open, connection {n} could not be made",
                    n - 1
                ))
                .sent(sent(n - 1))
                .received(error)
                .hint("Raise the server's own open-file limit to its hard limit at start (`setrlimit(RLIMIT_NOFILE)`), and keep accepting while connections are idle."));
            }
        }
    }
    let opened_in = opening.elapsed();
    // Accepted, all of them, so that the threads counted are the server's
    // answer to the whole crowd and not to the part it has seen.
    if let Some(waiting) =
        stage5_thread_pool::wait_until_accepted(probe, probe.within(Duration::from_secs(10)))
    {
        return Err(Failure::new(format!(
            "{waiting} of the {C10K} idle connections were still waiting to be accepted after 10 s"
        ))
        .sent(sent(C10K))
        .received(format!(
            "{waiting} connections in the listening socket's accept queue"
        )));
    }
    let with = format!("with {C10K} idle connections open");
    let request = client::get_request(probe.addr(), &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr(), &request, probe.within(SERVED_WITHIN));
    match exchange.reply() {
        Some(reply)
            if reply.status() == 200 && reply.body == probe.site.file(fixture::INDEX).bytes => {}
        _ => {
            return Err(Failure::of(
                format!(
                    "{with}, a new client's GET /{} got no whole 200 within {} s",
                    fixture::INDEX,
                    SERVED_WITHIN.as_secs()
                ),
                &exchange,
            )
            .hint("Idle connections must cost neither a thread nor a turn: wait for all of them in one readiness call (epoll, or an async runtime's reactor), and serve whichever has a request."));
        }
    }
    too_many_threads(probe, limit, &with)?;
    // A server may close a connection that has been silent past its read
    // timeout (the course's waits 10 s): say so when that happened before
    // the last one was made, since the server then never held them all.
    let closed = idle
        .iter()
        .filter(|stream| closed_by_server(stream))
        .count();
    if closed > 0 {
        probe.note(format!(
            "opening the 10,000 connections took {:.1} s, and by the time a new client was served the server had closed {closed} of them (silent past its read timeout, or for want of descriptors): it did not hold all of them at once",
            opened_in.as_secs_f64()
        ));
    }
    drop(idle);
    Ok(())
}

/// Keeps the server's accept queue short before the next connection is
/// made. A connection that finds the queue full has its handshake dropped,
/// and tries again only a second later: a few hundred such seconds, and the
/// first idle connections have outlived any read timeout before the last is
/// made. So wait, briefly, for the server to accept what is waiting. Where
/// the queue cannot be read (Linux reads it), connections go as fast as
/// they can be made.
fn pace(probe: &Probe) {
    const SHORT: usize = 4;
    let port = probe.addr().port();
    let until = Instant::now() + Duration::from_millis(100);
    while process::accept_queue(port).is_some_and(|waiting| waiting >= SHORT)
        && Instant::now() < until
    {
        thread::sleep(Duration::from_millis(1));
    }
}

/// Whether the server has closed `stream`, or answered on it (an idle client
/// is only ever answered with a timeout, and then closed): looked at without
/// waiting.
fn closed_by_server(stream: &std::net::TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0; 1];
    match stream.peek(&mut byte) {
        Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
        Ok(_) => true,
    }
}

/// `client::connect` gives its error as text; EMFILE (24) reads so.
fn is_out_of_files(error: &str) -> bool {
    error.contains("Too many open files") || error.contains("os error 24")
}

/// Fails if the server has more than `limit` threads now; `with` says what
/// was connected at the time.
fn too_many_threads(probe: &Probe, limit: usize, with: &str) -> Result<(), Failure> {
    let sent = "idle connections, that never send a byte".to_owned();
    let Some(threads) = probe.thread_count() else {
        return Err(
            Failure::new(format!("{with}, the server's threads could not be counted"))
                .sent(sent)
                .received("no process left in the server's process group"),
        );
    };
    if threads <= limit {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{with}, the server had {threads} threads; at most {limit} are allowed, whatever {{threads}} is"
    ))
    .sent(sent)
    .received(format!("{threads} threads in the server's processes, counted in /proc"))
    .hint("A connection must not cost a thread, and neither may a response: run one thread per core (an async runtime's default) and let tasks, not threads, wait."))
}
