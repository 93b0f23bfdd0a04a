//! # Stage 7: `async`
//!
//! The same server as `keep-alive`, on [tokio](https://tokio.rs): every
//! connection is a task, an `async fn` that reads as if it blocked, and the
//! runtime does what stage 6 did by hand.
//!
//! **What it adds over stage 6.** Stage 6 keeps each waiting connection in a
//! table (its socket, its session, its deadline and what to do when it passes)
//! and, once a whole request has arrived, hands it from the loop's thread to a
//! worker's. An `async fn` is compiled into just such a state machine: its
//! local variables at each `.await` are the table's entry, and tokio's reactor
//! is the epoll loop. But when a task's socket becomes readable, the task runs
//! on the thread that saw it, and answers there: no hand-off, no second thread
//! woken per request. On small pages that hand-off is about one futex call
//! and a quarter to a half more CPU time per request than nginx
//! (`bench/per-request.sh`); this stage spends 15-23% more than nginx.
//!
//! **The same contract.** The HTTP is the shared [`Session`]: the same parser,
//! limits, error table and keep-alive decision as every other stage; this file
//! only moves bytes. Deadlines for reading a head and writing a response, the
//! keep-alive timeout, lingering closes, `--threads` responses at once and
//! `--queue` more waiting (503 beyond), and Ctrl-C finishing what is under way.
//!
//! **What it still gets wrong.** A small page is found, opened and read on
//! the task, as nginx does on its loop: from the page cache that takes
//! microseconds, less than handing it to another thread and back. But on a
//! cold disk the same `open` and `read` stop a runtime thread, and every task
//! queued on it, until the disk answers. What is slow however warm the cache
//! (an upload, a body gzipped now) goes to tokio's blocking threads
//! (`spawn_blocking`), and so does a large file, sent with `sendfile`: a slow
//! reader of one holds a thread, as in stage 6. A server that must never
//! block uses `io_uring`.
//!
//! Chapter: "Stage 7: async and await".

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::time::timeout_at;

use crate::config::Config;
use crate::http::connection::write_within;
use crate::http::connection::{LINGER, LINGER_BYTES, LINGER_QUIET, discard_waiting, prepare};
use crate::http::{Error, Event, Method, Outgoing, Request, Response, Session, StatusCode, files};
use crate::shutdown::Shutdown;
use crate::{log, platform};

// ANCHOR: run
/// Serves clients until `shutdown` is requested: one task per connection, on a
/// runtime with a thread per core.
pub fn run(
    listener: std::net::TcpListener,
    config: Arc<Config>,
    shutdown: Shutdown,
) -> io::Result<()> {
    // Ctrl-C wakes the accept below by connecting to it, as in stage 4.
    shutdown.watch(&listener)?;
    listener.set_nonblocking(true)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        // Uploads, compression and large files go to these: one per
        // response under way is enough, and a few more so that an upload
        // never waits behind a download.
        .max_blocking_threads(config.threads + cores)
        // Named for the log, as stage 6's workers are.
        .thread_name_fn(move || {
            static STARTED: AtomicUsize = AtomicUsize::new(0);
            thread_name(STARTED.fetch_add(1, Ordering::Relaxed), cores)
        })
        .enable_io()
        .enable_time()
        .build()?;
    let stalled = runtime.block_on(accept_loop(listener, Arc::clone(&config), shutdown))?;
    // Tasks still running had their chance; do not wait for them again.
    runtime.shutdown_background();
    super::log_stopped(stalled, "client", config.shutdown_timeout);
    Ok(())
}
// ANCHOR_END: run

/// The name of the runtime's `started`-th thread (from 0): `runtime-N` for
/// the threads that run tasks, `blocking-N` for those `spawn_blocking` uses.
///
/// tokio asks one function for both kinds, without saying which it names. But
/// it starts every thread in one pool, and `build` starts the `cores` task
/// threads there before it returns, before any task can ask for a blocking
/// one: so the first `cores` names are theirs, and every later one is a
/// blocking thread's. (Those come and go, so their numbers keep growing.)
fn thread_name(started: usize, cores: usize) -> String {
    match started.checked_sub(cores) {
        None => format!("runtime-{started}"),
        Some(blocking) => format!("blocking-{blocking}"),
    }
}

/// What every task shares.
struct Shared {
    config: Arc<Config>,
    shutdown: Shutdown,
    permits: Permits,
}

// ANCHOR: accept_loop
/// Accepts connections and starts a task for each, until Ctrl-C; then tells
/// the tasks, and waits for them within the shutdown timeout. Returns how many
/// were given up on.
async fn accept_loop(
    listener: std::net::TcpListener,
    config: Arc<Config>,
    shutdown: Shutdown,
) -> io::Result<usize> {
    let listener = TcpListener::from_std(listener)?;
    let shared = Arc::new(Shared {
        permits: Permits::new(config.threads, config.queue),
        config,
        shutdown,
    });
    // Every task holds a receiver: `stop` tells them all at once, and
    // `stop.closed()` finishes when the last one has dropped its receiver.
    let (stop, stopped) = watch::channel(());
    loop {
        let accepted = listener.accept().await;
        if shared.shutdown.is_requested() {
            break;
        }
        match accepted {
            Ok((stream, peer)) => {
                prepare(&stream, &shared.config);
                tokio::spawn(serve(stream, peer, Arc::clone(&shared), stopped.clone()));
            }
            Err(error) => {
                log::error(format_args!("accept failed: {error}"));
                // Out of descriptors, `accept` would fail again at once: give
                // the tasks a moment to close some (see `stages::accepted`).
                if platform::is_out_of_descriptors(&error) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    // ANCHOR_END: accept_loop
    // ANCHOR: shutdown
    drop((listener, stopped));
    let _ = stop.send(());
    log::info("not accepting; waiting for the responses under way");
    let deadline = tokio::time::Instant::now() + shared.config.shutdown_timeout;
    let _ = timeout_at(deadline, stop.closed()).await;
    Ok(stop.receiver_count())
    // ANCHOR_END: shutdown
}

// ANCHOR: serve
/// One connection, from accept to close: the whole of stage 6's table entry,
/// loop and worker job, as one `async fn`.
async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
) {
    let config = Arc::clone(&shared.config);
    let mut session = Session::new(config.limits);
    // A new connection's first request is due within the read timeout.
    let mut idle = false;
    loop {
        let Some(event) = next_event(&stream, &mut session, &config, idle, &mut stop).await else {
            return; // closed, idle too long, or shutting down: nothing to answer
        };
        let started = Instant::now();
        let answer = match event {
            Event::Request(request) => Ok(request),
            Event::Error(error) => Err(error),
            Event::Closed => return,
            Event::NeedMore => unreachable!("`next_event` waits until it is not"),
        };
        let (permit, answer) = match shared.permits.take(&mut stop).await {
            Turn::Go(permit) => (Some(permit), answer),
            Turn::Full => (None, Err(session.refuse(Error::Overloaded))),
            Turn::Stopped => return,
        };
        session.allow_keep_alive(!shared.shutdown.is_requested());
        let Some((back, prepared)) = prepare_response(session, answer, &config).await else {
            return;
        };
        session = back;
        let (status, outgoing) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                log::dropped(peer, session.line(), &error, started.elapsed());
                break;
            }
        };
        let (back, written) = match outgoing {
            Ok(outgoing) => send(stream, outgoing, config.write_timeout).await,
            Err(error) => (Some(stream), Err(error)),
        };
        log::sent(|| peer, session.line(), status, &written, started.elapsed());
        drop(permit);
        let Some(back) = back else {
            return; // closed: the connection failed on the way
        };
        stream = back;
        if session.must_linger() {
            return linger(stream).await;
        }
        if written.is_err() || !session.can_continue() {
            break;
        }
        // The next request gets `--keep-alive-timeout` to start, unless some
        // of it is here already.
        idle = !session.has_unread();
    }
    if session.has_unread() {
        // A request after `close`: read it, so closing does not reset.
        discard_waiting(TryRead(&stream), LINGER_BYTES);
    }
}
// ANCHOR_END: serve

// ANCHOR: next_event
/// Reads until the session has something to say, and returns it; `None` if
/// the connection should close without an answer: the client closed or reset
/// it, stayed idle past the keep-alive timeout, or the server is stopping.
async fn next_event(
    stream: &TcpStream,
    session: &mut Session,
    config: &Config,
    mut idle: bool,
    stop: &mut watch::Receiver<()>,
) -> Option<Event> {
    let timeout = if idle {
        config.keep_alive_timeout
    } else {
        config.read_timeout
    };
    let mut deadline = tokio::time::Instant::now() + timeout;
    loop {
        wait_for_more(stream, session, config, &mut idle, &mut deadline, stop).await?;
        match session.next_event() {
            // A head that starts an upload: its body comes next, once the
            // client has the `100 Continue` it may be waiting for.
            Event::NeedMore => {
                if let Some(interim) = session.take_interim() {
                    send_interim(stream, interim, deadline).await?;
                }
            }
            event => return Some(event),
        }
    }
}

/// Reads until the session needs no more, within `deadline`; `None` if the
/// connection should close without an answer (see [`next_event`]).
async fn wait_for_more(
    stream: &TcpStream,
    session: &mut Session,
    config: &Config,
    idle: &mut bool,
    deadline: &mut tokio::time::Instant,
    stop: &mut watch::Receiver<()>,
) -> Option<()> {
    while session.needs_more() {
        let (idle_now, deadline_now) = (*idle, *deadline);
        tokio::select! {
            ready = timeout_at(deadline_now, stream.readable()) => match ready {
                // Time is news the session cannot see for itself: the
                // refusal is the next event.
                Err(_) if !idle_now => {
                    session.refuse(Error::Timeout);
                    return Some(());
                }
                Err(_) | Ok(Err(_)) => return None,
                Ok(Ok(())) => {}
            },
            // Waiting connections have no response under way: close them.
            _ = stop.changed() => return None,
        }
        match receive_available(stream, session) {
            Ok(0) => {}
            Ok(_) if idle_now => {
                // A request has started: its whole head is due within the
                // read timeout.
                *idle = false;
                *deadline = tokio::time::Instant::now() + config.read_timeout;
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    Some(())
}

/// Writes an interim response (`100 Continue`), within the request's
/// deadline; `None` if it could not be.
async fn send_interim(
    stream: &TcpStream,
    mut interim: &[u8],
    deadline: tokio::time::Instant,
) -> Option<()> {
    while !interim.is_empty() {
        timeout_at(deadline, stream.writable()).await.ok()?.ok()?;
        match stream.try_write(interim) {
            Ok(0) => return None,
            Ok(n) => interim = &interim[n..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(())
}

/// Gives the session what the socket has now, without waiting (the socket
/// said it was readable, but that may be stale). Returns how many bytes came.
///
/// The buffer lives on the stack of this plain function, not in the task: a
/// local of an `async fn` that lives across an `.await` is stored in the task
/// for as long as it waits, and 10,000 idle tasks would each keep 16 KiB.
fn receive_available(stream: &TcpStream, session: &mut Session) -> io::Result<usize> {
    let mut chunk = [0; 16 * 1024];
    let mut received = 0;
    while session.needs_more() {
        match read_now(stream, &mut chunk) {
            Ok(0) => session.receive_eof(),
            Ok(n) => {
                session.receive(&chunk[..n]);
                received += n;
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(received)
}
// ANCHOR_END: next_event

// ANCHOR: read_now
/// Reads once without waiting, as `try_read` does, and a read that did not
/// fill `chunk` tells tokio that the socket is drained.
///
/// tokio forgets that a socket is readable only when a read finds nothing
/// (`WouldBlock`). Without this, the wait for the next request on a kept-alive
/// connection would return at once, for a read that finds nothing: a system
/// call per request that nginx, which takes a short read to mean "drained",
/// does not make. `try_io` is how tokio lets a caller say so: it forgets the
/// readiness when its closure returns `WouldBlock`, unless more has arrived
/// meanwhile. Not where a short read proves nothing (see the platform module).
fn read_now(stream: &TcpStream, chunk: &mut [u8]) -> io::Result<usize> {
    if !platform::SHORT_READ_DRAINS {
        return stream.try_read(chunk);
    }
    let mut read = 0;
    let drained = stream.try_io(Interest::READABLE, || {
        read = stream.try_read(chunk)?;
        match read {
            0 => Ok(0), // the client closed its side: not "drained"
            n if n < chunk.len() => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    });
    match drained {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock && read > 0 => Ok(read),
        other => other,
    }
}
// ANCHOR_END: read_now

// ANCHOR: prepare_response
/// The response to a request (or to an error), as bytes to send. The session
/// goes along and comes back; `None` if work on a blocking thread panicked.
///
/// Where each part runs is this stage's one real choice. Finding a page,
/// opening it and reading it (at most 64 KiB; a larger file is sent by
/// [`send`]) takes microseconds when the file is in the page cache, as a
/// server's pages nearly always are: that is done here, on the task, as nginx
/// does it on its loop, because handing it to a blocking thread and back costs
/// more than the work (see the chapter). On a cold disk the same `open` and
/// `read` stop this thread, and every task queued on it, for as long as the
/// disk takes. What takes milliseconds however warm the cache goes to a
/// blocking thread: an upload, which writes a file and flushes it to the disk,
/// and a body compressed now.
async fn prepare_response(
    mut session: Session,
    answer: Result<Request, Error>,
    config: &Arc<Config>,
) -> Option<(Session, Prepared)> {
    let reads = |request: &Request| matches!(request.method, Method::Get | Method::Head);
    let upload = config.uploads.is_some() && matches!(&answer, Ok(request) if !reads(request));
    if upload {
        // It writes a file and flushes it to the disk: all of it off the task.
        let config = Arc::clone(config);
        return blocking(move || {
            let prepared = serialize(&mut session, respond(&config, answer));
            (session, prepared)
        })
        .await;
    }
    // On the task: find the file and open it...
    let response = respond(config, answer);
    // ...and read it, unless it is to be compressed first.
    if matches!(&response, Ok(response) if response.body.is_made_now()) {
        return blocking(move || {
            let prepared = serialize(&mut session, response);
            (session, prepared)
        })
        .await;
    }
    let prepared = serialize(&mut session, response);
    Some((session, prepared))
}

/// Runs `job` on one of tokio's blocking threads, and waits for it without
/// blocking this one; `None` if it panicked.
async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(job).await.ok()
}
// ANCHOR_END: prepare_response

/// A response ready to send: its status, and its bytes (`Err` for a file that
/// could not be read); or an error with no one to answer.
type Prepared = Result<(StatusCode, io::Result<Outgoing>), Error>;

/// The response to a request, or to its error, as every stage makes it;
/// `Err` for an error that leaves no one to answer.
fn respond(config: &Config, answer: Result<Request, Error>) -> Result<Response, Error> {
    let answer = answer.and_then(|request| files::respond(config, &request));
    answer.or_else(|error| Response::error(&config.root, &error).ok_or(error))
}

/// The response as bytes, by the session, which decides on keep-alive.
fn serialize(session: &mut Session, response: Result<Response, Error>) -> Prepared {
    response.map(|response| (response.status, session.respond(response)))
}

// ANCHOR: send
/// Sends a response, the whole of it within `timeout`. Returns the stream
/// (`None` if it was lost on the way, which only a failure can do) and how
/// many bytes were sent. The head (and a small body) is written by the task; a
/// large file goes out with `sendfile` on a blocking thread, straight from the
/// page cache, since tokio has no `sendfile` of its own.
async fn send(
    mut stream: TcpStream,
    outgoing: Outgoing,
    timeout: Duration,
) -> (Option<TcpStream>, io::Result<u64>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let Outgoing { bytes, file } = outgoing;
    let head = match timeout_at(deadline, stream.write_all(&bytes)).await {
        Ok(Ok(())) => bytes.len() as u64,
        Ok(Err(error)) => return (Some(stream), Err(error)),
        Err(_) => return (Some(stream), Err(too_slow())),
    };
    let Some(file) = file else {
        return (Some(stream), Ok(head));
    };
    // Off the reactor, blocking, for stage 6's `write_within` and its
    // deadline; then back on it, for the next request.
    let left = timeout.saturating_sub(started.elapsed());
    let job = tokio::task::spawn_blocking(move || {
        let blocking = stream.into_std()?;
        blocking.set_nonblocking(false)?;
        let rest = Outgoing {
            bytes: Vec::new(),
            file: Some(file),
        };
        let sent = write_within(&blocking, rest, left);
        blocking.set_nonblocking(true)?;
        io::Result::Ok((blocking, sent))
    });
    let back = job.await.map_err(io::Error::other).and_then(|done| done);
    match back.and_then(|(blocking, sent)| Ok((TcpStream::from_std(blocking)?, sent))) {
        Ok((stream, sent)) => (Some(stream), sent.map(|sent| head + sent)),
        Err(error) => (None, Err(error)),
    }
}
// ANCHOR_END: send

fn too_slow() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client did not read the response within the write timeout",
    )
}

// ANCHOR: linger
/// Closes a connection whose client may still be sending (after an error, or
/// a body not read to its end) so that it sees our answer: half-close, then
/// throw away what comes until it is quiet, closes, or has sent too much.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let until = tokio::time::Instant::now() + LINGER;
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let quiet = (tokio::time::Instant::now() + LINGER_QUIET).min(until);
        if !matches!(timeout_at(quiet, stream.readable()).await, Ok(Ok(()))) {
            return;
        }
        let (read, open) = discard_waiting(TryRead(&stream), LINGER_BYTES - drained);
        drained += read;
        if !open {
            return;
        }
    }
}
// ANCHOR_END: linger

/// A tokio stream as a `Read` that never waits, for the helpers stage 6 uses
/// on its non-blocking sockets.
struct TryRead<'a>(&'a TcpStream);

impl Read for TryRead<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buffer)
    }
}

// ANCHOR: permits
/// Stage 5's bound, for tasks: at most `--threads` responses under way at
/// once, and `--queue` more requests waiting for their turn; beyond that, 503
/// at once. A task is cheap, but what it does is not: each response may hold
/// a file, a blocking thread and a share of the disk.
struct Permits {
    semaphore: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

/// What asking for a permit came to.
enum Turn<'a> {
    Go(SemaphorePermit<'a>),
    /// Every permit is taken and the queue is full.
    Full,
    /// The server is stopping; the request was waiting, not under way.
    Stopped,
}

impl Permits {
    fn new(responses: usize, queue: usize) -> Permits {
        Permits {
            semaphore: Semaphore::new(responses),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    async fn take(&self, stop: &mut watch::Receiver<()>) -> Turn<'_> {
        if let Ok(permit) = self.semaphore.try_acquire() {
            return Turn::Go(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Turn::Full;
        }
        // Tokio's semaphore is first come, first served: a queue.
        let turn = tokio::select! {
            // Never closed, so `acquire` cannot fail.
            permit = self.semaphore.acquire() => Turn::Go(permit.expect("never closed")),
            _ = stop.changed() => Turn::Stopped,
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        turn
    }
}
// ANCHOR_END: permits

#[cfg(test)]
mod tests {
    use super::thread_name;

    #[test]
    fn the_first_threads_run_tasks_and_the_rest_block() {
        let names: Vec<String> = (0..5).map(|started| thread_name(started, 2)).collect();
        assert_eq!(
            names,
            [
                "runtime-0",
                "runtime-1",
                "blocking-0",
                "blocking-1",
                "blocking-2"
            ]
        );
    }
}
