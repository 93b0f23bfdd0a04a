//! What a check is given: the server (where it is, its process if the
//! grader started it), the site it serves, the check's deadline and the
//! settings it may count on; and the ways a check talks to the server, each
//! of which says which step the check is at (for a report of the server's
//! death) and keeps the head of every response (for `head-syntax`).

use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::check::{Failure, Settings};
use crate::client::{self, End, Exchange};
use crate::fixture::Fixture;
use crate::process::{Process, Signal, describe_exit};
use crate::response::Head;
use crate::server::Subject;
use crate::watch::{Replay, Step};

/// The heads of the responses the checks received, with the first line of
/// the request each answered: what `head-syntax` judges.
#[derive(Debug, Default)]
pub struct Heads {
    seen: Mutex<Vec<(String, Head)>>,
    /// Answers that were not HTTP a client can read: bytes, then the close,
    /// and no empty line to end a head among them.
    unended: Mutex<Vec<(String, Vec<u8>)>>,
}

/// How long a server that closed a connection without a word is given to
/// be seen exiting, if it is dying: a process closes its sockets a little
/// before its exit can be collected.
const DIED_WITHIN: Duration = Duration::from_millis(100);

/// The most heads kept: a few checks send hundreds of requests, and the
/// first of each kind says as much as all of them.
const MOST_HEADS: usize = 2_000;

impl Heads {
    /// Keeps `head`, the answer to the request that starts with `request`.
    pub fn keep(&self, request: &[u8], head: Head) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() < MOST_HEADS {
            seen.push((request_line(request), head));
        }
    }

    /// Keeps `received`, an answer to `request` whose head never ended.
    pub fn keep_unended(&self, request: &[u8], received: &[u8]) {
        let mut unended = self.unended.lock().unwrap_or_else(PoisonError::into_inner);
        if unended.len() < MOST_HEADS {
            unended.push((request_line(request), received.to_vec()));
        }
    }

    /// Every answer kept whose head never ended, with its request line.
    pub fn unended(&self) -> Vec<(String, Vec<u8>)> {
        self.unended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every head kept, with its request line.
    pub fn all(&self) -> Vec<(String, Head)> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Whether `request`'s first line ends in an HTTP/1.x version.
fn asks_http_1(request: &[u8]) -> bool {
    let line = request.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.ends_with(b"HTTP/1.1") || line.ends_with(b"HTTP/1.0")
}

/// The first line of a request, as text.
pub fn request_line(request: &[u8]) -> String {
    let line = request.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    client::escape(line, 120)
}

/// What a check is run with.
#[derive(Debug)]
pub struct Probe {
    pub server: Arc<Subject>,
    pub site: Arc<Fixture>,
    pub deadline: Instant,
    /// The id of the check this probe runs.
    pub check: &'static str,
    /// What the grader knows of the server's settings. The runner skips a
    /// check whose [`Need`](crate::check::Need)s are not known, so a check may
    /// count on them.
    pub settings: Settings,
    /// What a check says beside its verdict: a part it could not measure
    /// here, and why; which of two right answers it saw.
    pub notes: Mutex<Vec<String>>,
    pub heads: Arc<Heads>,
}

impl Probe {
    /// Where the server listens now (a fresh copy listens elsewhere).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Adds a note to the check's result, pass or fail.
    pub fn note(&self, note: impl Into<String>) {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(note.into());
    }

    /// Says which step the check is at, for a report of the server's death.
    pub fn step(&self, what: impl Into<String>) {
        self.step_with(what, None);
    }

    /// Says which step the check is at, and how to do it again alone.
    pub fn step_with(&self, what: impl Into<String>, replay: Option<Replay>) {
        if let Some(instance) = self.server.instance() {
            let step = Step {
                what: what.into(),
                replay,
            };
            instance.watch.step(self.check, step);
        }
    }

    /// The step of sending `request` and reading the answer.
    fn step_request(&self, request: &[u8]) {
        self.step_with(
            format!("sending {}", request_line(request)),
            Some(Replay {
                bytes: request.to_vec(),
                hang_up: false,
            }),
        );
    }

    /// Keeps the head of what `exchange` brought back, for `head-syntax`.
    pub fn record(&self, exchange: &Exchange) {
        match exchange.reply() {
            Some(reply) => self.heads.keep(&exchange.sent, reply.head),
            // A request with no version is HTTP/0.9, whose answer has no
            // head at all, as a server may answer it.
            None if exchange.answered_unreadably() && asks_http_1(&exchange.sent) => {
                self.heads.keep_unended(&exchange.sent, &exchange.received);
            }
            None => {}
        }
    }

    /// `GET path`, with `Connection: close`.
    pub fn get(&self, path: &str) -> Exchange {
        self.send(&client::get_request(self.addr(), path))
    }

    /// Sends raw bytes on a new connection and reads what comes back.
    pub fn send(&self, request: &[u8]) -> Exchange {
        self.send_by(request, self.deadline)
    }

    /// Sends raw bytes on a new connection and reads what comes back, waiting
    /// no more than `within` (and never past the check's deadline).
    pub fn send_within(&self, request: &[u8], within: Duration) -> Exchange {
        self.send_by(request, self.within(within))
    }

    fn send_by(&self, request: &[u8], deadline: Instant) -> Exchange {
        self.step_request(request);
        let exchange = client::exchange(self.addr(), request, deadline);
        self.record(&exchange);
        self.died_of(&exchange);
        exchange
    }

    /// If `exchange` got nothing back because the server died of it, says so
    /// now, while its step is still the one under way: the thread that
    /// watches the server looks only every few milliseconds, and by then the
    /// check may be at its next request.
    fn died_of(&self, exchange: &Exchange) {
        let nothing = exchange.received.is_empty()
            && matches!(exchange.end, End::Closed | End::Reset | End::Failed(_));
        if !nothing {
            return;
        }
        if let Some(instance) = self.server.instance()
            && let Some(status) = instance.process.wait_exit(DIED_WITHIN)
        {
            instance.watch.died(describe_exit(status));
        }
    }

    /// Sends `request` on a connection already open and reads the response.
    pub fn exchange_on(
        &self,
        stream: &mut TcpStream,
        request: &[u8],
        deadline: Instant,
    ) -> Exchange {
        self.step_request(request);
        let exchange = client::exchange_on(stream, request, deadline);
        self.record(&exchange);
        self.died_of(&exchange);
        exchange
    }

    /// A new connection, or the failure to make one.
    pub fn connect(&self) -> Result<TcpStream, Failure> {
        let addr = self.addr();
        client::connect(addr, self.deadline).map_err(|error| {
            Failure::new(format!("could not connect to {addr}"))
                .sent("a TCP connection")
                .received(error)
        })
    }

    /// `within` from now, but never past the check's deadline.
    pub fn within(&self, within: Duration) -> Instant {
        self.deadline.min(Instant::now() + within)
    }

    /// The number of workers (`{threads}`), for a check that needs it.
    pub fn threads(&self) -> usize {
        self.settings
            .threads
            .expect("the runner skips checks whose needs are unknown")
    }

    /// The queue's size (`{queue}`), for a check that needs it.
    pub fn queue(&self) -> usize {
        self.settings
            .queue
            .expect("the runner skips checks whose needs are unknown")
    }

    /// The keep-alive timeout (`{keep_alive_timeout}`), for a check that needs it.
    pub fn keep_alive_timeout(&self) -> Duration {
        Duration::from_secs(
            self.settings
                .keep_alive_timeout
                .expect("the runner skips checks whose needs are unknown"),
        )
    }

    /// The server's process, if the grader started it.
    pub fn process(&self) -> Option<Arc<Process>> {
        self.server.process()
    }

    /// How many threads the server has now, all its processes together, if
    /// the grader started it and can count them.
    pub fn thread_count(&self) -> Option<usize> {
        self.process()?.threads()
    }

    /// The server's process, for a check that runs on a server of its own.
    pub fn own_process(&self) -> Arc<Process> {
        self.process()
            .expect("OwnServer checks are run with a server the grader started")
    }

    /// Sends Ctrl-C (SIGINT) to the server's process group.
    pub fn interrupt(&self) -> Result<(), Failure> {
        self.own_process()
            .signal(Signal::Interrupt)
            .map_err(|error| Failure::new(format!("could not send Ctrl-C: {error}")))
    }

    /// The path of a file in the fixture, as a request target.
    pub fn target(path: &str) -> String {
        // Only the space needs encoding among the fixture's names.
        format!("/{}", path.replace(' ', "%20"))
    }

    /// A failure if the server has exited: `when` says when. With `settle`,
    /// waits a moment for an exit under way: a process closes its sockets a
    /// little before its exit status can be collected.
    pub fn exited(&self, when: &str, settle: bool) -> Option<Failure> {
        let instance = self.server.instance()?;
        let server = &instance.process;
        let status = if settle {
            server.wait_exit(Duration::from_secs(1))
        } else {
            server.exit_status()
        }?;
        let death = instance.watch.died(describe_exit(status));
        let problem = if death.during(self.check) {
            format!("the server {} {when}", death.exit)
        } else {
            // It died before this check began, or between two of its steps.
            format!(
                "the server {} {}; this check found it gone {when}",
                death.exit,
                death.moment()
            )
        };
        Some(Failure::new(problem).received(output_of(server)))
    }

    /// Whether the server answers now; if it does not (it died, or stopped
    /// answering), a fresh copy is started in its place when the grader can,
    /// and whether that one answers. For a check that must go on through a
    /// server's faults, as `no-traversal` sends every request it has.
    pub fn recover(&self, after: &str) -> bool {
        if self.server.answers(crate::server::ANSWER_WITHIN) {
            return true;
        }
        if !self.server.can_restart() {
            return false;
        }
        let why = if self.server.has_died() {
            format!("it died during `{}`, {after}", self.check)
        } else {
            format!("it stopped answering during `{}`, {after}", self.check)
        };
        self.server.restart(why, self.check)
    }
}

/// The server's last output, for a report.
pub fn output_of(server: &Process) -> String {
    match server.output() {
        output if output.is_empty() => "no output from the server".to_owned(),
        output => format!("its last output:\n{output}"),
    }
}
