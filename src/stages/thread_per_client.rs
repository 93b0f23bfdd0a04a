//! # Stage 2: `thread-per-client`
//!
//! Every accepted connection is served on a new thread, as the report's
//! `ClientThread` did, so the accept loop never waits on a client: an idle
//! connection now holds only its own thread.
//!
//! **What it still gets wrong.** Errors still get no answer (`not-found` fixes
//! that). Each client costs a whole thread, with its own stack, created and
//! destroyed per connection; a thousand idle clients are a thousand threads, and
//! nothing puts a limit on them (the `thread-pool` stage does). Ctrl-C kills the
//! process in the middle of whatever the threads are sending (`daemon-join`).
//!
//! Chapter: "Stage 2: a thread per client".

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use super::single_threaded;
use crate::config::Config;
use crate::log;

// ANCHOR: run
/// How a stage serves one connection; stages 2 and 3 differ only in this.
pub type Handler = fn(TcpStream, &Config);

/// Serves each client on its own thread, with stage 1's way of answering.
pub fn run(listener: TcpListener, config: Arc<Config>) -> io::Result<()> {
    serve(listener, config, single_threaded::handle_connection)
}
// ANCHOR_END: run

// ANCHOR: serve
/// Accepts forever, handing every connection to a new thread running `handler`.
pub fn serve(listener: TcpListener, config: Arc<Config>, handler: Handler) -> io::Result<()> {
    for (number, stream) in listener.incoming().enumerate() {
        let Some(stream) = super::accepted(stream) else {
            continue;
        };
        // Each thread gets its own handle on the shared, read-only config. An
        // `Arc` is a reference count, so this copies a pointer, not the config.
        let config = Arc::clone(&config);
        // `move` gives the stream to the new thread: from here on only that
        // thread can use it, and it is closed when the thread is done with it.
        // The thread's handle is dropped at once: the thread runs on, and no
        // one will ever wait for it to finish.
        spawn_client(number, move || handler(stream, &config));
    }
    Ok(())
}

/// Starts the thread `client-{number}` running `serve`, and returns its handle,
/// or `None` if the system would not make another thread.
pub fn spawn_client(
    number: usize,
    serve: impl FnOnce() + Send + 'static,
) -> Option<JoinHandle<()>> {
    let spawned = thread::Builder::new()
        .name(format!("client-{number}"))
        .spawn(serve);
    // `thread::spawn` would panic if the system refused another thread;
    // `Builder::spawn` returns the error, and we drop just this client (its
    // stream was moved into `serve`, which is dropped, so it is closed).
    match spawned {
        Ok(client) => Some(client),
        Err(error) => {
            log::error(format_args!("no thread for a new client: {error}"));
            None
        }
    }
}
// ANCHOR_END: serve
