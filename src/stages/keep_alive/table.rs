//! The connections waiting for their client, and their registrations.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::http::Session;
use crate::log;

// ANCHOR: waiting
/// A connection waiting for its client: for the next request, for the rest of
/// one, or (lingering) for the client to stop sending after our answer.
pub struct Waiting {
    /// Its registration with the poller, if it has one.
    pub token: Option<Token>,
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Whatever part of the next request has arrived, and the HTTP state.
    pub session: Session,
    pub deadline: Instant,
    pub on_expiry: Expiry,
}

/// What to do with a connection whose deadline has passed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// A request (or a new connection's first) is not complete: answer `408`.
    RequestTimeout,
    /// Idle between requests: close quietly; the client can always reconnect.
    Close,
    /// Answered and half-closed: what the client still sends is thrown away
    /// (`linger.rs`), until `until` at the latest; `drained` counts it.
    Linger { until: Instant, drained: usize },
}
// ANCHOR_END: waiting

impl Waiting {
    /// A connection to wait on, due to expire `timeout` from now.
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        session: Session,
        timeout: Duration,
        on_expiry: Expiry,
    ) -> Waiting {
        Waiting {
            token: None,
            deadline: Instant::now() + timeout,
            stream,
            peer,
            session,
            on_expiry,
        }
    }
}

// ANCHOR: table
/// The waiting connections, by their token with the poller. The loop takes one
/// out when it has something to answer; a worker puts it back and re-arms it,
/// which reports any bytes that came meanwhile.
///
/// A connection stays registered until it closes ([`Table::close`]: mio asks
/// for that), or until a worker must block on it ([`Table::release`]): on
/// Windows a registered socket must stay non-blocking.
pub struct Table {
    registry: Registry,
    waiting: Mutex<HashMap<Token, Waiting>>,
    next_token: AtomicUsize,
}

impl Table {
    pub fn new(registry: Registry) -> Table {
        Table {
            registry,
            waiting: Mutex::new(HashMap::new()),
            next_token: AtomicUsize::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Token, Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a connection in the table, and has the poller watch it: re-armed,
    /// or registered if it is not.
    pub fn watch(&self, mut waiting: Waiting) {
        let fresh = waiting.token.is_none();
        let next = || Token(self.next_token.fetch_add(1, Ordering::Relaxed));
        let token = *waiting.token.get_or_insert_with(next);
        // Into the table first, and the table locked until it is armed: the
        // poller reports a socket with bytes waiting the moment it is armed,
        // and the loop must find it there.
        let mut table = self.lock();
        let stream = &mut table.entry(token).or_insert(waiting).stream;
        let armed = match fresh {
            true => self.registry.register(stream, token, Interest::READABLE),
            false => self.registry.reregister(stream, token, Interest::READABLE),
        };
        if let Err(error) = armed {
            log::error(format_args!("cannot watch a connection: {error}"));
            table.remove(&token); // dropped, so closed
        }
    }
    // ANCHOR_END: table

    pub fn take(&self, token: Token) -> Option<Waiting> {
        self.lock().remove(&token)
    }

    /// How many connections are waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Takes out every connection whose deadline is `now` or earlier.
    pub fn take_expired(&self, now: Instant) -> Vec<Waiting> {
        let mut table = self.lock();
        let expired = table.extract_if(|_, waiting| waiting.deadline <= now);
        expired.map(|(_, waiting)| waiting).collect()
    }

    /// A connection's socket off the poller, as a standard (still
    /// non-blocking) `TcpStream`, for blocking writes or a last answer.
    pub fn release(&self, mut stream: TcpStream, token: Option<Token>) -> std::net::TcpStream {
        if token.is_some() {
            let _ = self.registry.deregister(&mut stream);
        }
        stream.into()
    }

    /// Closes a connection that is out of the table.
    pub fn close(&self, waiting: Waiting) {
        drop(self.release(waiting.stream, waiting.token));
    }

    /// Closes every waiting connection, and says how many there were.
    pub fn close_all(&self) -> usize {
        let all: Vec<Waiting> = self.lock().drain().map(|(_, waiting)| waiting).collect();
        all.into_iter().map(|waiting| self.close(waiting)).count()
    }
}
