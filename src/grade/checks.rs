//! The checks, one entry per behaviour, keyed by the stage that introduces it.
//!
//! Grading stage N runs every check whose stage is N or lower. A later stage
//! adds its checks by adding entries to [`CHECKS`]; nothing else changes.
//!
//! Each check is a function that talks to the server over TCP and returns `Ok`
//! or a [`Failure`] saying what was sent, what came back (or did not), and what
//! was wrong. Every check has a time limit; all its socket operations end by its
//! deadline, and the runner gives up on it soon after in any case.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod keep_alive;
mod thread_pool;

use super::client::{self, Exchange, Reply};
use super::fixture::{self, Fixture};
use super::server::{Instance, describe_exit};
use crate::stages::Stage;

/// How a check uses the server, which decides when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Short requests; runs at the same time as the other shared checks.
    Shared,
    /// Holds connections open, so it runs on its own, after the shared checks.
    Alone,
    /// May bring a broken server down, so it runs on its own, after all the
    /// checks above; the risky checks of later stages run first.
    Risky,
    /// Gets a server of its own, started from the command, because it sends
    /// the server signals or sets out to break it (the text says which, for
    /// the report). Skipped when grading a server that is already running.
    OwnServer(&'static str),
}

/// Sends the server Ctrl-C: the reason of most [`Mode::OwnServer`] checks.
const SENDS_CTRL_C: &str = "it sends the server Ctrl-C";

/// What a check must know about the server, or be able to do to it, beyond
/// sending it requests. A check whose needs are not met is skipped, and the
/// report says what would meet them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// How many workers the server runs: `{threads}` in the command.
    Threads,
    /// How many connections may wait for a worker: `{queue}` in the command.
    Queue,
    /// How long an idle kept-alive connection stays open:
    /// `{keep_alive_timeout}` in the command. The check's time limit grows by it.
    KeepAliveTimeout,
    /// The server's threads, counted in `/proc` (Linux, and a server the grader
    /// started itself).
    ThreadCount,
    /// The big file in the site, for downloads that take a while.
    BigFile,
}

/// What the grader knows of the server's settings. In command mode these are
/// the values it put in the command for `{threads}`, `{queue}` and
/// `{keep_alive_timeout}` (a value is known only if its placeholder is there);
/// with `--addr`, what the instructor said the running server uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub threads: Option<usize>,
    pub queue: Option<usize>,
    /// In whole seconds, as the command receives it.
    pub keep_alive_timeout: Option<u64>,
}

/// One behaviour a stage must have.
#[derive(Debug)]
pub struct Check {
    /// A stable name, for the JSON output and for scripts.
    pub id: &'static str,
    /// The stage that introduces it.
    pub stage: Stage,
    /// What a passing server does, as a checklist line.
    pub title: &'static str,
    pub limit: Duration,
    pub mode: Mode,
    /// What it must know or do beyond sending requests; see [`Need`].
    pub needs: &'static [Need],
    /// What to look at when it fails.
    pub hint: &'static str,
    pub run: fn(&Probe) -> Result<(), Failure>,
}

/// Why a check failed: what was sent, what came back, and what was wrong.
#[derive(Clone, Debug, Default)]
pub struct Failure {
    pub problem: String,
    pub sent: Option<String>,
    pub received: Option<String>,
    /// Overrides the check's own hint when this failure calls for another.
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(problem: impl Into<String>) -> Failure {
        Failure {
            problem: problem.into(),
            ..Failure::default()
        }
    }

    /// A failure of one request, showing both sides of it.
    pub fn of(problem: impl Into<String>, exchange: &Exchange) -> Failure {
        Failure {
            problem: problem.into(),
            sent: Some(exchange.describe_sent()),
            received: Some(exchange.describe_received()),
            hint: None,
        }
    }

    pub fn sent(mut self, sent: impl Into<String>) -> Failure {
        self.sent = Some(sent.into());
        self
    }

    pub fn received(mut self, received: impl Into<String>) -> Failure {
        self.received = Some(received.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

/// What a check is given: where the server is, what it serves, and its deadline.
pub struct Probe {
    pub addr: SocketAddr,
    pub site: Arc<Fixture>,
    pub deadline: Instant,
    /// For [`Mode::OwnServer`] checks: the server, to signal and watch.
    pub server: Option<Arc<Instance>>,
    /// For the other checks in command mode: the server, to see it is alive.
    pub watched: Option<Arc<Instance>>,
    /// What the grader knows of the server's settings. The runner skips a
    /// check whose [`Need`]s are not known, so a check may count on them.
    pub settings: Settings,
}

impl Probe {
    /// `GET path`, with `Connection: close`.
    pub fn get(&self, path: &str) -> Exchange {
        self.send(&client::get_request(self.addr, path))
    }

    /// Sends raw bytes on a new connection and reads what comes back.
    pub fn send(&self, request: &[u8]) -> Exchange {
        client::exchange(self.addr, request, self.deadline)
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

    fn server(&self) -> &Instance {
        self.server
            .as_deref()
            .expect("OwnServer checks are run with a server")
    }

    /// Sends Ctrl-C (SIGINT) to the server's process group.
    fn interrupt(&self) -> Result<(), Failure> {
        self.server()
            .signal("INT")
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
        run: connects,
    },
    Check {
        id: "text-files",
        stage: Stage::SingleThreaded,
        title: "text files come back with 200, byte for byte",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Send the file's bytes exactly as they are on disk: read it as bytes, not as text, which can change line ends.",
        run: text_files,
    },
    Check {
        id: "binary-files",
        stage: Stage::SingleThreaded,
        title: "binary files (PNG, arbitrary bytes) come back with 200, byte for byte",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Read files in binary mode and send the bytes unchanged; decoding them as text mangles anything that is not text.",
        run: binary_files,
    },
    Check {
        id: "content-length",
        stage: Stage::SingleThreaded,
        title: "Content-Length is the number of bytes in the body",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Content-Length counts bytes, not characters: take the length of the encoded body, after any conversion.",
        run: content_length,
    },
    Check {
        id: "content-type",
        stage: Stage::SingleThreaded,
        title: "Content-Type matches the file: text/html, text/css, image/png",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Choose Content-Type from the file's extension; text/html for everything makes browsers refuse stylesheets and images.",
        run: content_type,
    },
    Check {
        id: "sub-folder",
        stage: Stage::SingleThreaded,
        title: "files in sub-folders are served",
        limit: Duration::from_secs(15),
        mode: Mode::Shared,
        needs: &[],
        hint: "Map the whole path under the root, folders included, not just the file's name.",
        run: sub_folder,
    },
    Check {
        id: "no-traversal",
        stage: Stage::SingleThreaded,
        title: "no request reads a file outside the root (.., encoded .., absolute paths)",
        limit: Duration::from_secs(30),
        mode: Mode::Shared,
        needs: &[],
        hint: "Refuse any path with a `..` segment after decoding, and any absolute path; or resolve the path and check it is still under the root.",
        run: no_traversal,
    },
    Check {
        id: "survives-bad-clients",
        stage: Stage::SingleThreaded,
        title: "still serves after clients that hang up, send half a request, or send garbage",
        limit: Duration::from_secs(30),
        mode: Mode::Risky,
        needs: &[],
        hint: "Handle every error of one connection inside its handler (log it, close that connection) so it never ends the accept loop or the process.",
        run: survives_bad_clients,
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
        run: idle_client,
    },
    Check {
        id: "reverse-order",
        stage: Stage::ThreadPerClient,
        title: "four open connections are answered in the reverse order of opening",
        limit: Duration::from_secs(15),
        mode: Mode::Alone,
        needs: &[],
        hint: "Each open connection needs a thread of its own, or a free worker: a small, fixed set of workers is held by the first, silent connections while the last one is asking.",
        run: reverse_order,
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
        run: not_found_page,
    },
    // ANCHOR_END: not_found_check
    Check {
        id: "bad-request",
        stage: Stage::NotFound,
        title: "a malformed request gets 400 Bad Request",
        limit: Duration::from_secs(15),
        mode: Mode::Risky,
        needs: &[],
        hint: "If the request line is not `METHOD /path HTTP/1.x`, answer 400 Bad Request instead of closing or crashing.",
        run: bad_request,
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
        run: ctrl_c_finishes_download,
    },
    Check {
        id: "ctrl-c-exits-0",
        stage: Stage::DaemonJoin,
        title: "after Ctrl-C the server exits with status 0, within 10 s",
        limit: Duration::from_secs(20),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[],
        hint: "Catch Ctrl-C (SIGINT), finish cleanly and return from main: an uncaught signal or a re-raised exception is not a clean exit.",
        run: ctrl_c_exits_0,
    },
    Check {
        id: "idle-client-cannot-hold-shutdown",
        stage: Stage::DaemonJoin,
        title: "a silent client cannot keep the server from exiting after Ctrl-C",
        limit: Duration::from_secs(20),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[],
        hint: "Wait for busy clients with a time limit (or give client sockets a read timeout): a join without a limit waits for the idle client forever.",
        run: idle_client_cannot_hold_shutdown,
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
        run: thread_pool::threads_bounded,
    },
    Check {
        id: "overload-503",
        stage: Stage::ThreadPool,
        title: "with every worker busy and the queue full, a new client gets 503 with Retry-After at once; once they leave, it serves again",
        limit: Duration::from_secs(30),
        mode: Mode::Alone,
        needs: &[Need::Threads, Need::Queue, Need::BigFile],
        hint: "Give the queue a size ({queue}); when a connection finds it full, answer `503 Service Unavailable` with `Retry-After` and close, without waiting for a worker.",
        run: thread_pool::overload_503,
    },
    Check {
        id: "pool-keeps-its-workers",
        stage: Stage::ThreadPool,
        title: "after clients that reset mid-request or mid-download, or send bytes that are not UTF-8, every worker still serves",
        limit: Duration::from_secs(40),
        mode: Mode::OwnServer("it sets out to break the server's workers"),
        needs: &[Need::Threads, Need::BigFile],
        hint: "A worker must outlive any one connection: handle every error of a job inside the job (in Rust, catch a panic with `std::panic::catch_unwind`), and go back to the queue for the next one.",
        run: thread_pool::pool_keeps_its_workers,
    },
    Check {
        id: "ctrl-c-with-busy-pool",
        stage: Stage::ThreadPool,
        title: "Ctrl-C with every worker busy and the queue full: the downloads finish, and it exits 0 within 10 s",
        limit: Duration::from_secs(40),
        mode: Mode::OwnServer(SENDS_CTRL_C),
        needs: &[Need::Threads, Need::Queue, Need::BigFile],
        hint: "On Ctrl-C, let the workers finish the responses under way, but do not wait without a limit for everything still queued: close the waiting connections, or give up after a few seconds.",
        run: thread_pool::ctrl_c_with_busy_pool,
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
        run: keep_alive::keep_alive,
    },
    Check {
        id: "pipelining",
        stage: Stage::KeepAlive,
        title: "requests sent together in one write are answered in order, byte for byte",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "One read may bring more than one request: keep the bytes after the first request's head, and answer the next request from them before reading again.",
        run: keep_alive::pipelining,
    },
    Check {
        id: "connection-close",
        stage: Stage::KeepAlive,
        title: "a request with Connection: close gets Connection: close, and the connection closes",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "If the request says `Connection: close`, send `Connection: close` in the response and close the connection after it.",
        run: keep_alive::connection_close,
    },
    Check {
        id: "http-1.0",
        stage: Stage::KeepAlive,
        title: "HTTP/1.0 closes after the response, unless it asks for keep-alive; then it stays open and says so",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[],
        hint: "HTTP/1.0 closes by default: keep it open only if the request says `Connection: keep-alive`, and then say `Connection: keep-alive` in the response too.",
        run: keep_alive::http_10,
    },
    Check {
        id: "idle-timeout",
        stage: Stage::KeepAlive,
        title: "a kept-alive connection that stays idle is closed after the keep-alive timeout",
        limit: Duration::from_secs(20),
        mode: Mode::Shared,
        needs: &[Need::KeepAliveTimeout],
        hint: "Give each idle connection a deadline ({keep_alive_timeout} after its last response) and close it when the deadline passes.",
        run: keep_alive::idle_timeout,
    },
    Check {
        id: "many-idle-connections",
        stage: Stage::KeepAlive,
        title: "with 300 idle connections open, a new client is served, and (command mode) the threads stay near the workers",
        limit: Duration::from_secs(60),
        mode: Mode::Alone,
        needs: &[],
        hint: "Idle connections must not hold a worker or a thread: keep them in a readiness loop (epoll, through mio or polling) and give a connection to a worker only when a whole request head has arrived.",
        run: keep_alive::many_idle_connections,
    },
];

/// The checks for grading `stage`: its own and those of every stage before it.
pub fn up_to(stage: Stage) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |check| check.stage <= stage)
}

// ---------------------------------------------------------------------------
// Stage 1

fn connects(probe: &Probe) -> Result<(), Failure> {
    probe.connect().map(drop)
}

/// `GET` a fixture file and demand `200` with its exact bytes.
fn expect_file(probe: &Probe, path: &str) -> Result<Reply, Failure> {
    let expected = &probe.site.file(path).bytes;
    let exchange = probe.get(&Probe::target(path));
    let Some(reply) = exchange.reply() else {
        return Err(Failure::of(
            format!("no HTTP response to GET /{path}"),
            &exchange,
        ));
    };
    if reply.status != 200 {
        return Err(Failure::of(
            format!("GET /{path} got {} instead of 200", reply.status),
            &exchange,
        ));
    }
    if reply.body != *expected {
        let difference = client::first_difference(expected, &reply.body);
        return Err(Failure::of(
            format!("GET /{path}: the body is not the file: {difference}"),
            &exchange,
        ));
    }
    Ok(reply)
}

fn text_files(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::INDEX, fixture::STYLE] {
        expect_file(probe, path)?;
    }
    Ok(())
}

fn binary_files(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::IMAGE, fixture::DATA] {
        expect_file(probe, path)?;
    }
    Ok(())
}

/// Files at the top of the root, for the header checks (so that a server that
/// cannot reach sub-folders fails only the sub-folder check).
const TOP_FILES: [&str; 4] = [
    fixture::INDEX,
    fixture::STYLE,
    fixture::IMAGE,
    fixture::DATA,
];

/// `GET` a file and demand a `200` with a head, whatever the body.
fn expect_200(probe: &Probe, path: &str) -> Result<(Reply, Exchange), Failure> {
    let exchange = probe.get(&Probe::target(path));
    match exchange.reply() {
        Some(reply) if reply.status == 200 => Ok((reply, exchange)),
        Some(reply) => Err(Failure::of(
            format!("GET /{path} got {} instead of 200", reply.status),
            &exchange,
        )),
        None => Err(Failure::of(
            format!("no HTTP response to GET /{path}"),
            &exchange,
        )),
    }
}

fn content_length(probe: &Probe) -> Result<(), Failure> {
    for path in TOP_FILES {
        let (reply, exchange) = expect_200(probe, path)?;
        let values: Vec<&str> = reply.headers_named("Content-Length").collect();
        let body = reply.body.len();
        match values[..] {
            [] => {
                return Err(Failure::of(
                    format!("GET /{path}: no Content-Length header"),
                    &exchange,
                ));
            }
            [value] if value.parse() == Ok(body) => {}
            [value] => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: Content-Length says {value}, but the body has {body} bytes"
                    ),
                    &exchange,
                ));
            }
            _ => {
                return Err(Failure::of(
                    format!(
                        "GET /{path}: {} Content-Length headers; send exactly one",
                        values.len()
                    ),
                    &exchange,
                ));
            }
        }
    }
    Ok(())
}

fn content_type(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::INDEX, fixture::STYLE, fixture::IMAGE] {
        let expected = probe.site.file(path).media_type;
        let (reply, exchange) = expect_200(probe, path)?;
        // `text/html; charset=utf-8` is text/html: only the media type counts.
        let got = reply.header("Content-Type").unwrap_or("");
        let media_type = got.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(expected) {
            let problem = if got.is_empty() {
                format!("GET /{path}: no Content-Type header; expected {expected}")
            } else {
                format!("GET /{path}: Content-Type is `{got}`; expected {expected}")
            };
            return Err(Failure::of(problem, &exchange));
        }
    }
    Ok(())
}

fn sub_folder(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::SUB_PAGE, fixture::SUB_NOTES] {
        expect_file(probe, path)?;
    }
    Ok(())
}

/// Request targets that try to reach the sentinel beside the root, from the
/// well-known families: plain and nested `..`, percent-encoded (once and
/// twice), backslashes, overlong UTF-8, NUL tricks, the absolute form, and the
/// sentinel's absolute path on disk.
pub fn traversal_targets(site: &Fixture) -> Vec<String> {
    let name = site.sentinel_name();
    let absolute = site.sentinel.to_string_lossy().into_owned();
    let climbs = [
        "/../",
        "/../../",
        "/sub/../../",
        "/sub/deeper/../../../",
        "/./../",
        "/%2e%2e/",
        "/%2E%2E/",
        "/.%2e/",
        "/%2e%2e%2f",
        "/..%2f",
        "/..%2F",
        "/sub%2f..%2f..%2f",
        "/%252e%252e/",
        "/%252e%252e%252f",
        "/..%5c",
        "/..\\",
        "/%c0%ae%c0%ae/",
        "/%c0%ae%c0%ae%c0%af",
        "/..%c0%af",
        "//../",
        "/..;/",
        "http://grader/../",
        "http://grader/%2e%2e/",
        "/../../../../../../../../../../../../../../../../",
    ];
    let mut targets: Vec<String> = climbs
        .iter()
        .map(|climb| format!("{climb}{name}"))
        .collect();
    targets.push(format!("/../{name}%00.html"));
    targets.push(format!("/%2e%2e/{name}%00"));
    targets.push(absolute.clone());
    targets.push(format!("/{absolute}"));
    targets.push(format!("file://{absolute}"));
    targets
}

fn no_traversal(probe: &Probe) -> Result<(), Failure> {
    for target in traversal_targets(&probe.site) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            probe.addr
        );
        let exchange = probe.send(request.as_bytes());
        if client::find(&exchange.received, probe.site.sentinel_text.as_bytes()).is_some() {
            return Err(Failure::of(
                format!(
                    "GET {target} sent back the contents of {}, a file outside the root",
                    probe.site.sentinel.display()
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}

/// Misbehaving clients, each followed by a request that must still be served.
fn survives_bad_clients(probe: &Probe) -> Result<(), Failure> {
    let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(20_000));
    let misdeeds: [(&str, Vec<u8>); 5] = [
        ("connected and hung up without a word", Vec::new()),
        (
            "sent half a request line and hung up",
            b"GET /index.ht".to_vec(),
        ),
        (
            "sent a request head that never ends, and hung up",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n".to_vec(),
        ),
        (
            "sent binary garbage",
            vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xfe, b'\r', b'\n', b'\r', b'\n',
            ],
        ),
        ("sent a 20 KB request line", long_line.into_bytes()),
    ];
    // Up to begin with? (A risky check of a later stage runs before this one.)
    let exchange = probe.get(&Probe::target(fixture::INDEX));
    let up = exchange.reply().is_some_and(|reply| reply.status == 200);
    if !up {
        return Err(exited(
            probe,
            "before this check began (see the checks above)",
            true,
        )
        .unwrap_or_else(|| {
            Failure::of(
                "GET /index.html was not answered with 200 even before any misbehaving client",
                &exchange,
            )
        }));
    }
    for (what, bytes) in misdeeds {
        // Send, then hang up at once: the server must cope with the close
        // whatever it was doing.
        if let Ok(mut stream) = client::connect(probe.addr, probe.deadline) {
            let _ = stream.write_all(&bytes);
        }
        let exchange = probe.get(&Probe::target(fixture::INDEX));
        let answered = exchange.reply().is_some_and(|reply| reply.status == 200);
        if let Some(failure) = exited(probe, &format!("after a client {what}"), !answered) {
            let sent = if bytes.is_empty() {
                "nothing".to_owned()
            } else {
                client::escape(&bytes, 200)
            };
            return Err(failure.sent(sent));
        }
        if !answered {
            return Err(Failure::of(
                format!("after a client {what}, GET /index.html was not answered with 200"),
                &exchange,
            ));
        }
    }
    Ok(())
}

/// A failure if the server being watched has exited: `when` says when. With
/// `settle`, waits a moment for an exit under way: a process closes its sockets
/// a little before its exit status can be collected.
fn exited(probe: &Probe, when: &str, settle: bool) -> Option<Failure> {
    let server = probe.watched.as_deref()?;
    let status = if settle {
        server.wait_exit(Duration::from_secs(1))
    } else {
        server.exit_status()
    }?;
    Some(
        Failure::new(format!("the server {} {when}", describe_exit(status)))
            .received(output_of(server)),
    )
}

/// The server's last output, for a report.
fn output_of(server: &Instance) -> String {
    match server.output() {
        output if output.is_empty() => "no output from the server".to_owned(),
        output => format!("its last output:\n{output}"),
    }
}

// ---------------------------------------------------------------------------
// Stage 2

fn idle_client(probe: &Probe) -> Result<(), Failure> {
    let idle = probe.connect()?;
    let request = client::get_request(probe.addr, "/index.html");
    let exchange = client::exchange(probe.addr, &request, probe.within(ANSWER_WITHIN));
    let answered = exchange.reply().is_some_and(|reply| reply.status == 200);
    if !answered {
        return Err(Failure::of(
            format!(
                "while one client was connected and silent, another client's GET /index.html got no 200 within {} s",
                ANSWER_WITHIN.as_secs()
            ),
            &exchange,
        ));
    }
    // Answered, but perhaps only because the server gave up on the idle client.
    if !client::is_open(&idle) {
        return Err(Failure::of(
            "the other client was answered only after the server had hung up on the silent one",
            &exchange,
        )
        .hint("The server waits on one client at a time; a read timeout only shortens the wait. Serve each connection on its own thread."));
    }
    Ok(())
}

fn reverse_order(probe: &Probe) -> Result<(), Failure> {
    let paths = [
        fixture::INDEX,
        fixture::STYLE,
        fixture::SUB_PAGE,
        fixture::IMAGE,
    ];
    let mut streams = Vec::new();
    for _ in &paths {
        streams.push(probe.connect()?);
    }
    for (n, (stream, path)) in streams.iter_mut().zip(paths).enumerate().rev() {
        let request = client::get_request(probe.addr, &Probe::target(path));
        let exchange = client::exchange_on(stream, &request, probe.within(ANSWER_WITHIN));
        let expected = &probe.site.file(path).bytes;
        let served = exchange
            .reply()
            .is_some_and(|reply| reply.status == 200 && reply.body == *expected);
        if !served {
            return Err(Failure::of(
                format!(
                    "connection {} of {} (asking first, while the {n} opened before it were silent) did not get /{path} within {} s",
                    n + 1,
                    paths.len(),
                    ANSWER_WITHIN.as_secs()
                ),
                &exchange,
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Stage 3

// ANCHOR: not_found_page
fn not_found_page(probe: &Probe) -> Result<(), Failure> {
    let path = format!("/missing-{}.html", probe.site.token);
    let exchange = probe.get(&path);
    let Some(reply) = exchange.reply() else {
        return Err(Failure::of(
            format!("no HTTP response to GET {path}"),
            &exchange,
        ));
    };
    if reply.status != 404 {
        return Err(Failure::of(
            format!(
                "GET {path} (no such file) got {} instead of 404",
                reply.status
            ),
            &exchange,
        ));
    }
    let page = &probe.site.file(fixture::ERROR_PAGE).bytes;
    if reply.body != *page {
        return Err(Failure::of(
            format!(
                "the 404's body is not the root's error.html: {}",
                client::first_difference(page, &reply.body)
            ),
            &exchange,
        ));
    }
    Ok(())
}
// ANCHOR_END: not_found_page

fn bad_request(probe: &Probe) -> Result<(), Failure> {
    for request in [
        &b"hello\r\n\r\n"[..],
        b"GET /index.html\r\n\r\n",
        b"GET /index.html FTP/1.0\r\n\r\n",
    ] {
        let exchange = probe.send(request);
        let answered = exchange.reply().is_some();
        if let Some(failure) = exited(probe, "after a malformed request", !answered) {
            return Err(failure.sent(exchange.describe_sent()));
        }
        match exchange.reply() {
            Some(reply) if reply.status == 400 => {}
            Some(reply) => {
                return Err(Failure::of(
                    format!("a malformed request got {} instead of 400", reply.status),
                    &exchange,
                ));
            }
            None => {
                return Err(Failure::of(
                    "a malformed request got no HTTP response",
                    &exchange,
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Stage 4

fn ctrl_c_finishes_download(probe: &Probe) -> Result<(), Failure> {
    let expected = &probe.site.file(fixture::BIG).bytes;
    let mut stream = probe.connect()?;
    let request = client::get_request(probe.addr, &Probe::target(fixture::BIG));
    stream
        .write_all(&request)
        .map_err(|error| Failure::new(format!("could not send the request: {error}")))?;
    // Read the first bytes, then stop reading: the server fills the socket
    // buffers and blocks mid-file, and that is when Ctrl-C lands.
    let mut first = [0; 1];
    let _ = stream.set_read_timeout(client::time_left(probe.within(Duration::from_secs(10))));
    if !matches!(std::io::Read::read(&mut stream, &mut first), Ok(1)) {
        return Err(Failure::new("the download did not start within 10 s")
            .sent(client::escape(&request, 400))
            .received("nothing"));
    }
    probe.interrupt()?;
    let (rest, end) = client::read_response(&mut stream, probe.deadline);
    let received = [&first[..], &rest].concat();
    let exchange = Exchange {
        sent: request,
        received,
        end,
        took: Duration::ZERO,
    };
    let reply = exchange.reply().filter(|reply| reply.status == 200);
    match reply {
        Some(reply) if reply.body == *expected => Ok(()),
        Some(reply) => Err(Failure::of(
            format!(
                "Ctrl-C was sent during the download of /{}; {}",
                fixture::BIG,
                client::first_difference(expected, &reply.body)
            ),
            &exchange,
        )),
        None => Err(Failure::of(
            format!("no 200 response to GET /{} across Ctrl-C", fixture::BIG),
            &exchange,
        )),
    }
}

fn ctrl_c_exits_0(probe: &Probe) -> Result<(), Failure> {
    expect_200(probe, fixture::INDEX)?;
    probe.interrupt()?;
    let server = probe.server();
    match server.wait_exit(EXIT_WITHIN) {
        Some(status) if status.code() == Some(0) => Ok(()),
        Some(status) => Err(Failure::new(format!(
            "after Ctrl-C the server {}",
            describe_exit(status)
        ))
        .sent("Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(server))),
        None => Err(Failure::new(format!(
            "the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("Ctrl-C (SIGINT to the server's process group), with no client connected")
        .received(output_of(server))),
    }
}

fn idle_client_cannot_hold_shutdown(probe: &Probe) -> Result<(), Failure> {
    let idle = probe.connect()?;
    // A request on another connection, answered, shows the server has moved
    // past accepting the idle one.
    expect_200(probe, fixture::INDEX)?;
    probe.interrupt()?;
    let server = probe.server();
    let exited = server.wait_exit(EXIT_WITHIN);
    drop(idle);
    match exited {
        Some(_) => Ok(()),
        None => Err(Failure::new(format!(
            "with one client connected and silent, the server was still running {} s after Ctrl-C",
            EXIT_WITHIN.as_secs()
        ))
        .sent("a connection that sends nothing, then Ctrl-C (SIGINT to the server's process group)")
        .received(output_of(server))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn traversal_targets_all_name_the_sentinel() {
        let site = Fixture::temporary(false).unwrap();
        let name = site.sentinel_name();
        for target in traversal_targets(&site) {
            assert!(target.contains(&name), "{target}");
        }
    }
}
