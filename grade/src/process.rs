//! Running a server under test: start it with its output captured, wait until
//! it accepts connections (or says it is ready), signal it, count its threads,
//! and stop it with everything it started.
//!
//! The server runs in a group of its own. That is what a terminal does for a
//! job, so "Ctrl-C" here means what it means there: the event reaches the
//! whole group, a `cargo run` and the server it started alike. It also means
//! that stopping the server stops everything it started, and that a Ctrl-C
//! typed at the grader's terminal does not reach the server directly.
//!
//! The grader runs the server it grades so, and the course's own tests run
//! the course's binary so. What differs by operating system is kept in the
//! submodules (`unix`, with its counts in `linux` and `macos`; `windows`),
//! behind one small interface, `sys::Group`:
//!
//! | | Linux | macOS | Windows |
//! |---|---|---|---|
//! | the group | a process group | a process group | a job object, the server in a hidden console of its own |
//! | Ctrl-C | SIGINT to the group | SIGINT to the group | `CTRL_C_EVENT` to the server's console, sent by a helper process |
//! | terminate | SIGTERM | SIGTERM | no equivalent for a console program: an error |
//! | kill | SIGKILL to the group | SIGKILL to the group | `TerminateJobObject` |
//! | threads, their names | `/proc/PID/task` | `proc_pidinfo` | Toolhelp32, `GetThreadDescription` |
//! | CPU time | `/proc/PID/stat` | `proc_pidinfo` | not read (see `windows::cpu_time`) |
//! | descriptors | `/proc/PID/fd` | `proc_pidinfo` | the system's handle table |
//! | connections | `/proc/PID/net/tcp` | not counted | `GetExtendedTcpTable` |
//! | accept queue | `/proc/net/tcp` | not read | not read |
//! | listening sockets | `/proc/PID/net/tcp` | not read | not read |
//!
//! Where a count cannot be had, it is `None`, and a check that needs it is
//! skipped with the reason.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// What [`Process::wait_until_accepting`] does to see that the server is up,
/// in words, for reports.
pub const READINESS_PROBE: &str = "a TCP connection opened and closed at once, with nothing sent, every 50 ms until one is accepted";

/// How long a server started again has to answer its readiness probe's
/// request ([`Process::wait_until_answering`]).
pub const ANSWER_READY: Duration = Duration::from_secs(5);

/// How long after a connection ends without an answer the server's exit is
/// looked for: a process that closes its sockets by exiting is seen to have
/// exited a few milliseconds later, longer on a busy machine.
const EXIT_SHOWS_WITHIN: Duration = Duration::from_secs(1);

/// How often the wait for a server looks at where it listens.
const LOOK_FOR_LISTENERS_EVERY: Duration = Duration::from_millis(500);

/// How long a server must listen elsewhere, and not on its port, before the
/// wait for it ends.
const ELSEWHERE_FOR: Duration = Duration::from_millis(1500);

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
#[allow(unsafe_code)]
mod windows;

#[cfg(unix)]
use unix as sys;
#[cfg(windows)]
use windows as sys;

/// Groups started and not stopped yet, so that an interrupted grader can stop
/// them all (see [`stop_all`]).
static LIVE_GROUPS: Mutex<Vec<Arc<sys::Group>>> = Mutex::new(Vec::new());

/// A running server, in a group of its own. Stopped when dropped.
#[derive(Debug)]
pub struct Process {
    child: Mutex<Child>,
    /// The process started: on Unix it leads the process group.
    pid: u32,
    group: Arc<sys::Group>,
    output: Arc<Output>,
    stopped: AtomicBool,
}

/// What the server printed, on stdout and stderr, line by line as it came.
#[derive(Debug, Default)]
struct Output {
    lines: Mutex<Lines>,
    /// Signalled on every new line, and when a pipe closes.
    changed: Condvar,
}

impl Output {
    /// Waits for a new line or a pipe to close, but not past `deadline`.
    fn wait<'a>(&self, lines: MutexGuard<'a, Lines>, deadline: Instant) -> MutexGuard<'a, Lines> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.changed
            .wait_timeout(lines, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }
}

#[derive(Debug, Default)]
struct Lines {
    /// The last lines, at most `keep` of them.
    kept: VecDeque<String>,
    keep: usize,
    /// How many lines came before the first one kept.
    dropped: usize,
    open_pipes: usize,
}

/// A signal to send to a server's group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C: SIGINT, or on Windows the console's `CTRL_C_EVENT`.
    Interrupt,
    /// SIGTERM, what `kill` and service managers send. Windows has no such
    /// request for a console program: sending it there is an error.
    Terminate,
    /// SIGKILL, which no process can catch (on Windows, ending the job).
    Kill,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The program could not be run at all.
    #[error("cannot run `{program}`: {error}")]
    Spawn { program: String, error: io::Error },
    /// The server exited before it accepted a connection.
    #[error("the server {} before it accepted a connection", describe_exit(*.status))]
    Exited { status: ExitStatus, output: String },
    /// The port did not accept connections in time.
    #[error("the server did not accept connections on {addr} within {} s", .waited.as_secs())]
    Timeout {
        addr: SocketAddr,
        waited: Duration,
        output: String,
    },
    /// No free port could be found.
    #[error("no free port to give the server: {0}")]
    Port(io::Error),
    /// The server listens, but not on the port it was given.
    #[error("the server listens on {}, not on port {} it was given", list(.listening), .addr.port())]
    Elsewhere {
        addr: SocketAddr,
        listening: Vec<SocketAddr>,
        output: String,
    },
    /// The port accepted connections, but a request got no answer.
    #[error("the server accepted a connection on {addr} but did not answer GET /index.html within {} s", .waited.as_secs())]
    NoAnswer {
        addr: SocketAddr,
        waited: Duration,
        output: String,
    },
}

/// Addresses in words: "127.0.0.1:8081 and [::]:8081".
fn list(addrs: &[SocketAddr]) -> String {
    let each: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    each.join(" and ")
}

impl StartError {
    /// The last lines the server printed, if any.
    pub fn output(&self) -> &str {
        match self {
            StartError::Exited { output, .. }
            | StartError::Timeout { output, .. }
            | StartError::Elsewhere { output, .. }
            | StartError::NoAnswer { output, .. } => output,
            _ => "",
        }
    }
}

impl Process {
    /// Starts `command` in a process group of its own, its stdin empty and its
    /// output read as it comes (or a chatty server would block once the pipe
    /// is full), keeping its last `keep` lines.
    pub fn start(mut command: Command, keep: usize) -> Result<Process, StartError> {
        let child = sys::in_own_group(&mut command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let spawn_error = |error| StartError::Spawn {
            program: command.get_program().to_string_lossy().into_owned(),
            error,
        };
        let mut child = child.map_err(spawn_error)?;
        let group = match sys::Group::adopt(&child) {
            Ok(group) => Arc::new(group),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(spawn_error(error));
            }
        };
        lock(&LIVE_GROUPS).push(Arc::clone(&group));
        let output = Arc::new(Output::default());
        lock(&output.lines).keep = keep;
        keep_reading(child.stdout.take(), Arc::clone(&output));
        keep_reading(child.stderr.take(), Arc::clone(&output));
        Ok(Process {
            pid: child.id(),
            child: Mutex::new(child),
            group,
            output,
            stopped: AtomicBool::new(false),
        })
    }

    /// The process id of the process started (on Unix, also its group's).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits up to `within` for `addr` to accept a connection (see
    /// [`READINESS_PROBE`]). Polling is the only way: a server in any
    /// language owes us no "ready" message. Where the server's sockets can be
    /// read (Linux), a server that listens somewhere else is told so within a
    /// few seconds, not when the wait is over.
    pub fn wait_until_accepting(
        &self,
        addr: SocketAddr,
        within: Duration,
    ) -> Result<(), StartError> {
        self.wait_until(addr, within).map(drop)
    }

    /// Waits, as [`Process::wait_until_accepting`] does, for a connection,
    /// and then asks for `/index.html` on it: the server is ready once it
    /// answers, with any HTTP response, within [`ANSWER_READY`]. The
    /// readiness probe of a server started again after one died or stopped
    /// answering: one whose last copy died of a connection that sent nothing
    /// must not be given another.
    pub fn wait_until_answering(
        &self,
        addr: SocketAddr,
        within: Duration,
    ) -> Result<(), StartError> {
        let mut stream = self.wait_until(addr, within)?;
        let request = crate::client::get_request(addr, "/index.html");
        let exchange =
            crate::client::exchange_on(&mut stream, &request, Instant::now() + ANSWER_READY);
        // Any answer will do, even one that is not HTTP a client can read:
        // the checks judge what it is.
        if exchange.reply().is_some() || exchange.answered_unreadably() {
            return Ok(());
        }
        // A server that serves only `/` answers too (`connects` says so).
        if exchange.received.is_empty() && exchange.hung_up() && self.exit_status().is_none() {
            let root = crate::client::exchange(
                addr,
                &crate::client::get_request(addr, "/"),
                Instant::now() + ANSWER_READY,
            );
            if root.reply().is_some() || root.answered_unreadably() {
                return Ok(());
            }
        }
        // A server that dies on the request closes the connection a moment
        // before its exit can be seen: give the exit that moment, so that a
        // death is told as one and not as a server that does not answer.
        if let Some(status) = self.wait_exit(EXIT_SHOWS_WITHIN) {
            return Err(StartError::Exited {
                status,
                output: self.output(),
            });
        }
        Err(StartError::NoAnswer {
            addr,
            waited: ANSWER_READY,
            output: self.output(),
        })
    }

    /// Polls until a connection to `addr` is made, and returns it.
    fn wait_until(&self, addr: SocketAddr, within: Duration) -> Result<TcpStream, StartError> {
        let started = Instant::now();
        // Where the server listens, when that is not `addr`, and since when:
        // a server may bind one port before another, so only an address held
        // for a while counts.
        let mut elsewhere: Option<(Vec<SocketAddr>, Instant)> = None;
        let mut looked = started;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(StartError::Exited {
                    status,
                    output: self.output(),
                });
            }
            if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                return Ok(stream);
            }
            if looked.elapsed() >= LOOK_FOR_LISTENERS_EVERY {
                looked = Instant::now();
                let listening = self.listening().unwrap_or_default();
                let ours = listening.iter().any(|at| at.port() == addr.port());
                match (&elsewhere, listening.is_empty() || ours) {
                    (_, true) => elsewhere = None,
                    (Some((before, since)), false) if *before == listening => {
                        if since.elapsed() >= ELSEWHERE_FOR {
                            return Err(StartError::Elsewhere {
                                addr,
                                listening,
                                output: self.output(),
                            });
                        }
                    }
                    (_, false) => elsewhere = Some((listening, Instant::now())),
                }
            }
            if started.elapsed() >= within {
                return Err(StartError::Timeout {
                    addr,
                    waited: within,
                    output: self.output(),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to `within` for a line of output that `find` finds something
    /// in, and returns it; `None` if no such line came before the time ran out
    /// or the server closed its output. Lines printed before the call count.
    pub fn wait_for_output<T>(
        &self,
        mut find: impl FnMut(&str) -> Option<T>,
        within: Duration,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        let mut lines = lock(&self.output.lines);
        // Lines are numbered from the first ever printed, so that none is
        // looked at twice however many have been dropped since.
        let mut next = lines.dropped;
        loop {
            let from = next.max(lines.dropped) - lines.dropped;
            if let Some(found) = lines.kept.range(from..).find_map(|line| find(line)) {
                return Some(found);
            }
            next = lines.dropped + lines.kept.len();
            if lines.open_pipes == 0 || Instant::now() >= deadline {
                return None;
            }
            lines = self.output.wait(lines, deadline);
        }
    }

    /// Sends `signal` to the server's whole group, as a terminal's Ctrl-C
    /// would. An error of kind `Unsupported` where the system has no such
    /// signal (SIGTERM on Windows).
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        self.group.signal(signal)
    }

    /// The exit status, if the server has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the server to exit.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The lines the server printed that were kept, on stdout and stderr
    /// together. Once the server has exited, waits (a little) for the last of
    /// its output to be read: the pipes are read on other threads, which may
    /// lag behind.
    pub fn output(&self) -> String {
        let mut lines = lock(&self.output.lines);
        if self.exit_status().is_some() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while lines.open_pipes > 0 && Instant::now() < deadline {
                lines = self.output.wait(lines, deadline);
            }
        }
        let kept: Vec<&str> = lines.kept.iter().map(String::as_str).collect();
        kept.join("\n")
    }

    /// How many threads the server has: those of every process in its group,
    /// so that a `cargo run` and the server it started count together.
    /// `None` where threads cannot be counted, or the group has no process.
    pub fn threads(&self) -> Option<usize> {
        let pids = self.group.pids()?;
        Some(pids.into_iter().filter_map(sys::threads).sum())
    }

    /// The names of the threads of every process in the group (the main
    /// thread's is the program's name on Linux, `main` elsewhere).
    pub fn thread_names(&self) -> Option<Vec<String>> {
        let pids = self.group.pids()?;
        let names: Vec<Vec<String>> = pids.into_iter().filter_map(sys::thread_names).collect();
        (!names.is_empty()).then(|| names.into_iter().flatten().collect())
    }

    /// The CPU time (user and system) the group's living processes have used
    /// since they started; `None` where it cannot be read.
    pub fn cpu_time(&self) -> Option<Duration> {
        let times: Vec<Duration> = self
            .group
            .pids()?
            .into_iter()
            .filter_map(sys::cpu_time)
            .collect();
        (!times.is_empty()).then(|| times.into_iter().sum())
    }

    /// How many files, sockets and pipes the group's processes have open (on
    /// Windows, how many handles of every kind).
    pub fn open_descriptors(&self) -> Option<usize> {
        let pids = self.group.pids()?;
        sys::descriptors(&pids)
    }

    /// How many TCP connections the group's processes have open, not counting
    /// listening sockets.
    pub fn open_connections(&self) -> Option<usize> {
        let pids = self.group.pids()?;
        sys::connections(&pids)
    }

    /// Kills the whole group and reaps the server. Only the first call does
    /// anything: once the server is reaped, its process group id may be given
    /// to another process.
    pub fn stop(&self) {
        let mut child = lock(&self.child);
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // The group may outlive its leader (a student's server may start
        // helpers), so it is killed whether or not the leader has exited.
        self.group.kill();
        let _ = child.kill();
        let _ = child.wait();
        lock(&LIVE_GROUPS).retain(|group| !Arc::ptr_eq(group, &self.group));
    }
}

impl Drop for Process {
    /// Stops the server on every path out, a panic included.
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills every server started and not stopped yet. For a Ctrl-C handler: the
/// servers are in groups of their own, so the terminal's Ctrl-C does not reach
/// them, and the process exits without running destructors.
pub fn stop_all() {
    let groups = std::mem::take(&mut *lock(&LIVE_GROUPS));
    for group in groups {
        group.kill();
    }
}

/// "exited with status 1", "was killed by signal 2 (SIGINT)", and on Windows
/// "was ended by Ctrl-C (exit code 0xC000013A)".
pub fn describe_exit(status: ExitStatus) -> String {
    sys::describe_exit(status)
}

/// Whether threads can be counted here at all.
pub fn can_count_threads() -> bool {
    sys::can_count_threads()
}

impl Process {
    /// The addresses the group's processes listen on (Linux only; `None`
    /// elsewhere, or when there is no process left).
    pub fn listening(&self) -> Option<Vec<SocketAddr>> {
        let pids = self.group.pids()?;
        sys::listening(&pids)
    }
}

/// How many connections wait, accepted by the kernel but not yet by the
/// server, on the listening socket at `port`. Read on Linux only (from
/// `/proc/net/tcp`); `None` if it cannot be found.
pub fn accept_queue(port: u16) -> Option<usize> {
    sys::accept_queue(port)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked holding one of these left it consistent: each
    // is changed in one step.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads a pipe line by line into `output`, and says when it closes.
fn keep_reading(pipe: Option<impl Read + Send + 'static>, output: Arc<Output>) {
    let Some(pipe) = pipe else { return };
    lock(&output.lines).open_pipes += 1;
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            let mut lines = lock(&output.lines);
            if lines.kept.len() == lines.keep {
                lines.kept.pop_front();
                lines.dropped += 1;
            }
            lines.kept.push_back(text);
            drop(lines);
            output.changed.notify_all();
            line.clear();
        }
        lock(&output.lines).open_pipes -= 1;
        output.changed.notify_all();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[cfg(unix)]
    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    /// A command started on a free port, and the wait for it to accept.
    fn start(command: Command, within: Duration) -> Result<Process, StartError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, crate::ports::free_port().unwrap()));
        let process = Process::start(command, 40)?;
        process.wait_until_accepting(addr, within)?;
        Ok(process)
    }

    // The tests below that run `sh` are Unix-only by nature: a Windows program
    // cannot start one (under Wine, not a Linux one either). On Windows the
    // same paths are covered by `cmd` below and by the server's own tests
    // (Ctrl-C, the job, the counts) in tests/daemon_join.rs and the rest.

    #[test]
    #[cfg(unix)]
    fn a_server_that_exits_early_is_reported_with_its_output() {
        let error = start(sh("echo oops >&2; exit 3"), Duration::from_secs(60)).unwrap_err();
        assert!(matches!(error, StartError::Exited { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            "the server exited with status 3 before it accepted a connection"
        );
        assert!(error.output().starts_with("oops"), "{}", error.output());
    }

    /// A grader whose own Ctrl-C is ignored (started as `grade ... &` by a
    /// shell without job control, as a test binary may be) still starts
    /// servers that Ctrl-C stops: an ignored signal would be inherited.
    #[test]
    #[cfg(unix)]
    #[allow(unsafe_code)]
    fn ctrl_c_reaches_a_server_though_the_grader_ignores_it() {
        // SAFETY: signal(2) sets this process's disposition of SIGINT, which
        // no other test relies on; the one before is put back below.
        let before = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
        let process = Process::start(sh("echo ready; exec sleep 30"), 40).unwrap();
        let ready = process.wait_for_output(
            |line| (line == "ready").then_some(()),
            Duration::from_secs(60),
        );
        process.signal(Signal::Interrupt).unwrap();
        let status = process.wait_exit(Duration::from_secs(60));
        // SAFETY: as above.
        unsafe { libc::signal(libc::SIGINT, before) };
        assert_eq!(ready, Some(()));
        let status = status.expect("Ctrl-C stops it");
        assert_eq!(describe_exit(status), "was killed by signal 2 (SIGINT)");
    }

    #[test]
    fn a_program_that_does_not_exist_is_a_clear_error() {
        let error =
            start(Command::new("no-such-program-here"), Duration::from_secs(1)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot run `no-such-program-here`")
        );
    }

    #[test]
    #[cfg(windows)]
    fn a_server_that_exits_early_is_reported_with_its_exit_code() {
        let mut command = Command::new("cmd");
        command.args(["/c", "echo oops 1>&2 & exit 3"]);
        let error = start(command, Duration::from_secs(60)).unwrap_err();
        assert!(matches!(error, StartError::Exited { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            "the server exited with status 3 before it accepted a connection"
        );
        assert!(error.output().starts_with("oops"), "{}", error.output());
    }

    #[test]
    #[cfg(unix)]
    fn a_port_that_never_opens_times_out() {
        let error = start(sh("sleep 30"), Duration::from_millis(300)).unwrap_err();
        assert!(matches!(error, StartError::Timeout { .. }), "{error}");
    }

    #[test]
    #[cfg(unix)]
    fn output_is_waited_for_line_by_line_and_only_the_last_lines_kept() {
        // One pipe only: lines of stdout and stderr may be read in any order.
        let process = Process::start(sh("echo one; echo two; echo ready 42; sleep 30"), 2).unwrap();
        let found = process.wait_for_output(
            |line| line.strip_prefix("ready ")?.parse::<u16>().ok(),
            Duration::from_secs(60),
        );
        assert_eq!(found, Some(42));
        // Lines already printed count; a line that was dropped is not found.
        let two = process.wait_for_output(|line| (line == "two").then_some(()), Duration::ZERO);
        assert_eq!(two, Some(()));
        let one = process.wait_for_output(|line| (line == "one").then_some(()), Duration::ZERO);
        assert_eq!(one, None);
        assert_eq!(process.output(), "two\nready 42");
        // Once the output closes, there is nothing more to wait for.
        process.stop();
        let started = Instant::now();
        let never = process.wait_for_output(
            |line| (line == "never").then_some(()),
            Duration::from_secs(60),
        );
        assert_eq!(never, None);
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    #[cfg(unix)]
    fn a_signal_reaches_the_group_and_stop_ends_all_of_it() {
        // The shell leads the group and catches Ctrl-C; the sleeper it starts
        // in the background ignores it (as a non-interactive shell's
        // background jobs do), and outlives the shell in the group.
        let process = Process::start(
            sh("trap 'echo got INT; exit 5' INT; sleep 30 & echo ready; wait"),
            40,
        )
        .unwrap();
        let ready = process.wait_for_output(
            |line| (line == "ready").then_some(()),
            Duration::from_secs(60),
        );
        assert_eq!(ready, Some(()));
        process.signal(Signal::Interrupt).unwrap();
        let status = process
            .wait_exit(Duration::from_secs(60))
            .expect("it exits");
        assert_eq!(describe_exit(status), "exited with status 5");
        assert_eq!(process.output(), "ready\ngot INT");
        if can_count_threads() {
            assert_eq!(process.threads(), Some(1), "the sleeper is left");
            process.stop();
            // The sleeper is reaped by init, a moment after it is killed.
            let deadline = Instant::now() + Duration::from_secs(30);
            while process.threads().is_some() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(process.threads(), None, "stop kills the whole group");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_threads_and_descriptors_of_a_process_group_are_counted() {
        let plain = Process::start(sh("exec sleep 30"), 40).unwrap();
        let two_more =
            Process::start(sh("exec 7</dev/null 8</dev/null; exec sleep 30"), 40).unwrap();
        // The shell may not have reached `exec` yet: wait for its name to change.
        for process in [&plain, &two_more] {
            let deadline = Instant::now() + Duration::from_secs(30);
            while process.thread_names() != Some(vec!["sleep".to_owned()])
                && Instant::now() < deadline
            {
                thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(process.thread_names(), Some(vec!["sleep".to_owned()]));
            assert_eq!(process.threads(), Some(1));
            assert_eq!(process.open_connections(), Some(0));
        }
        let count = |process: &Process| process.open_descriptors().unwrap();
        assert_eq!(count(&two_more), count(&plain) + 2);
        plain.stop();
        assert_eq!(plain.threads(), None, "no process is left in the group");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_accept_queue_is_read_from_proc() {
        use std::net::TcpListener;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(accept_queue(port), Some(0));
        let _first = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _second = TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(accept_queue(port), Some(2));
        let _accepted = listener.accept().unwrap();
        assert_eq!(accept_queue(port), Some(1));
    }
}
