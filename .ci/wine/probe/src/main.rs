//! Tries, one at a time, each thing the course's Windows port would lean on,
//! and prints a line per probe with what was seen: `works`; `differs` (Wine
//! does it, but not as Windows does); `fails` (worth knowing, not needed);
//! `FAILS` (needed: the port's tests cannot run under Wine without it).
//!
//! Built for `x86_64-pc-windows-gnu` and run under Wine, it says what a CI
//! machine without Windows can test, and exits non-zero on any `FAILS`.
//! Arguments pick the probes whose names contain one of them.
//!
//! The same executable is its own child process: `wine-probe child <mode>`
//! runs one of the small programs in [`child`] that the process probes start.

mod net;
#[cfg(windows)]
mod process;
#[cfg(windows)]
mod system;

use std::fmt::Display;
use std::time::Instant;

/// What a probe saw: `Ok` with the details when it worked, `Err` with what
/// went wrong when it did not.
pub type Seen = Result<Saw, String>;

pub enum Saw {
    /// As Windows does it.
    Works(String),
    /// Wine does it, but not the way Windows does: a test that passes under
    /// Wine proves less here.
    Differs(String),
}

pub fn works(detail: String) -> Seen {
    Ok(Saw::Works(detail))
}

pub fn differs(detail: String) -> Seen {
    Ok(Saw::Differs(detail))
}

/// `?` for probes: any error becomes the message, after what was being done.
pub trait Context<T> {
    fn context(self, doing: &str) -> Result<T, String>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, doing: &str) -> Result<T, String> {
        self.map_err(|error| format!("{doing}: {error}"))
    }
}

/// Fails the probe with `message` unless `holds`.
pub fn ensure(holds: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(message()) }
}

/// How much a probe matters to the port.
#[derive(Clone, Copy, PartialEq)]
enum Weight {
    /// The port's tests need it under Wine: a failure fails the run.
    Needed,
    /// Worth knowing either way (a Linux program started from Windows, a
    /// console event with no console); a failure is reported, not counted.
    Informational,
}

struct Probe {
    name: &'static str,
    weight: Weight,
    run: fn() -> Seen,
}

const fn needed(name: &'static str, run: fn() -> Seen) -> Probe {
    Probe {
        name,
        weight: Weight::Needed,
        run,
    }
}

const fn informational(name: &'static str, run: fn() -> Seen) -> Probe {
    Probe {
        name,
        weight: Weight::Informational,
        run,
    }
}

fn probes() -> Vec<Probe> {
    // Built for Linux too, to compare: there only the socket probes run.
    #[cfg_attr(not(windows), allow(unused_mut))]
    let mut probes = vec![
        needed(
            "tcp: bind 127.0.0.1:0, connect, accept, echo",
            net::loopback,
        ),
        needed("tcp: read timeout", net::read_timeout),
        needed("tcp: write timeout", net::write_timeout),
        needed(
            "tcp: shutdown(Write) is an end of file",
            net::shutdown_write,
        ),
        needed("tcp: nonblocking accept and read", net::nonblocking),
        needed("tcp: 1000 connections open at once", net::many_connections),
        informational("tcp: connect to a closed port", net::connect_refused),
        informational("socket2: SO_REUSEADDR on a port in use", net::reuse_address),
        needed("mio: readiness loop, 50 clients echoed", net::mio_echo),
        needed("mio: Waker from another thread", net::mio_waker),
        needed(
            "mio: park a std stream, serve it blocking, park again",
            net::mio_park,
        ),
    ];
    #[cfg(windows)]
    probes.extend([
        needed(
            "process: child .exe, piped output, exit code",
            process::child_output,
        ),
        needed("process: kill a child", process::kill),
        informational(
            "process: start a Linux program (python3)",
            process::linux_program,
        ),
        informational("process: cmd /c", process::cmd),
        needed(
            "process: job object holds a tree, terminates it",
            process::job_object,
        ),
        informational("console: attached to one?", process::console),
        informational("ctrl: CTRL_BREAK to a new group", process::ctrl_break),
        informational("ctrl: CTRL_C to a new group", process::ctrl_c),
        informational(
            "ctrl: CTRL_C to a new group that turned it on",
            process::ctrl_c_enabled,
        ),
        informational(
            "ctrl: CTRL_C through a new console",
            process::ctrl_c_new_console,
        ),
        informational(
            "ctrl: CTRL_C through a hidden console",
            process::ctrl_c_hidden_console,
        ),
        informational(
            "ctrl: CTRL_C to a program with no handler",
            process::ctrl_c_no_handler,
        ),
        informational(
            "ctrl: CTRL_C from this process, attached",
            process::ctrl_c_in_process,
        ),
        informational("console: a console of our own", process::own_console),
        informational("ctrl: CTRL_BREAK, own console", process::ctrl_break),
        informational(
            "ctrl: CTRL_C, own console, turned on",
            process::ctrl_c_enabled,
        ),
        needed("threads: counted by Toolhelp32", system::toolhelp_threads),
        needed(
            "threads: counted by NtQuerySystemInformation",
            system::nt_threads,
        ),
        needed("threads: of a child process", system::child_threads),
        informational("handles: counted", system::handle_count),
        needed("threads: 500 spawned and joined", system::many_threads),
        informational("available_parallelism", system::parallelism),
        needed("fs: metadata of a file and a folder", system::metadata),
        informational("fs: canonicalize", system::canonicalize),
        informational("fs: names Windows reads differently", system::windows_names),
        informational("fs: symlinks", system::symlinks),
    ]);
    probes
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
    }
    // Any arguments pick the probes whose names contain one of them.
    let mut failed = 0;
    for probe in probes() {
        if !args.is_empty() && !args.iter().any(|word| probe.name.contains(word.as_str())) {
            continue;
        }
        let started = Instant::now();
        let seen = (probe.run)();
        let ms = started.elapsed().as_millis();
        let (verdict, detail) = match (&seen, probe.weight) {
            (Ok(Saw::Works(detail)), _) => ("works", detail),
            (Ok(Saw::Differs(detail)), _) => ("differs", detail),
            (Err(detail), Weight::Needed) => {
                failed += 1;
                ("FAILS", detail)
            }
            (Err(detail), Weight::Informational) => ("fails", detail),
        };
        println!("{verdict:7} {name} ({ms} ms): {detail}", name = probe.name);
    }
    if failed > 0 {
        eprintln!("{failed} needed probe(s) failed");
        std::process::exit(1);
    }
}

/// The child processes the process probes start.
fn child(args: &[String]) -> ! {
    use std::io::Write;
    use std::time::Duration;
    match args.first().map(String::as_str) {
        // Something on each pipe, and an exit code that is not 0 or 1.
        Some("echo") => {
            print!("to stdout");
            eprint!("to stderr");
            std::process::exit(7);
        }
        Some("sleep") => {
            std::thread::sleep(Duration::from_secs(60));
            std::process::exit(0);
        }
        // Parks `n` threads, says so, and waits to be killed.
        Some("threads") => {
            let n: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1);
            for _ in 0..n {
                std::thread::spawn(|| std::thread::sleep(Duration::from_secs(60)));
            }
            println!("ready");
            std::io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_secs(60));
            std::process::exit(0);
        }
        // Starts a grandchild that sleeps, prints its pid, and sleeps too.
        Some("tree") => {
            let exe = std::env::current_exe().unwrap();
            let grandchild = std::process::Command::new(exe)
                .args(["child", "sleep"])
                .spawn()
                .unwrap();
            println!("{}", grandchild.id());
            std::io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_secs(60));
            std::process::exit(0);
        }
        // What a server with a Ctrl-C handler does: waits for the event, says
        // so and exits 0; exits 3 if none came. `ctrlc on` first turns Ctrl-C
        // back on, which a new process group starts with off.
        Some("ctrlc") => {
            #[cfg(windows)]
            if args.get(1).map(String::as_str) == Some("on") {
                process::enable_ctrl_c();
            }
            let (tx, rx) = std::sync::mpsc::channel();
            ctrlc::set_handler(move || {
                let _ = tx.send(());
            })
            .unwrap();
            println!("ready");
            std::io::stdout().flush().unwrap();
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(()) => {
                    println!("caught");
                    std::process::exit(0);
                }
                Err(_) => std::process::exit(3),
            }
        }
        #[cfg(windows)]
        Some("send-ctrl-c") => {
            let pid = args.get(1).and_then(|pid| pid.parse().ok()).unwrap_or(0);
            std::process::exit(process::send_ctrl_c(pid));
        }
        other => {
            eprintln!("unknown child mode {other:?}");
            std::process::exit(2);
        }
    }
}
