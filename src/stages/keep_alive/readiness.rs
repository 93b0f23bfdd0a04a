//! What the loop does when the poller says a socket is ready, and when a
//! deadline passes. None of it ever waits.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpListener;

use super::table::{Expiry, Table, Waiting};
use crate::config::Config;
use crate::http::connection::{prepare, turn_away};
use crate::http::{Error, Response, Session};
use crate::stages::thread_pool::ThreadPool;

/// What the loop works with: the table, the settings, and the workers.
pub struct Loop {
    pub table: Arc<Table>,
    pub config: Arc<Config>,
    pub pool: ThreadPool<Waiting>,
}

/// What reading from a connection told us.
pub enum Readiness {
    /// A whole request head has arrived (or a broken one: a worker answers both).
    Request,
    /// Part of a request, or nothing yet: keep waiting.
    Waiting,
    /// The client closed the connection, or it failed.
    Closed,
}

impl Loop {
    /// Accepts every connection waiting: until `accept` would block, as mio
    /// reports a change once (edge-triggered). Returns whether to try again
    /// later (`accept` failed for lack of descriptors).
    pub fn accept_all(&self, listener: &TcpListener) -> bool {
        loop {
            match listener.accept() {
                Ok((stream, peer)) => {
                    prepare(&stream, &self.config);
                    let session = Session::new(self.config.limits);
                    let (due, then) = (self.config.read_timeout, Expiry::RequestTimeout);
                    // A request usually follows the handshake at once: look
                    // for it before paying for a registration.
                    self.advance(Waiting::new(stream, peer, session, due, then));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return false,
                Err(error) => {
                    let _ = crate::stages::accepted(Err(error));
                    return true;
                }
            }
        }
    }

    // ANCHOR: advance
    /// Reads what a connection has sent and decides what happens to it next.
    pub fn advance(&self, mut waiting: Waiting) {
        match waiting.read_available(&self.config) {
            Readiness::Waiting => self.table.watch(waiting),
            Readiness::Request => self.hand_over(waiting, Error::Overloaded),
            Readiness::Closed => self.table.close(waiting),
        }
    }

    /// Gives a connection with something to answer to a worker; if every
    /// worker is busy and the queue is full, answers `instead` at once.
    fn hand_over(&self, waiting: Waiting, instead: Error) {
        if let Err(waiting) = self.pool.try_execute(waiting) {
            let response = Response::error(&self.config.root, &instead).expect("503 or 408");
            turn_away(self.table.release(waiting.stream, waiting.token), response);
        }
    }
    // ANCHOR_END: advance

    // ANCHOR: expire
    /// Deals with the connections whose deadline has passed.
    pub fn expire(&self, now: Instant) {
        for mut waiting in self.table.take_expired(now) {
            if waiting.on_expiry == Expiry::RequestTimeout {
                // Time is news the session cannot see for itself. The 408 is
                // written by a worker, as writing could block.
                waiting.session.refuse(Error::Timeout);
                self.hand_over(waiting, Error::Timeout);
            } else {
                self.table.close(waiting); // idle, or lingered long enough
            }
        }
    }
    // ANCHOR_END: expire
}

impl Waiting {
    /// Reads everything the socket has, without blocking, until a request head
    /// is complete or there is nothing more to read.
    // ANCHOR: read_available
    fn read_available(&mut self, config: &Config) -> Readiness {
        if let Expiry::Linger { .. } = self.on_expiry {
            return self.discard_available();
        }
        let mut chunk = [0; 16 * 1024];
        while self.session.needs_more() {
            match (&self.stream).read(&mut chunk) {
                Ok(0) => return Readiness::Closed,
                Ok(n) => {
                    if self.on_expiry == Expiry::Close {
                        // A new request has started on an idle connection: its
                        // whole head must now arrive within the read timeout.
                        self.deadline = Instant::now() + config.read_timeout;
                        self.on_expiry = Expiry::RequestTimeout;
                    }
                    self.session.receive(&chunk[..n]);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Readiness::Waiting;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Readiness::Closed,
            }
        }
        Readiness::Request
    }
    // ANCHOR_END: read_available
}
