//! The lingering close, on the loop. After an error, or a body not read to its
//! end, the client may still be sending, and closing a socket with unread bytes
//! resets the connection, which can destroy our answer before it is read. So
//! the worker half-closes, and the loop throws away what comes until the client
//! is quiet, closes, or has sent too much (`Drop for Connection` in stages 1-5).

use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use mio::net::TcpStream;

use super::readiness::Readiness;
use super::table::{Expiry, Waiting};
use crate::http::Session;
use crate::http::connection::{LINGER, LINGER_BYTES, LINGER_QUIET, discard_waiting};

impl Waiting {
    /// An answered connection, half-closed so the client sees the end of our
    /// response, to linger on.
    pub fn lingering(stream: TcpStream, peer: SocketAddr, session: Session) -> Waiting {
        let _ = stream.shutdown(Shutdown::Write);
        let until = Instant::now() + LINGER;
        let on_expiry = Expiry::Linger { until, drained: 0 };
        Waiting::new(stream, peer, session, LINGER_QUIET, on_expiry)
    }

    /// Throws away what has arrived. A client that sent something gets another
    /// quiet moment, up to [`LINGER`] in all.
    pub fn discard_available(&mut self) -> Readiness {
        let Expiry::Linger { until, drained } = &mut self.on_expiry else {
            unreachable!("only a lingering connection discards");
        };
        let (read, open) = discard_waiting(&self.stream, LINGER_BYTES - *drained);
        *drained += read;
        if !open || *drained >= LINGER_BYTES {
            return Readiness::Closed;
        }
        if read > 0 {
            self.deadline = (Instant::now() + LINGER_QUIET).min(*until);
        }
        Readiness::Waiting
    }
}
