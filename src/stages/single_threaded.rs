//! # Stage 1: `single-threaded`
//!
//! The report's six steps, for one client at a time:
//!
//! 1. a connection socket for the client (`accept`);
//! 2. receive the HTTP request;
//! 3. parse it to find which file is asked for;
//! 4. get the file from the file system;
//! 5. make a response: a status line and headers, then the file;
//! 6. send it, and close.
//!
//! **What it still gets wrong.** The accept loop calls [`handle_connection`] and
//! waits for it to return before it accepts anyone else. One client that connects
//! and sends nothing holds every other client until the read timeout drops it.
//! The `thread-per-client` stage fixes that. Errors get no answer yet either: a
//! missing file or a malformed request is logged and the connection closed, so a
//! browser shows its own "empty response" page (`not-found` fixes that). And a
//! panic, which would be a bug of ours, ends the only thread, and so the server;
//! from stage 2 on it ends only its client's thread.
//!
//! Chapter: "Stage 1: one client at a time".

use std::io;
use std::net::{TcpListener, TcpStream};

use crate::config::Config;
use crate::http::{Connection, files};

// ANCHOR: run
/// Serves clients one after another, forever.
pub fn run(listener: TcpListener, config: &Config) -> io::Result<()> {
    // Step (i): `incoming` calls `accept`, which waits for a client and gives us a
    // new socket for that client alone. The listener goes on listening.
    for stream in listener.incoming() {
        let Some(stream) = super::accepted(stream) else {
            continue;
        };
        // The whole stage is this line: we serve the client *here*, on the only
        // thread there is, and do not accept the next one until it is done.
        handle_connection(stream, config);
    }
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: handle_connection
/// Serves one connection: one request, one response, then close.
pub fn handle_connection(stream: TcpStream, config: &Config) {
    let mut connection = Connection::new(stream, config);

    // Steps (ii) and (iii): read the request head, up to its blank line, and parse
    // it. `Ok(None)` is a client that connected and left without a word.
    let request = match connection.read_request() {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(error) => return connection.drop_request(&error),
    };

    // Steps (iv) and (v): find the file under the root, and make a response of it.
    let response = match files::respond(config, &request) {
        Ok(response) => response,
        // No error handling yet: a missing file gets no answer at all.
        Err(error) => return connection.drop_request(&error),
    };

    // Step (vi): send the headers and the file. Dropping `connection` closes it.
    connection.send(response);
}
// ANCHOR_END: handle_connection
