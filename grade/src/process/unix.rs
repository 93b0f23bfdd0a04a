//! Unix: a process group, signals sent with `kill`, and counts from the
//! system's own sources (`/proc` on Linux, `proc_pidinfo` on macOS).

use std::ffi::OsStr;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};

use super::Signal;

#[cfg(target_os = "linux")]
pub use super::linux::{accept_queue, can_count_threads, connections, descriptors, group_pids};
#[cfg(target_os = "linux")]
pub use super::linux::{cpu_time, listening, thread_names, threads};
#[cfg(target_os = "macos")]
pub use super::macos::{accept_queue, can_count_threads, connections, descriptors, group_pids};
#[cfg(target_os = "macos")]
pub use super::macos::{cpu_time, listening, thread_names, threads};
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub use elsewhere::*;

/// A process group, led by the process started.
#[derive(Debug)]
pub struct Group {
    pgid: u32,
}

impl Group {
    /// The group `child` leads (it was started with [`in_own_group`]).
    pub fn adopt(child: &Child) -> io::Result<Group> {
        Ok(Group { pgid: child.id() })
    }

    /// Sends `signal` to the group, with the shell's `kill`. Not procps'
    /// `/usr/bin/kill`: its 4.0 releases read `-- -64` as a signal number
    /// and send nothing, for any group id below 99, and in a PID namespace
    /// (a container, grade-class's sandbox) the ids are that small.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        let name = match signal {
            Signal::Interrupt => "INT",
            Signal::Terminate => "TERM",
            Signal::Kill => "KILL",
        };
        let group = format!("-{}", self.pgid);
        let args = ["-c", "kill -s \"$0\" -- \"$1\"", name, &group].map(OsStr::new);
        let status = Command::new("sh")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "`kill -s {name} -- {group}` failed ({status})"
            )))
        }
    }

    /// Kills every process in the group. The group may outlive its leader (a
    /// student's server may start helpers), so this is sent whether or not
    /// the leader has exited.
    pub fn kill(&self) {
        let _ = self.signal(Signal::Kill);
    }

    /// The processes in the group; `None` if it has none, or they cannot be
    /// listed here.
    pub fn pids(&self) -> Option<Vec<u32>> {
        group_pids(self.pgid).filter(|pids| !pids.is_empty())
    }
}

/// Makes `command` start a process group of its own, with Ctrl-C's default.
///
/// A shell without job control starts a background command (`grade ... &`
/// in a script, a CI step's `&`) with SIGINT ignored, and an ignored signal
/// stays ignored across `exec`: every server the grader started would then
/// ignore its Ctrl-C (Python raises no KeyboardInterrupt, a server with no
/// handler is not stopped), and fail the Ctrl-C checks for the grader's
/// circumstances, not its own code. So the child takes SIGINT's default back
/// before it runs the server; a handler the server installs replaces it.
#[allow(unsafe_code)]
pub fn in_own_group(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe functions may be called; signal(2) is one (POSIX.1,
    // "Signal Concepts"), and nothing here allocates or takes a lock.
    unsafe {
        command.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.process_group(0)
}

/// "exited with status 1", "was killed by signal 2 (SIGINT)", and for the
/// signals a program dies of by its own fault, what that fault is: "was
/// killed by signal 13 (SIGPIPE: it wrote to a connection the client had
/// already closed)". The numbers are the same on Linux and macOS.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => {
            let name = match signal {
                2 => " (SIGINT)",
                9 => {
                    " (SIGKILL: killed outright, by the grader or by the system, out of memory perhaps)"
                }
                15 => " (SIGTERM)",
                4 => " (SIGILL: an illegal instruction, a Rust `abort` or a corrupted program)",
                6 => " (SIGABRT: it aborted, on a failed assertion or a double panic)",
                8 => " (SIGFPE: an arithmetic error, such as a division by zero)",
                10 if cfg!(target_os = "macos") => {
                    " (SIGBUS: it read or wrote memory it does not own)"
                }
                7 if cfg!(target_os = "linux") => {
                    " (SIGBUS: it read or wrote memory it does not own)"
                }
                11 => " (SIGSEGV: it read or wrote memory it does not own)",
                13 => {
                    " (SIGPIPE: it wrote to a connection the client had already closed; ignore SIGPIPE, and handle the write's error instead)"
                }
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        (None, None) => format!("ended ({status})"),
    }
}

/// Other Unix systems: nothing is counted, and the checks that count are
/// skipped, saying so.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod elsewhere {
    pub fn can_count_threads() -> bool {
        false
    }
    pub fn group_pids(_pgid: u32) -> Option<Vec<u32>> {
        None
    }
    pub fn threads(_pid: u32) -> Option<usize> {
        None
    }
    pub fn thread_names(_pid: u32) -> Option<Vec<String>> {
        None
    }
    pub fn descriptors(_pids: &[u32]) -> Option<usize> {
        None
    }
    pub fn connections(_pids: &[u32]) -> Option<usize> {
        None
    }
    pub fn listening(_pids: &[u32]) -> Option<Vec<std::net::SocketAddr>> {
        None
    }

    pub fn accept_queue(_port: u16) -> Option<usize> {
        None
    }
    pub fn cpu_time(_pid: u32) -> Option<std::time::Duration> {
        None
    }
}
