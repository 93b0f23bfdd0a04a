//! # Stage 6: `keep-alive`
//!
//! Two ideas that real servers combine.
//!
//! **Persistent connections.** A new TCP connection costs a round trip, and a
//! page pulls in a dozen files. HTTP/1.1 keeps the connection open after a
//! response unless the client sends `Connection: close` (HTTP/1.0 only with
//! `Connection: keep-alive`); the server's `Connection` header says what it
//! will do. Pipelined requests are answered in order. A connection idle for
//! `--keep-alive-timeout`, or that got an error, is closed.
//!
//! **A readiness loop.** Between requests a kept-alive connection sends
//! nothing, often for seconds; giving it a worker, as `thread-pool` would,
//! brings back that stage's weakness a hundredfold. Instead every waiting
//! connection is registered with the system's readiness API (epoll, kqueue, or
//! AFD on Windows, through [mio](https://docs.rs/mio)), and one thread, the
//! loop, sleeps until some have bytes to read. It reads without blocking, and
//! only a connection whose request head is complete goes to a worker of
//! `thread-pool`'s pool, which answers and gives it back. A waiting connection
//! costs a socket and a small buffer, never a thread.
//!
//! **What it still leaves out.** A worker writes with blocking calls, so a
//! client that reads slowly holds one, up to the write timeout (a deadline for
//! the whole response); nginx, and hyper on tokio, never block. No TLS or
//! HTTP/2 either.
//!
//! Here: the loop and a worker's job; `readiness.rs`: the loop's work;
//! `table.rs`: the waiting connections; `linger.rs`: the lingering close.
//!
//! Chapter: "Stage 6: keeping connections alive".

mod linger;
mod readiness;
mod table;

use std::io::{self, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use self::readiness::Loop;
use self::table::{Expiry, Table, Waiting};
use super::thread_pool::ThreadPool;
use crate::config::Config;
use crate::http::connection::{LINGER_BYTES, discard_waiting, write_within};
use crate::http::{Event, Response, files};
use crate::log;
use crate::shutdown::Shutdown;

/// The listening socket's token. Connections get tokens from 1 up.
const LISTENER: Token = Token(0);
/// How often deadlines are checked; they are kept to within this much.
const TICK: Duration = Duration::from_millis(100);

// ANCHOR: run
/// Serves clients until `shutdown` is requested: connections wait in the
/// loop, on this thread; requests are answered by the pool's workers.
pub fn run(listener: TcpListener, config: Arc<Config>, shutdown: Shutdown) -> io::Result<()> {
    shutdown.watch(&listener)?;
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    let registry = poll.registry();
    registry.register(&mut listener, LISTENER, Interest::READABLE)?;
    let table = Arc::new(Table::new(registry.try_clone()?));
    crate::status::gauge("idle connections", None, &table, Table::len);
    let pool = {
        let (config, shutdown, table) = (Arc::clone(&config), shutdown.clone(), Arc::clone(&table));
        ThreadPool::new(config.threads, config.queue, move |waiting: Waiting| {
            if let Some(waiting) = serve(waiting, &table, &config, &shutdown) {
                table.watch(waiting);
            }
        })?
    };
    let the_loop = Loop {
        table,
        config,
        pool,
    };

    let mut events = Events::with_capacity(1024);
    let mut next_sweep = Instant::now() + TICK;
    let mut retry_accept = false;
    while !shutdown.is_requested() {
        // Sleep until a socket is ready or it is time to check deadlines.
        let timeout = next_sweep.saturating_duration_since(Instant::now());
        if let Err(error) = poll.poll(&mut events, Some(timeout))
            && error.kind() != io::ErrorKind::Interrupted
        {
            return Err(error);
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => retry_accept = the_loop.accept_all(&listener),
                // `None`: a worker has it, or it closed earlier in this batch.
                token => {
                    if let Some(waiting) = the_loop.table.take(token) {
                        the_loop.advance(waiting);
                    }
                }
            }
        }
        let now = Instant::now();
        if now >= next_sweep {
            if retry_accept {
                retry_accept = the_loop.accept_all(&listener);
            }
            the_loop.expire(now);
            next_sweep = now + TICK;
        }
    }
    // ANCHOR_END: run

    // ANCHOR: shutdown
    // Stop accepting, and close the waiting connections: they have no
    // response under way, and a client reconnects if it wants more.
    let _ = poll.registry().deregister(&mut listener);
    drop(listener);
    let (table, config, pool) = (the_loop.table, the_loop.config, the_loop.pool);
    let idle = table.close_all();
    log::info(format_args!(
        "closed {idle} idle connection(s); waiting for the workers to finish"
    ));
    let stalled = pool.shutdown(config.shutdown_timeout);
    // Workers that finished a response just before the shutdown may have put
    // their connection back in the table.
    table.close_all();
    super::log_stopped(stalled, "worker", config.shutdown_timeout);
    Ok(())
    // ANCHOR_END: shutdown
}

// ANCHOR: serve
/// A worker's job: answer every request whose head is already buffered, then
/// give the connection back (`Some`) if it stays open or must linger.
fn serve(waiting: Waiting, table: &Table, config: &Config, shutdown: &Shutdown) -> Option<Waiting> {
    let (mut stream, mut token) = (waiting.stream, waiting.token);
    let (peer, mut session) = (waiting.peer, waiting.session);
    // More than one request may be buffered: pipelined requests are answered
    // one after the other, in the order they came.
    let open = loop {
        let started = Instant::now();
        let answer = match session.next_event() {
            // The rest is the loop's to wait for (and a close, its to see).
            Event::NeedMore => match session.take_interim() {
                // An upload's client waits for `100 Continue` before its body.
                Some(interim) => match send_interim(stream, &mut token, table, config, interim) {
                    Some(back) => {
                        stream = back;
                        break true;
                    }
                    None => return None,
                },
                None => break true,
            },
            Event::Closed => break true,
            Event::Request(request) => {
                // Keep the connection if the client wants to and we are not
                // shutting down; the response's `Connection` header says which.
                session.allow_keep_alive(!shutdown.is_requested());
                files::respond(config, &request)
            }
            Event::Error(error) => Err(error),
        };
        // An error becomes its response, unless there is no one to answer.
        let response = match answer.or_else(|e| Response::error(&config.root, &e).ok_or(e)) {
            Ok(response) => response,
            Err(error) => {
                log::dropped(peer, session.line(), &error, started.elapsed());
                break false;
            }
        };
        crate::status::set_with(crate::status::Activity::Writing, session.line());
        let status = response.status;
        let written = match session.respond(response) {
            Ok(mut out) => match out.write_available(&stream) {
                // Most responses fit the socket's buffer and go out at once.
                Ok(now) if out.is_done() => Ok(now),
                Ok(now) => {
                    // The rest waits for the client: blocking writes within
                    // the write timeout, off the poller.
                    let blocking = table.release(stream, token.take());
                    let rest = (blocking.set_nonblocking(false))
                        .and_then(|()| write_within(&blocking, out, config.write_timeout));
                    blocking.set_nonblocking(true).ok()?;
                    stream = TcpStream::from_std(blocking);
                    rest.map(|sent| now + sent)
                }
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        log::sent(|| peer, session.line(), status, &written, started.elapsed());
        if session.must_linger() {
            break true; // the loop lingers, so that this worker need not wait
        }
        if written.is_err() || !session.can_continue() {
            break false;
        }
    };
    if !open {
        if session.has_unread() {
            // A request after `close`: read it, so closing does not reset.
            discard_waiting(&stream, LINGER_BYTES);
        }
        drop(table.release(stream, token)); // closed
        return None;
    }
    let waiting = if session.must_linger() {
        Waiting::lingering(stream, peer, session)
    } else {
        // The next request gets `--keep-alive-timeout` to start, and once
        // some of it is here (or an upload's body is on its way), the read
        // timeout.
        let (timeout, on_expiry) = match session.has_unread() || session.reading_body() {
            true => (config.read_timeout, Expiry::RequestTimeout),
            false => (config.keep_alive_timeout, Expiry::Close),
        };
        Waiting::new(stream, peer, session, timeout, on_expiry)
    };
    Some(Waiting { token, ..waiting })
}
// ANCHOR_END: serve

/// Writes an interim response (`100 Continue`): at once, as it nearly always
/// fits the socket's buffer, or else blocking, within the write timeout, off
/// the poller, as the rest of a response is. `None` if the connection failed.
fn send_interim(
    mut stream: TcpStream,
    token: &mut Option<Token>,
    table: &Table,
    config: &Config,
    mut interim: &[u8],
) -> Option<TcpStream> {
    while !interim.is_empty() {
        match stream.write(interim) {
            Ok(0) => return None,
            Ok(n) => interim = &interim[n..],
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => return None,
        }
    }
    if interim.is_empty() {
        return Some(stream);
    }
    let mut blocking = table.release(stream, token.take());
    let written = (blocking.set_nonblocking(false))
        .and_then(|()| blocking.set_write_timeout(Some(config.write_timeout)))
        .and_then(|()| blocking.write_all(interim))
        .and_then(|()| blocking.set_nonblocking(true));
    written.ok()?;
    Some(TcpStream::from_std(blocking))
}
