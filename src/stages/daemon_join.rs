//! # Stage 4: `daemon-join`
//!
//! The report marked its client threads as daemons, appended each one to a list,
//! and ended with a loop that joined them all. That loop came after `while True:`
//! and was never reached; Ctrl-C killed the process, daemon threads and all, in
//! the middle of whatever they were sending; and the list only grew.
//!
//! This stage makes the join real:
//!
//! 1. keep each client thread's `JoinHandle`, pruning the finished ones so the
//!    list stays as long as the number of clients being served;
//! 2. on Ctrl-C or SIGTERM, stop accepting (new clients are refused at once);
//! 3. wait for the clients being served to finish, but no longer than
//!    `--shutdown-timeout`, so an idle client cannot hold the server open;
//! 4. join the finished threads (a join reports a thread that panicked) and exit 0.
//!
//! **What it still gets wrong.** Still a thread per client, created per
//! connection, with no limit on how many (`thread-pool` fixes that).
//!
//! Chapter: "Stage 4: shutting down cleanly".

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{not_found, thread_per_client};
use crate::config::Config;
use crate::log;
use crate::shutdown::{InFlight, Shutdown};

// ANCHOR: run
/// Serves each client on its own thread until `shutdown` is requested, then
/// finishes the responses under way and returns.
pub fn run(listener: TcpListener, config: Arc<Config>, shutdown: Shutdown) -> io::Result<()> {
    shutdown.watch(&listener)?;
    let in_flight = InFlight::new();
    let mut clients: Vec<JoinHandle<()>> = Vec::new();

    for (number, stream) in listener.incoming().enumerate() {
        // Checked after every accept: the connection that woke us may be the
        // shutdown itself knocking (see `Shutdown::request`).
        if shutdown.is_requested() {
            break;
        }
        let Some(stream) = super::accepted(stream) else {
            continue;
        };
        // The report's list only grew; ours forgets threads that are done.
        clients.retain(|client| !client.is_finished());

        let config = Arc::clone(&config);
        let guard = in_flight.enter();
        let spawned = thread_per_client::spawn_client(number, move || {
            not_found::handle_connection(stream, &config);
            drop(guard);
        });
        // Stage 2 dropped the handle; we keep it, to join the thread later.
        if let Some(client) = spawned {
            clients.push(client);
        }
    }
    // ANCHOR_END: run

    // ANCHOR: join
    // Closing the listener makes new clients' connections fail at once, instead
    // of waiting in the backlog for an accept that will never come.
    drop(listener);
    let busy = clients
        .iter()
        .filter(|client| !client.is_finished())
        .count();
    log::info(format_args!("waiting for {busy} client(s) to finish"));
    let stalled = in_flight.wait_until_idle(config.shutdown_timeout);

    // The join the report never reached. When every client is done, every thread
    // is joined (those not yet finished are only returning). A thread still
    // serving after the timeout is not: `join` would wait for it as long as its
    // client likes. Returning from `main` ends it with the process.
    let mut joined = 0;
    for client in clients {
        if stalled > 0 && !client.is_finished() {
            continue;
        }
        if client.join().is_err() {
            log::error("a client thread had panicked");
        }
        joined += 1;
    }
    // Only the threads of the last few clients: `retain` kept the list short,
    // however many came before (the report's list kept every one).
    log::info(format_args!("joined {joined} client thread(s)"));
    super::log_stopped(stalled, "client", config.shutdown_timeout);
    Ok(())
    // ANCHOR_END: join
}
