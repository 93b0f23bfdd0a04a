//! Stage 6's checks: persistent connections, and idle connections that cost
//! no worker. This module holds what they share: a conversation of several
//! requests on one connection, and what a whole response of a file is.
//!
//! Closing is checked by events, not by the clock: after a response that
//! should end the connection, the check sends another request on it. A server
//! that closed as it should never answers it; one that kept the connection open
//! does.

pub mod connection_close;
pub mod http_10;
pub mod idle_timeout;
pub mod keep_alive;
pub mod many_idle_connections;
pub mod pipelining;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::check::Failure;
use crate::checks::common::{ANSWER_WITHIN, waited, which_file};
use crate::client::{self, End, Exchange};
use crate::probe::Probe;
use crate::response::{Ending, Reply};

/// How long past the keep-alive timeout an idle connection may stay open: the
/// timeout is checked now and then, not to the millisecond, and the machine
/// may be busy.
const IDLE_GRACE: Duration = Duration::from_secs(5);

/// How many connections `many-idle-connections` keeps open of each kind.
pub const IDLE_SILENT: usize = 150;
pub const IDLE_KEPT: usize = 150;

/// `GET /path` in `version`, with a `Connection` header if one is given.
pub fn request(probe: &Probe, path: &str, version: &str, connection: Option<&str>) -> Vec<u8> {
    let connection = connection.map_or(String::new(), |value| format!("Connection: {value}\r\n"));
    format!(
        "GET /{path} {version}\r\nHost: {}\r\n{connection}\r\n",
        probe.addr()
    )
    .into_bytes()
}

/// A connection for several requests, and the bytes read past the last response.
pub struct Conversation {
    pub stream: TcpStream,
    pub pending: Vec<u8>,
}

impl Conversation {
    pub fn open(probe: &Probe) -> Result<Conversation, Failure> {
        Ok(Conversation {
            stream: probe.connect()?,
            pending: Vec::new(),
        })
    }

    /// Sends `request` and reads one response.
    pub fn ask(&mut self, probe: &Probe, request: &[u8]) -> Exchange {
        client::exchange_one(
            &mut self.stream,
            &mut self.pending,
            request,
            probe.within(ANSWER_WITHIN),
        )
    }

    /// After the response to `what`, which should have ended the connection,
    /// sends `request` on it, and waits for the server to close without
    /// answering.
    pub fn expect_closed(
        &mut self,
        probe: &Probe,
        request: &[u8],
        what: &str,
    ) -> Result<(), Failure> {
        let _ = self.stream.write_all(request);
        let (received, end) = client::wait_for_close(
            &mut self.stream,
            &mut self.pending,
            probe.within(ANSWER_WITHIN),
        );
        let closed = matches!(end, End::Closed | End::Reset | End::Failed(_));
        if closed && received.is_empty() {
            return Ok(());
        }
        let exchange = Exchange {
            sent: request.to_vec(),
            received,
            end,
            took: Duration::ZERO,
        };
        let problem = if exchange.reply().is_some() {
            format!(
                "after the response to {what}, the server answered another request on the same connection"
            )
        } else if closed {
            format!("after the response to {what}, the server sent more bytes, then closed")
        } else {
            format!(
                "the connection was still open {} s after the response to {what}",
                ANSWER_WITHIN.as_secs()
            )
        };
        Err(Failure::of(problem, &exchange))
    }
}

/// Demands a whole `200` holding the file at `path` (its token: what a
/// server does to line ends is `text-files`' business); `what` names the
/// request in a failure. Any framing will do that a client can follow:
/// `Content-Length`, chunks, or the close, which then ends the conversation,
/// and a check that asked for more on the connection says so.
pub fn expect_file(
    probe: &Probe,
    exchange: &Exchange,
    path: &str,
    what: &str,
) -> Result<Reply, Failure> {
    let Some(reply) = exchange.reply() else {
        let problem = match exchange.end {
            End::Closed | End::Reset => {
                format!("{what} got no response: the server closed the connection")
            }
            _ => format!("{what} got no response ({})", waited(exchange)),
        };
        return Err(Failure::of(problem, exchange));
    };
    if reply.status() != 200 {
        return Err(Failure::of(
            format!("{what} got {} instead of 200", reply.status()),
            exchange,
        ));
    }
    if let Ending::Broken(error) = &reply.ending {
        return Err(Failure::of(
            format!(
                "{what}: the response's body broke its framing ({}): {error}",
                reply.framing
            ),
            exchange,
        ));
    }
    if reply.ending == Ending::Unfinished {
        return Err(Failure::of(
            format!(
                "{what}: the body had not ended where its framing ({}) says {} s later",
                reply.framing,
                ANSWER_WITHIN.as_secs()
            ),
            exchange,
        ));
    }
    let file = probe.site.file(path);
    if !file.is_in(&reply.body) {
        return Err(Failure::of(
            format!(
                "{what} should bring /{path}; {}",
                which_file(probe, file, &reply.body)
            ),
            exchange,
        ));
    }
    Ok(reply)
}

/// `paths` asked for one after the other on one connection, none asking to
/// close; every answer must be whole, and none may say it closes.
pub fn one_connection(probe: &Probe, paths: &[&str]) -> Result<(), Failure> {
    let mut conversation = Conversation::open(probe)?;
    for (n, path) in paths.iter().enumerate() {
        let exchange = conversation.ask(probe, &request(probe, path, "HTTP/1.1", None));
        let what = format!("request {} of {} on one connection", n + 1, paths.len());
        let closed = matches!(exchange.end, End::Closed | End::Reset);
        if n > 0 && exchange.received.is_empty() && closed {
            return Err(Failure::of(
                format!(
                    "{what} got no response: the server closed the connection after response {n}, which did not say Connection: close"
                ),
                &exchange,
            ));
        }
        let reply = expect_file(probe, &exchange, path, &what)?;
        if reply.head.says_connection("close") {
            return Err(Failure::of(
                format!(
                    "{what} was answered with Connection: close, although the client did not ask to close"
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}
