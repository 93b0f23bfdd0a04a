//! The checks, one entry per behaviour, keyed by the stage that introduces it.
//!
//! Grading stage N runs every check whose stage is N or lower. A later stage
//! adds its checks by adding entries to [`CHECKS`], and their functions in a
//! file of its own; nothing else changes.
//!
//! Each check is a function that talks to the server over TCP and returns `Ok`
//! or a [`Failure`] saying what was sent, what came back (or did not), and what
//! was wrong. Every check has a time limit; all its socket operations end by its
//! deadline, and the runner gives up on it soon after in any case.
//!
//! | module | the stage's checks |
//! |---|---|
//! | [`stage1_single_threaded`] | files served byte for byte, with true headers, from the root alone; bad clients survived |
//! | [`stage2_thread_per_client`] | a silent client holds no one up |
//! | [`stage3_not_found`] | 404 with `error.html`; 400 for what is not HTTP |
//! | [`stage4_daemon_join`] | Ctrl-C: downloads finish, exit 0, in time |
//! | [`stage5_thread_pool`] | a bounded pool, 503 when full, workers that survive their clients |
//! | [`stage6_keep_alive`] | persistent connections, pipelining, idle connections that cost no worker |
//! | [`stage7_async`] | ten thousand idle connections, with fewer than 20 threads |

use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub mod stage1_single_threaded;
pub mod stage2_thread_per_client;
pub mod stage3_not_found;
pub mod stage4_daemon_join;
pub mod stage5_thread_pool;
pub mod stage6_keep_alive;
pub mod stage7_async;

use crate::check::{self, Failure, Mode, Need, Settings};
use crate::client::{self, Exchange};
use crate::fixture::Fixture;
use crate::process::{Process, Signal, describe_exit};
use crate::response::Reply;
use crate::watch::Watch;
use course::Stage;

/// A check, run with a [`Probe`].
pub type Check = check::Check<Probe>;

/// Sends the server Ctrl-C: the reason of most [`Mode::OwnServer`] checks.
const SENDS_CTRL_C: &str = "it sends the server Ctrl-C";

/// What a check is given: where the server is, what it serves, and its deadline.
#[derive(Debug)]
pub struct Probe {
    pub addr: SocketAddr,
    pub site: Arc<Fixture>,
    pub deadline: Instant,
    /// For [`Mode::OwnServer`] checks: the server, to signal and watch.
    pub server: Option<Arc<Process>>,
    /// For the other checks in command mode: the server, to see it is alive.
    pub watched: Option<Arc<Process>>,
    /// With `watched`: where this check says which step it is at, and where
    /// the server's death is kept with the steps under way then.
    pub watch: Option<Arc<Watch>>,
    /// The id of the check this probe runs.
    pub check: &'static str,
    /// What the grader knows of the server's settings. The runner skips a
    /// check whose [`Need`]s are not known, so a check may count on them.
    pub settings: Settings,
    /// What a check says beside its verdict: a part it could not measure
    /// here, and why; which of two right answers it saw.
    pub notes: Mutex<Vec<String>>,
}

impl Probe {
    /// Adds a note to the check's result, pass or fail.
    pub fn note(&self, note: impl Into<String>) {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(note.into());
    }

    /// `GET path`, with `Connection: close`.
    pub fn get(&self, path: &str) -> Exchange {
        self.send(&client::get_request(self.addr, path))
    }

    /// Sends raw bytes on a new connection and reads what comes back.
    pub fn send(&self, request: &[u8]) -> Exchange {
        self.step_request(request);
        client::exchange(self.addr, request, self.deadline)
    }

    /// Says which step the check is at, for a report of the server's death.
    pub fn step(&self, step: impl Into<String>) {
        if let Some(watch) = &self.watch {
            watch.step(self.check, step.into());
        }
    }

    /// The step of sending `request`: its first line.
    fn step_request(&self, request: &[u8]) {
        if self.watch.is_some() {
            let line = request.split(|&b| b == b'\n').next().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.step(format!("sending {}", client::escape(line, 120)));
        }
    }

    /// Sends raw bytes on a new connection and reads what comes back, waiting
    /// no more than `within` (and never past the check's deadline).
    pub fn send_within(&self, request: &[u8], within: Duration) -> Exchange {
        self.step_request(request);
        client::exchange(self.addr, request, self.within(within))
    }

    /// A new connection, or the failure to make one.
    pub fn connect(&self) -> Result<TcpStream, Failure> {
        client::connect(self.addr, self.deadline).map_err(|error| {
            Failure::new(format!("could not connect to {}", self.addr))
                .sent("a TCP connection")
                .received(error)
        })
    }

    /// `within` from now, but never past the check's deadline.
    pub fn within(&self, within: Duration) -> Instant {
        self.deadline.min(Instant::now() + within)
    }

    /// The number of workers (`{threads}`), for a check that needs it.
    fn threads(&self) -> usize {
        self.settings
            .threads
            .expect("the runner skips checks whose needs are unknown")
    }

    /// The queue's size (`{queue}`), for a check that needs it.
    fn queue(&self) -> usize {
        self.settings
            .queue
            .expect("the runner skips checks whose needs are unknown")
    }

    /// The keep-alive timeout (`{keep_alive_timeout}`), for a check that needs it.
    fn keep_alive_timeout(&self) -> Duration {
        Duration::from_secs(
            self.settings
                .keep_alive_timeout
                .expect("the runner skips checks whose needs are unknown"),
        )
    }

    /// How many threads the server has now, all its processes together, if
    /// the grader started it and can count them.
    fn thread_count(&self) -> Option<usize> {
        self.server
            .as_deref()
            .or(self.watched.as_deref())?
            .threads()
    }

    fn server(&self) -> &Process {
        self.server
            .as_deref()
            .expect("OwnServer checks are run with a server")
    }

    /// Sends Ctrl-C (SIGINT) to the server's process group.
    fn interrupt(&self) -> Result<(), Failure> {
        self.server()
            .signal(Signal::Interrupt)
            .map_err(|error| Failure::new(format!("could not send Ctrl-C: {error}")))
    }

    /// The path of a file in the fixture, as a request target.
    fn target(path: &str) -> String {
        format!("/{path}")
    }
}

/// How long a server has to exit after Ctrl-C. The course's servers give up
/// on unfinished clients after 5 s (`--shutdown-timeout`).
pub const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// How long a request may wait for its answer while another client is idle.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Every check of every stage, in the order they are listed in a report.
pub static CHECKS: &[Check] = &[
    // -- Stage 1: the six steps.
    Check {
        id: "connects",
        stage: Stage::SingleThreaded,
        title: "accepts connections on the port it was given",
        limit: Duration::from_secs(10),
        mode: Mode::Shared,
        needs: &[],
        hint: "Listen on 127.0.0.1 at the port given on the command line, and call accept in a loop.",
        run: stage1_single_threaded::connects,
    },
    Check {
        id: "text-files",
        stage: Stage::SingleThreaded,
        title: "text files come back with 200, byte for byte",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Send the file's bytes exactly as they are on disk: read it as bytes, not as text, which can change line ends.",
        run: stage1_single_threaded::text_files,
    },
    Check {
        id: "binary-files",
        stage: Stage::SingleThreaded,
        title: "binary files (PNG, arbitrary bytes) come back with 200, byte for byte",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Read files in binary mode and send the bytes unchanged; decoding them as text mangles anything that is not text.",
        run: stage1_single_threaded::binary_files,
    },
    Check {
        id: "content-length",
        stage: Stage::SingleThreaded,
        title: "Content-Length is the number of bytes in the body",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Content-Length counts bytes, not characters: take the length of the encoded body, after any conversion.",
        run: stage1_single_threaded::content_length,
    },
    Check {
        id: "content-type",
        stage: Stage::SingleThreaded,
        title: "Content-Type matches the file: text/html, text/css, image/png",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Choose Content-Type from the file's extension; text/html for everything makes browsers refuse stylesheets and images.",
        run: stage1_single_threaded::content_type,
    },
    Check {
        id: "sub-folder",
        stage: Stage::SingleThreaded,
        title: "files in sub-folders are served",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Map the whole path under the root, folders included, not just the file's name.",
        run: stage1_single_threaded::sub_folder,
    },
    Check {
        id: "no-traversal",
        stage: Stage::SingleThreaded,
        title: "no request reads a file outside the root (.., encoded .., absolute paths)",
        limit: Duration::from_secs(30),
        mode: Mode::Shared,
        needs: &[],
        hint: "Refuse any path with a `..` segment after decoding, and any absolute path; or resolve the path and check it is still under the root.",
        run: stage1_single_threaded::no_traversal,
    },
    Check {
        id: "survives-bad-clients",
        stage: Stage::SingleThreaded,
        title: "still serves after clients that hang up, send half a request, or send garbage",
        limit: Duration::from_secs(30),
        mode: Mode::Risky,
        needs: &[],
        hint: "Handle every error of one connection inside its handler (log it, close that connection) so it never ends the accept loop or the process.",
        run: stage1_single_threaded::survives_bad_clients,
    },
    Check {
        id: "split-request",
        stage: Stage::SingleThreaded,
        title: "a request head that arrives in pieces, or is 4 KiB long, is read whole",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "One read (recv) is not one request: TCP is a stream of bytes, and a head may arrive in pieces. Keep reading until the blank line (\\r\\n\\r\\n) that ends the head, however many reads that takes.",
        run: stage1_single_threaded::split_request,
    },
    // -- Stage 2: a thread per client.
    Check {
        id: "idle-client",
        stage: Stage::ThreadPerClient,
        title: "a connected, silent client does not hold up another client",
        limit: Duration::from_secs(15),
        mode: Mode::Alone,
        needs: &[],
        hint: "Serve each connection on its own thread, so the accept loop goes straight back to accept instead of waiting for a client to speak.",
        run: stage2_thread_per_client::idle_client,
    },
    Check {
        id: "reverse-order",
        stage: Stage::ThreadPerClient,
        title: "four open connections are answered in the reverse order of opening",
        limit: Duration::from_secs(15),
        mode: Mode::Alone,
        needs: &[],
        hint: "Each open connection needs a thread of its own, or a free worker: a small, fixed set of workers is held by the first, silent connections while the last one is asking.",
        run: stage2_thread_per_client::reverse_order,
    },
    // -- Stage 3: errors get answers.
    // ANCHOR: not_found_check
    Check {
        id: "not-found-page",
        stage: Stage::NotFound,
        title: "a missing file gets 404 with the site's error.html",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "When the file does not exist, answer 404 Not Found with the root's error.html as the body.",
        run: stage3_not_found::not_found_page,
    },
    // ANCHOR_END: not_found_check
    Check {
        id: "bad-request",
        stage: Stage::NotFound,
        title: "a request RFC 9112 calls malformed gets 400 Bad Request (any 4xx)",
        limit: Duration::from_secs(15),
        mode: Mode::Risky,
        needs: &[],
        hint: "If the request line is not `METHOD /path HTTP/1.x`, a header line is not `Name: value` (no space before the colon), an HTTP/1.1 request has no Host, or Content-Length is not a number, answer 400 Bad Request instead of closing, crashing or serving the file.",
        run: stage3_not_found::bad_request,
    },
    // -- Stage 4: Ctrl-C finishes what is under way.
    Check {
        id: "ctrl-c-finishes-download",
        stage: Stage::DaemonJoin,
        title: "Ctrl-C during a download lets the download finish",
        limit: Duration::from_secs(40),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[Need::BigFile],
        hint: "On Ctrl-C, stop accepting but do not exit yet: wait for the threads still sending (join them), then exit.",
        run: stage4_daemon_join::ctrl_c_finishes_download,
    },
    Check {
        id: "ctrl-c-exits-0",
        stage: Stage::DaemonJoin,
        title: "after Ctrl-C the server exits with status 0, within 10 s",
        limit: Duration::from_secs(20),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[],
        hint: "Catch Ctrl-C (SIGINT), finish cleanly and return from main: an uncaught signal or a re-raised exception is not a clean exit.",
        run: stage4_daemon_join::ctrl_c_exits_0,
    },
    Check {
        id: "idle-client-cannot-hold-shutdown",
        stage: Stage::DaemonJoin,
        title: "a silent client cannot keep the server from exiting after Ctrl-C",
        limit: Duration::from_secs(20),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[],
        hint: "Wait for busy clients with a time limit (or give client sockets a read timeout): a join without a limit waits for the idle client forever.",
        run: stage4_daemon_join::idle_client_cannot_hold_shutdown,
    },
    // -- Stage 5: a fixed pool of workers and a bounded queue.
    Check {
        id: "threads-bounded",
        stage: Stage::ThreadPool,
        title: "200 slow clients at once do not make 200 threads",
        limit: Duration::from_secs(40),
        mode: Mode::Alone,
        needs: &[Need::ThreadCount],
        hint: "Start a fixed number of workers ({threads}) once, and hand them connections through a queue, instead of starting a thread for every client.",
        run: stage5_thread_pool::threads_bounded,
    },
    Check {
        id: "overload-503",
        stage: Stage::ThreadPool,
        title: "with every worker busy and the queue full, a new client gets 503 with Retry-After at once; once they leave, it serves again",
        limit: Duration::from_secs(30),
        mode: Mode::Alone,
        needs: &[Need::Threads, Need::Queue, Need::BigFile],
        hint: "Give the queue a size ({queue}); when a connection finds it full, answer `503 Service Unavailable` with `Retry-After` and close, without waiting for a worker.",
        run: stage5_thread_pool::overload_503,
    },
    Check {
        id: "pool-keeps-its-workers",
        stage: Stage::ThreadPool,
        title: "after clients that reset mid-request or mid-download, or send bytes that are not UTF-8, every worker still serves",
        limit: Duration::from_secs(40),
        mode: Mode::OwnServer("it sets out to break the server's workers"),
        needs: &[Need::Threads, Need::BigFile],
        hint: "A worker must outlive any one connection: handle every error of a job inside the job (in Rust, catch a panic with `std::panic::catch_unwind`), and go back to the queue for the next one.",
        run: stage5_thread_pool::pool_keeps_its_workers,
    },
    Check {
        id: "ctrl-c-with-busy-pool",
        stage: Stage::ThreadPool,
        title: "Ctrl-C with every worker busy and the queue full: the downloads finish, and it exits 0 within 10 s",
        limit: Duration::from_secs(40),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[Need::Threads, Need::Queue, Need::BigFile],
        hint: "On Ctrl-C, let the workers finish the responses under way, but do not wait without a limit for everything still queued: close the waiting connections, or give up after a few seconds.",
        run: stage5_thread_pool::ctrl_c_with_busy_pool,
    },
    // -- Stage 6: keep-alive, and idle connections that cost no worker.
    Check {
        id: "keep-alive",
        stage: Stage::KeepAlive,
        title: "two, then ten requests on one connection are each answered in full, without Connection: close",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "After a response, read the next request from the same connection, unless the client asked to close. Every response needs a Content-Length, so the client knows where it ends.",
        run: stage6_keep_alive::keep_alive,
    },
    Check {
        id: "pipelining",
        stage: Stage::KeepAlive,
        title: "requests sent together in one write are answered in order, byte for byte",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "One read may bring more than one request: keep the bytes after the first request's head, and answer the next request from them before reading again.",
        run: stage6_keep_alive::pipelining,
    },
    Check {
        id: "connection-close",
        stage: Stage::KeepAlive,
        title: "a request with Connection: close gets Connection: close, and the connection closes",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "If the request says `Connection: close`, send `Connection: close` in the response and close the connection after it.",
        run: stage6_keep_alive::connection_close,
    },
    Check {
        id: "http-1.0",
        stage: Stage::KeepAlive,
        title: "HTTP/1.0 closes after the response, unless it asks for keep-alive; then it stays open and says so",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "HTTP/1.0 closes by default: keep it open only if the request says `Connection: keep-alive`, and then say `Connection: keep-alive` in the response too.",
        run: stage6_keep_alive::http_10,
    },
    Check {
        id: "idle-timeout",
        stage: Stage::KeepAlive,
        title: "a kept-alive connection that stays idle is closed after the keep-alive timeout",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[Need::KeepAliveTimeout],
        hint: "Give each idle connection a deadline ({keep_alive_timeout} after its last response) and close it when the deadline passes.",
        run: stage6_keep_alive::idle_timeout,
    },
    Check {
        id: "many-idle-connections",
        stage: Stage::KeepAlive,
        title: "with 300 idle connections open, a new client is served, and (command mode) the threads stay near the workers",
        limit: Duration::from_secs(60),
        mode: Mode::Alone,
        needs: &[],
        hint: "Idle connections must not hold a worker or a thread: keep them in a readiness loop (epoll, through mio or polling) and give a connection to a worker only when a whole request head has arrived.",
        run: stage6_keep_alive::many_idle_connections,
    },
    // -- Stage 7: connections that cost no thread, by the ten thousand.
    Check {
        id: "ten-thousand-idle",
        stage: Stage::Async,
        title: "with 10,000 idle connections open, a new client is served within a second and the server has fewer than 20 threads; once they hang up, it serves again within 10 s",
        limit: Duration::from_secs(150),
        mode: Mode::Alone,
        needs: &[Need::ThreadCount],
        hint: "Make each connection a task (or an entry in a readiness loop), never a thread: an async runtime with one thread per core holds ten thousand idle connections as easily as ten. Raise the open-file limit at start, or the server runs out of descriptors first.",
        run: stage7_async::ten_thousand_idle,
    },
];

/// The checks for grading `stage`: its own and those of every stage before it.
pub fn up_to(stage: Stage) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |check| check.stage <= stage)
}

/// `GET` a file and demand a `200` with a head, whatever the body.
pub fn expect_200(probe: &Probe, path: &str) -> Result<(Reply, Exchange), Failure> {
    let exchange = probe.get(&Probe::target(path));
    match exchange.reply() {
        Some(reply) if reply.status == 200 => Ok((reply, exchange)),
        Some(reply) => Err(Failure::of(
            format!("GET /{path} got {} instead of 200", reply.status),
            &exchange,
        )),
        None => Err(no_response(&format!("GET /{path}"), &exchange)),
    }
}

/// The failure of a request that got no HTTP response; when nothing at all
/// came back, the hint says that, whatever the check is about.
pub fn no_response(what: &str, exchange: &Exchange) -> Failure {
    let failure = Failure::of(format!("no HTTP response to {what}"), exchange);
    if exchange.received.is_empty() && failure.hint.is_none() {
        failure.hint("The server sent nothing back: after reading the request head, write the response (status line, headers, a blank line, the body) to the same connection, then close it.")
    } else {
        failure
    }
}

/// How long an exchange waited, as measured, for a problem that says it got
/// nothing: "nothing came in 5.0 s", or "the server closed after 0.0 s".
pub fn waited(exchange: &Exchange) -> String {
    let seconds = exchange.took.as_secs_f64();
    match exchange.end {
        client::End::Closed => format!("the server closed the connection after {seconds:.1} s"),
        client::End::Reset => format!("the server reset the connection after {seconds:.1} s"),
        client::End::NotConnected(_) => "no connection".to_owned(),
        _ => format!("waited {seconds:.1} s"),
    }
}

/// A failure if the server being watched has exited: `when` says when. With
/// `settle`, waits a moment for an exit under way: a process closes its sockets
/// a little before its exit status can be collected.
pub fn exited(probe: &Probe, when: &str, settle: bool) -> Option<Failure> {
    let server = probe.watched.as_deref()?;
    let status = if settle {
        server.wait_exit(Duration::from_secs(1))
    } else {
        server.exit_status()
    }?;
    let exit = describe_exit(status);
    let problem = match probe.watch.as_deref().map(|watch| watch.died(exit.clone())) {
        // Another check was running too, or instead: say who, and at what.
        Some(death) if !death.only(probe.check) => {
            format!(
                "the server {} {}; this check found it gone {when}",
                death.exit,
                death.moment()
            )
        }
        _ => format!("the server {exit} {when}"),
    };
    Some(Failure::new(problem).received(output_of(server)))
}

/// The server's last output, for a report.
pub fn output_of(server: &Process) -> String {
    match server.output() {
        output if output.is_empty() => "no output from the server".to_owned(),
        output => format!("its last output:\n{output}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_is_said_as_measured() {
        let exchange = |end, millis| Exchange {
            sent: Vec::new(),
            received: Vec::new(),
            end,
            took: Duration::from_millis(millis),
        };
        assert_eq!(
            waited(&exchange(client::End::Closed, 3)),
            "the server closed the connection after 0.0 s"
        );
        assert_eq!(
            waited(&exchange(client::End::TimedOut, 5_012)),
            "waited 5.0 s"
        );
    }

    #[test]
    fn ids_are_unique_and_checks_are_listed_by_stage() {
        let mut ids: Vec<_> = CHECKS.iter().map(|check| check.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        assert!(CHECKS.windows(2).all(|pair| pair[0].stage <= pair[1].stage));
    }

    #[test]
    fn every_stage_adds_checks_to_the_one_before() {
        let counts: Vec<usize> = Stage::ALL
            .into_iter()
            .map(|stage| up_to(stage).count())
            .collect();
        assert!(
            counts.windows(2).all(|pair| pair[0] < pair[1]),
            "{counts:?}"
        );
    }
}
