//! Stage 6's checks: persistent connections, and idle connections that cost
//! no worker.
//!
//! Closing is checked by events, not by the clock: after a response that
//! should end the connection, the check sends another request on it. A server
//! that closed as it should never answers it; one that kept the connection open
//! does.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use super::stage5_thread_pool::{self, ThreadWatch};
use super::{ANSWER_WITHIN, Probe, expect_200, waited};
use crate::check::Failure;
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::response::Reply;

/// How long past the keep-alive timeout an idle connection may stay open: the
/// timeout is checked now and then, not to the millisecond, and the machine
/// may be busy.
const IDLE_GRACE: Duration = Duration::from_secs(5);

/// How many connections `many-idle-connections` keeps open of each kind.
pub const IDLE_SILENT: usize = 150;
pub const IDLE_KEPT: usize = 150;

/// `GET /path` in `version`, with a `Connection` header if one is given.
fn request(probe: &Probe, path: &str, version: &str, connection: Option<&str>) -> Vec<u8> {
    let connection = connection.map_or(String::new(), |value| format!("Connection: {value}\r\n"));
    format!(
        "GET /{path} {version}\r\nHost: {}\r\n{connection}\r\n",
        probe.addr
    )
    .into_bytes()
}

/// A connection for several requests, and the bytes read past the last response.
struct Conversation {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Conversation {
    fn open(probe: &Probe) -> Result<Conversation, Failure> {
        Ok(Conversation {
            stream: probe.connect()?,
            pending: Vec::new(),
        })
    }

    /// Sends `request` and reads one response.
    fn ask(&mut self, probe: &Probe, request: &[u8]) -> Exchange {
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
    fn expect_closed(&mut self, probe: &Probe, request: &[u8], what: &str) -> Result<(), Failure> {
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

/// Demands a `200` with the file's exact bytes and a `Content-Length`; `what`
/// names the request in a failure.
fn expect_file(
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
    if reply.status != 200 {
        return Err(Failure::of(
            format!("{what} got {} instead of 200", reply.status),
            exchange,
        ));
    }
    if reply.header("Content-Length").is_none() {
        return Err(Failure::of(
            format!(
                "{what}: the response has no Content-Length, so on an open connection the client cannot tell where its body ends"
            ),
            exchange,
        ));
    }
    let expected = &probe.site.file(path).bytes;
    let body = reply.body_with_excess();
    if body[..] != expected[..] {
        let other = probe
            .site
            .files()
            .iter()
            .find(|file| file.bytes[..] == body[..])
            .map_or_else(
                || client::first_difference(expected, &body),
                |file| format!("it holds /{} instead", file.path),
            );
        return Err(Failure::of(
            format!("{what} should bring /{path}; {other}"),
            exchange,
        ));
    }
    Ok(reply)
}

/// `paths` asked for one after the other on one connection, none asking to
/// close; every answer must be whole, and none may say it closes.
fn one_connection(probe: &Probe, paths: &[&str]) -> Result<(), Failure> {
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
        if reply.says_connection("close") {
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

pub fn keep_alive(probe: &Probe) -> Result<(), Failure> {
    one_connection(probe, &[fixture::INDEX, fixture::STYLE])?;
    // Text files only: a server that mangles binary files fails
    // `binary-files`, and should not fail the keep-alive checks for it too.
    let files = [
        fixture::INDEX,
        fixture::STYLE,
        fixture::SUB_PAGE,
        fixture::SUB_NOTES,
    ];
    let ten: Vec<&str> = files.iter().cycle().take(10).copied().collect();
    one_connection(probe, &ten)
}

pub fn pipelining(probe: &Probe) -> Result<(), Failure> {
    let paths = [
        fixture::INDEX,
        fixture::SUB_PAGE,
        fixture::SUB_NOTES,
        fixture::STYLE,
    ];
    let requests: Vec<u8> = paths
        .iter()
        .flat_map(|path| request(probe, path, "HTTP/1.1", None))
        .collect();
    let mut conversation = Conversation::open(probe)?;
    let _ = conversation.stream.write_all(&requests);
    for (n, path) in paths.iter().enumerate() {
        let (received, end) = client::read_one(
            &mut conversation.stream,
            &mut conversation.pending,
            "GET",
            probe.within(ANSWER_WITHIN),
        );
        let exchange = Exchange {
            sent: requests.clone(),
            received,
            end,
            took: Duration::ZERO,
        };
        let what = format!(
            "response {} of the {} requests sent together in one write",
            n + 1,
            paths.len()
        );
        expect_file(probe, &exchange, path, &what)?;
    }
    Ok(())
}

pub fn connection_close(probe: &Probe) -> Result<(), Failure> {
    let mut conversation = Conversation::open(probe)?;
    let exchange = conversation.ask(
        probe,
        &request(probe, fixture::INDEX, "HTTP/1.1", Some("close")),
    );
    let what = "a request with Connection: close";
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if !reply.says_connection("close") {
        return Err(Failure::of(
            format!("the response to {what} did not say Connection: close"),
            &exchange,
        ));
    }
    let again = request(probe, fixture::STYLE, "HTTP/1.1", None);
    conversation.expect_closed(probe, &again, what)
}

pub fn http_10(probe: &Probe) -> Result<(), Failure> {
    // Without keep-alive, HTTP/1.0 closes after one response.
    let mut conversation = Conversation::open(probe)?;
    let exchange = conversation.ask(probe, &request(probe, fixture::INDEX, "HTTP/1.0", None));
    let what = "an HTTP/1.0 request without Connection: keep-alive";
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if reply.says_connection("keep-alive") {
        return Err(Failure::of(
            format!("{what} was answered with Connection: keep-alive"),
            &exchange,
        ));
    }
    let again = request(probe, fixture::STYLE, "HTTP/1.0", None);
    conversation.expect_closed(probe, &again, what)?;

    // With keep-alive, it stays open, and the response must say so: an
    // HTTP/1.0 client assumes a close otherwise.
    let mut conversation = Conversation::open(probe)?;
    let what = "an HTTP/1.0 request with Connection: keep-alive";
    let first = request(probe, fixture::INDEX, "HTTP/1.0", Some("keep-alive"));
    let exchange = conversation.ask(probe, &first);
    let reply = expect_file(probe, &exchange, fixture::INDEX, what)?;
    if !reply.says_connection("keep-alive") {
        return Err(Failure::of(
            format!("the response to {what} did not say Connection: keep-alive"),
            &exchange,
        ));
    }
    let second = request(probe, fixture::STYLE, "HTTP/1.0", Some("keep-alive"));
    let exchange = conversation.ask(probe, &second);
    expect_file(
        probe,
        &exchange,
        fixture::STYLE,
        &format!("a second request on the connection of {what}"),
    )
    .map(drop)
}

pub fn idle_timeout(probe: &Probe) -> Result<(), Failure> {
    let timeout = probe.keep_alive_timeout();
    let mut conversation = Conversation::open(probe)?;
    for (n, path) in [fixture::INDEX, fixture::STYLE].into_iter().enumerate() {
        let exchange = conversation.ask(probe, &request(probe, path, "HTTP/1.1", None));
        let what = format!("request {} of 2 on one connection", n + 1);
        let reply = expect_file(probe, &exchange, path, &what).map_err(|failure| {
            failure.hint("The connection must stay open after a response before it can time out; see the check `keep-alive`.")
        })?;
        if reply.says_connection("close") {
            return Err(Failure::of(
                format!(
                    "{what} was answered with Connection: close, so there was no idle connection to time out"
                ),
                &exchange,
            ));
        }
    }
    let deadline = probe.within(timeout + IDLE_GRACE);
    let (received, end) = client::wait_for_close(
        &mut conversation.stream,
        &mut conversation.pending,
        deadline,
    );
    let sent = "two requests on one connection, answered, then nothing".to_owned();
    match end {
        End::Closed | End::Reset | End::Failed(_) => Ok(()),
        End::TimedOut => Err(Failure::new(format!(
            "the idle connection was still open {} s after its last response; the keep-alive timeout is {} s ({{keep_alive_timeout}})",
            (timeout + IDLE_GRACE).as_secs(),
            timeout.as_secs()
        ))
        .sent(sent)
        .received("nothing, and no close")),
        _ => Err(Failure::new(
            "the server sent something on an idle connection that had asked for nothing",
        )
        .sent(sent)
        .received(client::describe_bytes(&received))),
    }
}

pub fn many_idle_connections(probe: &Probe) -> Result<(), Failure> {
    let result = idle_crowd(probe);
    stage5_thread_pool::after_the_crowd(probe);
    result
}

fn idle_crowd(probe: &Probe) -> Result<(), Failure> {
    expect_200(probe, fixture::INDEX)?;
    let crowd = IDLE_SILENT + IDLE_KEPT;
    let watch = ThreadWatch::start(probe, crowd);
    let look = |with: &str, sent: &str| match &watch {
        Some(watch) => watch.check(probe, with, sent),
        None => Ok(()),
    };
    let sent = |silent: usize, kept: usize| {
        format!(
            "{silent} connections that never send a byte, then {kept} that each ask for /{} without Connection: close and then say nothing",
            fixture::INDEX
        )
    };
    // The silent ones first: a server that gives each connection a worker
    // runs out of workers and queue on them, and turns the rest away.
    let mut idle = Vec::with_capacity(crowd);
    for n in 1..=IDLE_SILENT {
        idle.push(probe.connect()?);
        if n % 25 == 0 {
            look(&format!("with {n} silent connections open"), &sent(n, 0))?;
        }
    }
    for n in 1..=IDLE_KEPT {
        let mut conversation = Conversation::open(probe)?;
        let exchange = conversation.ask(probe, &request(probe, fixture::INDEX, "HTTP/1.1", None));
        let got = match exchange.reply() {
            Some(reply) if reply.status == 200 => None,
            Some(reply) => Some(format!("got {}", reply.status)),
            None => Some(format!("got no response ({})", waited(&exchange))),
        };
        if let Some(got) = got {
            return Err(Failure::of(
                format!(
                    "with {IDLE_SILENT} silent connections and {} kept-alive idle ones open, the next one's request {got}",
                    n - 1
                ),
                &exchange,
            ));
        }
        idle.push(conversation.stream);
        if n % 25 == 0 {
            look(
                &format!("with {IDLE_SILENT} silent and {n} kept-alive idle connections open"),
                &sent(IDLE_SILENT, n),
            )?;
        }
    }
    let _ = stage5_thread_pool::wait_until_accepted(probe, probe.within(ANSWER_WITHIN));
    let with = format!("with {crowd} idle connections open");
    let request = client::get_request(probe.addr, &format!("/{}", fixture::INDEX));
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    expect_file(
        probe,
        &exchange,
        fixture::INDEX,
        &format!("{with}, a new client's GET /{}", fixture::INDEX),
    )?;
    look(&with, &sent(IDLE_SILENT, IDLE_KEPT))?;
    drop(idle);
    Ok(())
}
