//! Starting the server being graded, sending it signals, and stopping it.
//!
//! The server runs in a process group of its own. That is what a terminal does
//! for a job, so "Ctrl-C" here means what it means there: SIGINT to the whole
//! group, to a `cargo run` and the server it started alike. It also means that
//! stopping the server stops everything it started, and that a Ctrl-C typed at
//! the grader's terminal does not reach the server directly.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::checks::Settings;

/// How much of the server's output to keep for the report, in lines.
const OUTPUT_LINES: usize = 40;

/// Process groups started and not stopped yet, so that an interrupted grader
/// can stop them all (see [`stop_all`]).
static LIVE_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A running copy of the server being graded.
#[derive(Debug)]
pub struct Instance {
    child: Mutex<Child>,
    /// The process group: the child's own pid, as it leads the group.
    pgid: u32,
    pub addr: SocketAddr,
    /// The command line, with its placeholders filled in.
    pub command: Vec<String>,
    output: Arc<(Mutex<Output>, Condvar)>,
    stopped: AtomicBool,
}

/// The end of what the server printed, and how many of its pipes are open.
#[derive(Debug, Default)]
struct Output {
    lines: Vec<String>,
    open_pipes: usize,
}

/// Why the server did not start.
#[derive(Debug)]
pub enum StartError {
    /// The program could not be run at all.
    Spawn { program: String, error: io::Error },
    /// The server exited before it accepted a connection.
    Exited { status: ExitStatus, output: String },
    /// The port did not accept connections in time.
    Timeout {
        addr: SocketAddr,
        waited: Duration,
        output: String,
    },
    /// No free port could be found.
    Port(io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Spawn { program, error } => write!(f, "cannot run `{program}`: {error}"),
            StartError::Exited { status, .. } => write!(
                f,
                "the server {} before it accepted a connection",
                describe_exit(*status)
            ),
            StartError::Timeout { addr, waited, .. } => write!(
                f,
                "the server did not accept connections on {addr} within {} s",
                waited.as_secs()
            ),
            StartError::Port(error) => write!(f, "no free port to give the server: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl StartError {
    /// The last lines the server printed, if any.
    pub fn output(&self) -> &str {
        match self {
            StartError::Exited { output, .. } | StartError::Timeout { output, .. } => output,
            _ => "",
        }
    }
}

impl Instance {
    /// Starts `template` with its placeholders filled in (`{port}`, `{root}`,
    /// and those of `settings` that have a value), and waits up to `startup`
    /// for its port to accept a connection.
    pub fn start(
        template: &[String],
        root: &Path,
        settings: &Settings,
        startup: Duration,
    ) -> Result<Instance, StartError> {
        let port = free_port().map_err(StartError::Port)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let root = root.to_string_lossy();
        let mut values = vec![("{port}", port.to_string()), ("{root}", root.into_owned())];
        if let Some(threads) = settings.threads {
            values.push((THREADS, threads.to_string()));
        }
        if let Some(queue) = settings.queue {
            values.push((QUEUE, queue.to_string()));
        }
        if let Some(seconds) = settings.keep_alive_timeout {
            values.push((KEEP_ALIVE_TIMEOUT, seconds.to_string()));
        }
        let command: Vec<String> = template
            .iter()
            .map(|arg| {
                values
                    .iter()
                    .fold(arg.clone(), |arg, (name, value)| arg.replace(name, value))
            })
            .collect();
        let (program, args) = command.split_first().expect("a command was given");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|error| StartError::Spawn {
                program: program.clone(),
                error,
            })?;
        let pgid = child.id();
        LIVE_GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pgid);
        let output = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        // Keep reading, or a chatty server would block once the pipe is full.
        keep_tail(child.stdout.take(), Arc::clone(&output));
        keep_tail(child.stderr.take(), Arc::clone(&output));
        let instance = Instance {
            child: Mutex::new(child),
            pgid,
            addr,
            command,
            output,
            stopped: AtomicBool::new(false),
        };
        instance.wait_until_accepting(startup)?;
        Ok(instance)
    }

    /// Polls the port until it accepts a connection. Polling is the only way:
    /// a server in any language owes us no "ready" message.
    fn wait_until_accepting(&self, startup: Duration) -> Result<(), StartError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                return Err(StartError::Exited {
                    status,
                    output: self.output(),
                });
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).is_ok() {
                return Ok(());
            }
            if started.elapsed() >= startup {
                return Err(StartError::Timeout {
                    addr: self.addr,
                    waited: startup,
                    output: self.output(),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`INT`, `TERM`, `KILL`) to the server's whole process
    /// group, with the `kill` command, as a terminal's Ctrl-C would.
    pub fn signal(&self, signal: &str) -> io::Result<()> {
        signal_group(self.pgid, signal)
    }

    /// The exit status, if the server has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_wait()
            .ok()
            .flatten()
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
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last lines the server printed, on stdout and stderr. Once the
    /// server has exited, waits (a little) for the last of its output to be
    /// read: the pipes are read on other threads, which may lag behind.
    pub fn output(&self) -> String {
        let (output, closed) = &*self.output;
        let mut output = output.lock().unwrap_or_else(PoisonError::into_inner);
        if self.exit_status().is_some() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while output.open_pipes > 0 {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                output = closed
                    .wait_timeout(output, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        output.lines.join("\n")
    }

    /// How many threads the server has: those of every process in its group,
    /// so that a `cargo run` and the server it started count together. `None`
    /// where the system has no `/proc` to count them in.
    pub fn threads(&self) -> Option<usize> {
        group_threads(self.pgid)
    }

    /// Kills the whole process group and reaps the server. Only the first call
    /// does anything: once the server is reaped, its process group id may be
    /// given to another process.
    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // The group may outlive its leader (a student's server may start
        // helpers), so it is killed whether or not the leader has exited.
        let _ = signal_group(self.pgid, "KILL");
        let _ = child.kill();
        let _ = child.wait();
        LIVE_GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&pgid| pgid != self.pgid);
    }
}

impl Drop for Instance {
    /// Stops the server on every path out of the grader, a panic included.
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills every server the grader has started and not stopped yet. For the
/// grader's own Ctrl-C handler: the servers are in groups of their own, so the
/// terminal's Ctrl-C does not reach them.
pub fn stop_all() {
    let groups = std::mem::take(&mut *LIVE_GROUPS.lock().unwrap_or_else(PoisonError::into_inner));
    for pgid in groups {
        let _ = signal_group(pgid, "KILL");
    }
}

/// The placeholders a command may hold besides `{port}` and `{root}`.
pub const THREADS: &str = "{threads}";
pub const QUEUE: &str = "{queue}";
pub const KEEP_ALIVE_TIMEOUT: &str = "{keep_alive_timeout}";

/// Whether threads can be counted here: Linux has a `/proc` folder per thread.
pub fn can_count_threads() -> bool {
    Path::new("/proc/self/task").is_dir()
}

/// The threads of every process in group `pgid`, from `/proc/PID/stat`.
fn group_threads(pgid: u32) -> Option<usize> {
    let mut total = None;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        // A process may end between listing and reading: skip it.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `PID (COMMAND) STATE PPID PGRP ... NUM_THREADS ...`: the command may
        // hold spaces and parentheses, so count fields after the last `)`.
        // Field 5 is the group, field 20 the number of threads (proc(5)).
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<usize>().ok());
        if field(5) == Some(pgid as usize) {
            *total.get_or_insert(0) += field(20).unwrap_or(0);
        }
    }
    total
}

/// How many connections wait, accepted by the kernel but not yet by the
/// server, on the listening socket at `port`: the `rx_queue` column of its
/// line in `/proc/net/tcp` (or `tcp6`), which for a listening socket is the
/// accept queue. `None` if it cannot be found.
pub fn accept_queue(port: u16) -> Option<usize> {
    let wanted = format!(":{port:04X}");
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx_queue:rx_queue ...; 0A is LISTEN.
            let [_, local, _, state, queues, ..] = fields[..] else {
                continue;
            };
            if state == "0A" && local.ends_with(&wanted) {
                let rx = queues.split(':').nth(1)?;
                return usize::from_str_radix(rx, 16).ok();
            }
        }
    }
    None
}

fn signal_group(pgid: u32, signal: &str) -> io::Result<()> {
    let status = Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "`kill -s {signal} -- -{pgid}` failed ({status})"
        )))
    }
}

/// "exited with status 1", "was killed by signal 2 (SIGINT)".
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => {
            let name = match signal {
                2 => " (SIGINT)",
                9 => " (SIGKILL)",
                15 => " (SIGTERM)",
                6 => " (SIGABRT)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        (None, None) => format!("ended ({status})"),
    }
}

/// Keeps the last [`OUTPUT_LINES`] lines of a pipe, and says when it closes.
fn keep_tail(pipe: Option<impl Read + Send + 'static>, output: Arc<(Mutex<Output>, Condvar)>) {
    let Some(pipe) = pipe else { return };
    output
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .open_pipes += 1;
    thread::spawn(move || {
        let (tail, closed) = &*output;
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
            if tail.lines.len() == OUTPUT_LINES {
                tail.lines.remove(0);
            }
            tail.lines.push(text);
            line.clear();
        }
        tail.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open_pipes -= 1;
        closed.notify_all();
    });
}

/// A port nobody is listening on, for the server to bind.
///
/// The port is chosen below the kernel's range for outgoing connections
/// (`ip_local_port_range`), not with `bind(0)`: ports in that range are handed
/// to every client socket on the machine, the grader's own included, and one of
/// them could take the port in the moment between our check and the server's
/// `bind`. Below the range, only another server could.
pub fn free_port() -> io::Result<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if low > 12_000 {
        let span = u64::from(low - 10_000);
        let mut seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos().into())
            ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for _ in 0..50 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let port = 10_000 + ((seed >> 33) % span) as u16;
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(port);
            }
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        ["sh", "-c", script].map(String::from).to_vec()
    }

    #[test]
    fn a_server_that_exits_early_is_reported_with_its_output() {
        let error = Instance::start(
            &sh("echo oops {port} >&2; exit 3"),
            Path::new("/"),
            &Settings::default(),
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(matches!(error, StartError::Exited { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            "the server exited with status 3 before it accepted a connection"
        );
        assert!(error.output().starts_with("oops "), "{}", error.output());
    }

    #[test]
    fn a_program_that_does_not_exist_is_a_clear_error() {
        let command = ["no-such-program-here".to_owned()];
        let error = Instance::start(
            &command,
            Path::new("/"),
            &Settings::default(),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot run `no-such-program-here`")
        );
    }

    #[test]
    fn a_port_that_never_opens_times_out() {
        let error = Instance::start(
            &sh("sleep 30"),
            Path::new("/"),
            &Settings::default(),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(error, StartError::Timeout { .. }), "{error}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_threads_of_a_process_group_are_counted() {
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let counted = group_threads(child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(counted, Some(1));
        assert_eq!(group_threads(u32::MAX), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_accept_queue_is_read_from_proc() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(accept_queue(port), Some(0));
        let _first = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _second = TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(accept_queue(port), Some(2));
        let _accepted = listener.accept().unwrap();
        assert_eq!(accept_queue(port), Some(1));
    }

    #[test]
    fn free_ports_are_free() {
        let port = free_port().unwrap();
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }
}
