//! # Stage 3: `not-found`
//!
//! Errors become answers. A missing file gets `404 Not Found` with the root's
//! `error.html` (or a page of our own if there is none); a malformed request
//! gets `400 Bad Request`; a method other than GET or HEAD gets
//! `405 Method Not Allowed` with an `Allow` header; a client too slow to send
//! its request gets `408 Request Timeout`. Every cause has its status in
//! [`crate::http::Error::status`]; this stage only decides to send it.
//!
//! **What it still gets wrong.** Ctrl-C kills the process at once, cutting off any
//! download in progress, and the threads are never joined (`daemon-join` fixes
//! that).
//!
//! Chapter: "Stage 3: answering errors".

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use super::thread_per_client;
use crate::config::Config;
use crate::http::{Connection, files};

// ANCHOR: run
/// Serves each client on its own thread, answering errors.
pub fn run(listener: TcpListener, config: Arc<Config>) -> io::Result<()> {
    thread_per_client::serve(listener, config, handle_connection)
}
// ANCHOR_END: run

// ANCHOR: handle_connection
/// Serves one connection, answering every request, good or bad.
pub fn handle_connection(stream: TcpStream, config: &Config) {
    let mut connection = Connection::new(stream, config);
    let answer = match connection.read_request() {
        Ok(Some(request)) => files::respond(config, &request),
        Ok(None) => return,
        Err(error) => Err(error),
    };
    match answer {
        Ok(response) => connection.send(response),
        // What this stage adds: an error is answered with the status that says
        // what went wrong, instead of a silent close.
        Err(error) => connection.send_error(&config.root, &error),
    }
}
// ANCHOR_END: handle_connection
