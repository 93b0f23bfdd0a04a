//! The server under test: started from its command (or already running),
//! watched, asked whether it still answers, and started afresh when it has
//! died or stopped answering, so that one early death does not fail every
//! check after it.
//!
//! A [`Launcher`] starts copies of the server ([`Instance`]s), each on a port
//! of its own. The first copy is started with the quiet readiness probe, a
//! connection that sends nothing (what the server does with it is
//! `connects`'s to judge); every later copy with one that asks for a page,
//! since its predecessor may have died of exactly such a connection. A
//! [`Subject`] is the server the shared checks talk to: the copy in use, the
//! restarts so far, and, once no copy answers any more, the reason to judge
//! nothing else.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::check::{self, Settings};
use crate::client;
use crate::fixture;
use crate::ports;
use crate::process::{Process, StartError};
use crate::watch::Watch;

/// When to remind, while waiting for a server to accept, that it may be
/// listening on another port (a compiling `cargo run` takes longer, and the
/// reminder says so without giving up).
const REMIND_AFTER: Duration = Duration::from_secs(10);

/// How much of a server's output to keep for the report, in lines.
const OUTPUT_LINES: usize = 40;

/// How long a server has to answer the grader's "are you there?" request.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(3);

/// The most fresh copies a run starts: a server that dies on nearly every
/// check is graded in bounded time.
const MOST_RESTARTS: usize = 12;

/// How a copy of the server is judged ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// A connection opened and closed with nothing sent, until one is
    /// accepted ([`crate::process::READINESS_PROBE`]).
    Quiet,
    /// A connection, and then a `GET /index.html` on it that must be answered.
    Asking,
}

/// Starts copies of the server from its command.
#[derive(Clone, Debug)]
pub struct Launcher {
    pub template: Vec<String>,
    pub root: PathBuf,
    /// The values for the placeholders (those that are `None` are left out).
    pub values: Settings,
    pub startup: Duration,
    pub progress: bool,
}

/// A copy of the server, running.
#[derive(Debug)]
pub struct Instance {
    pub process: Arc<Process>,
    pub addr: SocketAddr,
    /// The command line, with its placeholders filled in.
    pub command: Vec<String>,
    /// Which check was at which step when it died.
    pub watch: Arc<Watch>,
}

/// A copy of the server that did not start: why, and the command line as it
/// was run, for the report.
#[derive(Debug)]
pub struct NotStarted {
    pub error: StartError,
    pub command: Vec<String>,
}

impl Launcher {
    /// Starts a copy on a free port, with the placeholders filled in, and
    /// waits for it to be ready.
    pub fn start(&self, readiness: Readiness) -> Result<Instance, NotStarted> {
        let port = ports::free_port().map_err(|error| NotStarted {
            error: StartError::Port(error),
            command: self.template.clone(),
        })?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut values = vec![
            (check::PORT, port.to_string()),
            (check::ROOT, self.root.to_string_lossy().into_owned()),
        ];
        if let Some(threads) = self.values.threads {
            values.push((check::THREADS, threads.to_string()));
        }
        if let Some(queue) = self.values.queue {
            values.push((check::QUEUE, queue.to_string()));
        }
        if self.values.uploads {
            let folder = fixture::uploads_folder(&self.root);
            values.push((check::UPLOADS, folder.to_string_lossy().into_owned()));
        }
        if let Some(seconds) = self.values.keep_alive_timeout {
            values.push((check::KEEP_ALIVE_TIMEOUT, seconds.to_string()));
        }
        let command: Vec<String> = self
            .template
            .iter()
            .map(|arg| {
                values
                    .iter()
                    .fold(arg.clone(), |arg, (name, value)| arg.replace(name, value))
            })
            .collect();
        let (program, args) = command.split_first().expect("a command was given");
        let mut line = Command::new(program);
        line.args(args);
        let not_started = |error| NotStarted {
            error,
            command: command.clone(),
        };
        // Dropped, and so stopped, if it does not become ready in time.
        let process = Process::start(line, OUTPUT_LINES).map_err(not_started)?;
        // Dropped when the wait is over, which ends the reminder's thread.
        let (_waiting, reminder) = std::sync::mpsc::channel::<()>();
        if self.progress {
            thread::spawn(move || {
                if reminder.recv_timeout(REMIND_AFTER)
                    == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                {
                    eprintln!(
                        "still waiting after {} s: nothing accepts connections on {addr} yet; is the server listening on 127.0.0.1 at the port it was given ({port})?",
                        REMIND_AFTER.as_secs()
                    );
                }
            });
        }
        match readiness {
            Readiness::Quiet => process.wait_until_accepting(addr, self.startup),
            Readiness::Asking => process.wait_until_answering(addr, self.startup),
        }
        .map_err(not_started)?;
        let process = Arc::new(process);
        let watch = Arc::new(Watch::default());
        watch.start(&process);
        Ok(Instance {
            process,
            addr,
            command,
            watch,
        })
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.watch.stop();
        self.process.stop();
    }
}

/// The server the shared checks talk to.
#[derive(Debug)]
pub struct Subject {
    /// How to start a fresh copy; `None` for a server the grader did not
    /// start, which it cannot start again.
    launcher: Option<Launcher>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    addr: SocketAddr,
    current: Option<Arc<Instance>>,
    /// Why each fresh copy was started.
    restarts: Vec<String>,
    /// Set once no copy answers: why the checks left are not judged.
    gave_up: Option<String>,
    /// The first death seen, in words, for the report.
    first_exit: Option<String>,
    /// Whether the last copy that failed to start accepted, and then did not
    /// answer a request sent as its very first connection.
    never_answered: bool,
    /// The steps a fresh copy was seen to die of too ("sending GET
    /// /data.bin HTTP/1.1"), each with the check that found it.
    deadly: Vec<(String, &'static str)>,
    /// How many checks have failed on the copy in use.
    copy_faults: usize,
}

impl Subject {
    /// Starts the server from `launcher`, with the quiet readiness probe.
    pub fn start(launcher: Launcher) -> Result<Subject, NotStarted> {
        let instance = launcher.start(Readiness::Quiet)?;
        Ok(Subject::with(Some(launcher), instance))
    }

    /// A subject of its own for a check that must start the server itself:
    /// one copy, started with the asking probe, never restarted.
    ///
    /// A copy that accepts but gives no answer within its 5 s is started
    /// once more: the checks that start their own copies run late, beside
    /// other checks and (in a class) other students' gradings, and a server
    /// known to answer (`connects` passed before these run) was seen, on a
    /// busy machine, to give its first page late. One that never answers
    /// fails the same way twice.
    pub fn own(launcher: &Launcher) -> Result<Subject, NotStarted> {
        let instance = match launcher.start(Readiness::Asking) {
            Err(NotStarted {
                error: StartError::NoAnswer { .. },
                ..
            }) => launcher.start(Readiness::Asking)?,
            started => started?,
        };
        Ok(Subject::with(None, instance))
    }

    fn with(launcher: Option<Launcher>, instance: Instance) -> Subject {
        Subject {
            launcher,
            state: Mutex::new(State {
                addr: instance.addr,
                current: Some(Arc::new(instance)),
                restarts: Vec::new(),
                gave_up: None,
                first_exit: None,
                never_answered: false,
                deadly: Vec::new(),
                copy_faults: 0,
            }),
        }
    }

    /// A server the grader did not start, at `addr`.
    pub fn running(addr: SocketAddr) -> Subject {
        Subject {
            launcher: None,
            state: Mutex::new(State {
                addr,
                current: None,
                restarts: Vec::new(),
                gave_up: None,
                first_exit: None,
                never_answered: false,
                deadly: Vec::new(),
                copy_faults: 0,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the copy in use listens.
    pub fn addr(&self) -> SocketAddr {
        self.state().addr
    }

    /// The copy in use, if the grader started it.
    pub fn instance(&self) -> Option<Arc<Instance>> {
        self.state().current.clone()
    }

    /// The process of the copy in use, if the grader started it.
    pub fn process(&self) -> Option<Arc<Process>> {
        self.instance()
            .map(|instance| Arc::clone(&instance.process))
    }

    /// The command line of the copy in use.
    pub fn command(&self) -> Option<Vec<String>> {
        self.instance().map(|instance| instance.command.clone())
    }

    /// Whether the grader can start a fresh copy.
    pub fn can_restart(&self) -> bool {
        self.launcher.is_some()
    }

    /// Why a fresh copy was started, each time one was.
    pub fn restarts(&self) -> Vec<String> {
        self.state().restarts.clone()
    }

    /// Why the checks left cannot be judged, once no copy answers.
    pub fn gave_up(&self) -> Option<String> {
        self.state().gave_up.clone()
    }

    /// Whether a fresh copy, asked for a page on its first connection, did
    /// not answer it: the server does not answer requests at all, whatever
    /// came before.
    pub fn never_answered(&self) -> bool {
        self.state().never_answered
    }

    /// From now on the checks left are not judged, for `reason`.
    pub fn give_up(&self, reason: String) {
        self.state().gave_up.get_or_insert(reason);
    }

    /// The first death seen, in words ("was killed by signal 13 (SIGPIPE:
    /// ...) while `survives-bad-clients` was at: ..."), for the report.
    pub fn first_exit(&self) -> Option<String> {
        self.state().first_exit.clone()
    }

    /// Whether the copy in use has exited; if so, notes the death.
    pub fn has_died(&self) -> bool {
        let Some(instance) = self.instance() else {
            return false;
        };
        let Some(status) = instance.process.exit_status() else {
            return false;
        };
        let death = instance.watch.died(crate::process::describe_exit(status));
        self.state()
            .first_exit
            .get_or_insert(format!("{} {}", death.exit, death.moment()));
        true
    }

    /// How the copy in use died, if it has, in words: "exited with status 1
    /// while `bad-request` was at: sending hello".
    pub fn death(&self) -> Option<String> {
        if !self.has_died() {
            return None;
        }
        let death = self.instance()?.watch.death()?;
        Some(format!("{} {}", death.exit, death.moment()))
    }

    /// Notes that a check failed on the copy in use.
    pub fn note_fault(&self) {
        self.state().copy_faults += 1;
    }

    /// How many checks have failed on the copy in use since it started.
    pub fn copy_faults(&self) -> usize {
        self.state().copy_faults
    }

    /// Notes that a fresh copy dies of `step` too, as `check` found; or, if
    /// an earlier check found it first, names that check.
    pub fn deadly(&self, step: &str, check: &'static str) -> Option<&'static str> {
        let mut state = self.state();
        if let Some((_, first)) = state.deadly.iter().find(|(seen, _)| seen == step) {
            return Some(*first);
        }
        state.deadly.push((step.to_owned(), check));
        None
    }

    /// Whether the server answers `GET /index.html` within `within`: with
    /// any HTTP response, or with bytes that are not one.
    pub fn answers(&self, within: Duration) -> bool {
        if self.has_died() {
            return false;
        }
        let addr = self.addr();
        let exchange = client::exchange(
            addr,
            &client::get_request(addr, "/index.html"),
            Instant::now() + within,
        );
        if exchange.reply().is_some() || exchange.answered_unreadably() {
            return true;
        }
        // A server that serves only `/` answers too (`connects` says so).
        if !exchange.hung_up() {
            return false;
        }
        let root = client::exchange(
            addr,
            &client::get_request(addr, "/"),
            Instant::now() + within,
        );
        root.reply().is_some() || root.answered_unreadably()
    }

    /// A fresh copy, started with the asking probe, not yet in use.
    pub fn fresh(&self) -> Result<Instance, NotStarted> {
        let launcher = self
            .launcher
            .as_ref()
            .expect("only a subject with a launcher is restarted");
        launcher.start(Readiness::Asking)
    }

    /// Puts `instance` in use instead of the copy before it (which is
    /// stopped), because of `why`.
    pub fn replace(&self, instance: Instance, why: String) {
        let mut state = self.state();
        state.addr = instance.addr;
        state.restarts.push(why);
        state.copy_faults = 0;
        // The old copy is stopped when its last holder lets it go.
        state.current = Some(Arc::new(instance));
    }

    /// Starts a fresh copy in place of the one in use, because of `why`. If
    /// none starts and answers, or too many have been started, gives up:
    /// the checks left are then not judged.
    pub fn restart(&self, why: String, blame: &str) -> bool {
        if self.state().restarts.len() >= MOST_RESTARTS {
            self.give_up(format!(
                "needs a server that keeps running, which `{blame}` found broken (it was started afresh {MOST_RESTARTS} times)"
            ));
            return false;
        }
        if let Some(old) = self.instance() {
            old.process.stop();
        }
        match self.fresh() {
            Ok(instance) => {
                self.replace(instance, why);
                true
            }
            Err(not) => {
                self.state().never_answered = matches!(not.error, StartError::NoAnswer { .. });
                self.state()
                    .restarts
                    .push(format!("{why}; a fresh copy did not start: {}", not.error));
                self.give_up(format!(
                    "needs a server that answers, which `{blame}` found broken (a fresh copy did not answer either: {})",
                    not.error
                ));
                false
            }
        }
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        if let Some(instance) = self.state().current.take() {
            instance.watch.stop();
            instance.process.stop();
        }
    }
}
