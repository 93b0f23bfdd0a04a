//! Running the checks: in phases, each check on a thread of its own, each
//! given up on at its time limit, and every server the grader started stopped
//! on every way out.

use std::net::{Ipv4Addr, SocketAddr};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::check::{self, Failure, Mode, Need, Settings};
use crate::checks::{self, Check};
use crate::fixture::Fixture;
use crate::process::{self, Process, StartError};
use crate::report::{CheckResult, Verdict};
use crate::watch::Watch;

/// Extra time the runner gives a check beyond its limit before giving up on it:
/// a check ends its own socket operations by its deadline and reports what it
/// saw, which says more than "timed out".
const GRACE: Duration = Duration::from_secs(2);

/// When to remind, while waiting for a server to accept, that it may be
/// listening on another port (a compiling `cargo run` takes longer, and the
/// reminder says so without giving up).
const REMIND_AFTER: Duration = Duration::from_secs(10);

/// How much of a server's output to keep for the report, in lines.
const OUTPUT_LINES: usize = 40;

/// A server the grader started from the command.
pub struct Started {
    pub process: Arc<Process>,
    pub addr: SocketAddr,
    /// The command line, with its placeholders filled in.
    pub command: Vec<String>,
}

impl Started {
    /// Starts `template` on a free port, with its placeholders filled in
    /// (`{port}`, `{root}`, and those of `settings` that have a value), and
    /// waits up to `startup` for the port to accept a connection.
    pub fn start(
        template: &[String],
        root: &Path,
        settings: &Settings,
        startup: Duration,
        progress: bool,
    ) -> Result<Started, NotStarted> {
        let port = process::free_port().map_err(|error| NotStarted {
            error: StartError::Port(error),
            command: template.to_vec(),
        })?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut values = vec![
            (check::PORT, port.to_string()),
            (check::ROOT, root.to_string_lossy().into_owned()),
        ];
        if let Some(threads) = settings.threads {
            values.push((check::THREADS, threads.to_string()));
        }
        if let Some(queue) = settings.queue {
            values.push((check::QUEUE, queue.to_string()));
        }
        if let Some(seconds) = settings.keep_alive_timeout {
            values.push((check::KEEP_ALIVE_TIMEOUT, seconds.to_string()));
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
        let mut line = Command::new(program);
        line.args(args);
        let not_started = |error| NotStarted {
            error,
            command: command.clone(),
        };
        // Dropped, and so stopped, if it does not start to accept in time.
        let process = Process::start(line, OUTPUT_LINES).map_err(not_started)?;
        // Dropped when the wait is over, which ends the reminder's thread.
        let (_waiting, reminder) = mpsc::channel::<()>();
        if progress {
            thread::spawn(move || {
                if reminder.recv_timeout(REMIND_AFTER) == Err(mpsc::RecvTimeoutError::Timeout) {
                    eprintln!(
                        "still waiting after {} s: nothing accepts connections on {addr} yet; is the server listening on 127.0.0.1 at the port it was given ({port})?",
                        REMIND_AFTER.as_secs()
                    );
                }
            });
        }
        process
            .wait_until_accepting(addr, startup)
            .map_err(not_started)?;
        Ok(Started {
            process: Arc::new(process),
            addr,
            command,
        })
    }
}

/// A server that did not start: why, and the command line as it was run
/// (placeholders filled in), for the report.
pub struct NotStarted {
    pub error: StartError,
    pub command: Vec<String>,
}

/// Stops its servers when dropped.
pub struct StopOnDrop(pub Vec<Arc<Process>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for process in &self.0 {
            process.stop();
        }
    }
}

/// One check to run, and on which server.
pub struct Job {
    pub check: &'static Check,
    pub addr: SocketAddr,
    pub server: Option<Arc<Process>>,
    pub watched: Option<Arc<Process>>,
    /// Where the check says which step it is at, for the watched server.
    pub watch: Option<Arc<Watch>>,
    pub settings: Settings,
}

/// Runs the `runnable` checks that share one server, phase by phase (see
/// [`Mode`]), and returns a result for each of `checks`: the others, and the
/// [`Mode::OwnServer`] checks, are left to the caller, marked as skipped.
pub fn run_phases(
    checks: &[&'static Check],
    runnable: &[&'static Check],
    addr: SocketAddr,
    site: &Arc<Fixture>,
    watched: Option<(&Arc<Process>, &Arc<Watch>)>,
    settings: Settings,
) -> Vec<CheckResult> {
    let mut results: Vec<CheckResult> = checks
        .iter()
        .map(|check| CheckResult {
            check,
            verdict: Verdict::Skip(String::new()),
            took: Duration::ZERO,
            notes: Vec::new(),
        })
        .collect();
    let job = |check: &'static Check| Job {
        check,
        addr,
        server: None,
        watched: watched.map(|(server, _)| Arc::clone(server)),
        watch: watched.map(|(_, watch)| Arc::clone(watch)),
        settings,
    };
    let in_mode = |mode| {
        runnable
            .iter()
            .copied()
            .filter(move |check| check.mode == mode)
    };
    let mut batches = vec![in_mode(Mode::Shared).map(job).collect::<Vec<_>>()];
    batches.extend(in_mode(Mode::Alone).map(|check| vec![job(check)]));
    // The latest stage's risky checks first: stage 1's "still serves after bad
    // clients" comes last, and so also sees whether a later check brought the
    // server down.
    batches.extend(in_mode(Mode::Risky).rev().map(|check| vec![job(check)]));
    for batch in batches {
        for finished in run_batch(batch, site) {
            record(&mut results, finished);
        }
    }
    results
}

/// Puts a finished check's verdict, time and notes in `results`.
pub fn record(results: &mut [CheckResult], finished: Finished) {
    if let Some(result) = results
        .iter_mut()
        .find(|result| result.check.id == finished.check.id)
    {
        result.verdict = finished.verdict;
        result.took = finished.took;
        result.notes = finished.notes;
    }
}

pub fn set_result(
    results: &mut [CheckResult],
    check: &'static Check,
    verdict: Verdict,
    took: Duration,
) {
    if let Some(result) = results
        .iter_mut()
        .find(|result| result.check.id == check.id)
    {
        result.verdict = verdict;
        result.took = took;
    }
}

/// A check that has run: its verdict, how long it took, and its notes.
pub struct Finished {
    pub check: &'static Check,
    pub verdict: Verdict,
    pub took: Duration,
    pub notes: Vec<String>,
}

/// Runs `jobs` at the same time, each on a thread of its own, and waits for
/// each no longer than its time limit (plus [`GRACE`]). A check still running
/// then fails; its thread is left to finish on its own, which it does by its
/// deadline, or when its server is stopped.
pub fn run_batch(jobs: Vec<Job>, site: &Arc<Fixture>) -> Vec<Finished> {
    let (done, results) = mpsc::channel();
    let mut pending = Vec::new();
    for job in jobs {
        let check = job.check;
        let limit = limit_of(check, &job.settings);
        let started = Instant::now();
        let probe = checks::Probe {
            addr: job.addr,
            site: Arc::clone(site),
            deadline: started + limit,
            server: job.server,
            watched: job.watched,
            watch: job.watch,
            check: check.id,
            settings: job.settings,
            notes: Default::default(),
        };
        if let Some(watch) = &probe.watch {
            watch.begin(check.id);
        }
        let sender = done.clone();
        let spawned = thread::Builder::new()
            .name(format!("check {}", check.id))
            .spawn(move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| (check.run)(&probe)));
                if let Some(watch) = &probe.watch {
                    watch.end(check.id);
                }
                let notes = std::mem::take(
                    &mut *probe
                        .notes
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                );
                let verdict = match outcome {
                    Ok(Ok(())) => Verdict::Pass,
                    Ok(Err(failure)) => Verdict::Fail(failure),
                    Err(_) => Verdict::Fail(Failure::new(
                        "the check itself panicked; this is a bug in the grader",
                    )),
                };
                let _ = sender.send((check.id, verdict, started.elapsed(), notes));
            });
        match spawned {
            Ok(_) => pending.push((check, limit, started + limit + GRACE)),
            Err(error) => {
                let _ = done.send((
                    check.id,
                    Verdict::Fail(Failure::new(format!("no thread to run it: {error}"))),
                    Duration::ZERO,
                    Vec::new(),
                ));
                pending.push((check, limit, Instant::now() + GRACE));
            }
        }
    }
    drop(done);
    let mut finished = Vec::new();
    while let Some(next_deadline) = pending.iter().map(|(_, _, deadline)| *deadline).min() {
        let wait = next_deadline.saturating_duration_since(Instant::now());
        match results.recv_timeout(wait) {
            Ok((id, verdict, took, notes)) => {
                if let Some(at) = pending.iter().position(|(check, _, _)| check.id == id) {
                    let (check, _, _) = pending.remove(at);
                    finished.push(Finished {
                        check,
                        verdict,
                        took,
                        notes,
                    });
                }
            }
            Err(_) => {
                let now = Instant::now();
                pending.retain(|(check, limit, deadline)| {
                    if *deadline > now {
                        return true;
                    }
                    let failure = Failure::new(format!(
                        "no result within its time limit of {} s: the server stopped answering",
                        limit.as_secs()
                    ));
                    finished.push(Finished {
                        check,
                        verdict: Verdict::Fail(failure),
                        took: *limit,
                        notes: Vec::new(),
                    });
                    false
                });
            }
        }
    }
    finished
}

/// A check's time limit: its own, plus the keep-alive timeout if it waits for it.
fn limit_of(check: &Check, settings: &Settings) -> Duration {
    let waits = match settings.keep_alive_timeout {
        Some(seconds) if check.needs.contains(&Need::KeepAliveTimeout) => seconds,
        _ => 0,
    };
    check.limit + Duration::from_secs(waits)
}

/// Every check's verdict when the server never started: `connects` failed,
/// the rest could not run.
pub fn not_started(checks: &[&'static Check], error: &StartError) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|check| CheckResult {
            check,
            verdict: if check.id == "connects" {
                Verdict::Fail(start_failure(error))
            } else {
                Verdict::Skip("the server did not start".to_owned())
            },
            took: Duration::ZERO,
            notes: Vec::new(),
        })
        .collect()
}

pub fn start_failure(error: &StartError) -> Failure {
    let failure = Failure::new(error.to_string());
    match error {
        StartError::Spawn { error, .. } if error.kind() == std::io::ErrorKind::PermissionDenied => {
            failure.hint("The file is there but may not be run: make it executable (`chmod +x FILE`), or run it through its interpreter (`python3 FILE`, `sh FILE`).")
        }
        StartError::Spawn { error, .. } if error.kind() == std::io::ErrorKind::NotFound => failure
            .hint("Check the command: the program must be on the PATH, or given by its path."),
        StartError::Spawn { .. } => failure,
        StartError::Port(_) => failure,
        StartError::Exited { .. } | StartError::Timeout { .. } => {
            let output = match error.output() {
                "" => "no output".to_owned(),
                output => format!("its last output:\n{output}"),
            };
            let failure = failure.received(output);
            if matches!(error, StartError::Timeout { .. }) {
                failure.hint("Is it listening on 127.0.0.1 at the port given as {port}? If it compiles first, allow more time with --startup-timeout.")
            } else {
                failure
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use course::Stage;

    fn hangs(_: &checks::Probe) -> Result<(), Failure> {
        thread::sleep(Duration::from_secs(600));
        Ok(())
    }

    fn panics(_: &checks::Probe) -> Result<(), Failure> {
        panic!("a bug in a check");
    }

    static HANGS: Check = Check {
        id: "hangs",
        stage: Stage::SingleThreaded,
        title: "never returns",
        limit: Duration::from_millis(100),
        mode: Mode::Shared,
        needs: &[],
        hint: "",
        run: hangs,
    };

    static PANICS: Check = Check {
        id: "panics",
        run: panics,
        ..HANGS
    };

    #[test]
    fn a_check_that_never_returns_fails_at_its_time_limit() {
        let site = Arc::new(Fixture::temporary(false).unwrap());
        let job = |check| Job {
            check,
            addr: SocketAddr::from(([127, 0, 0, 1], 9)),
            server: None,
            watched: None,
            watch: None,
            settings: Settings::default(),
        };
        let started = Instant::now();
        let results = run_batch(vec![job(&HANGS), job(&PANICS)], &site);
        // The hanging check still holds the site; remove it now, as `run` does.
        site.remove();
        assert!(started.elapsed() < HANGS.limit + GRACE + Duration::from_secs(5));
        for Finished { check, verdict, .. } in results {
            let Verdict::Fail(failure) = verdict else {
                panic!("{} did not fail", check.id)
            };
            let expected = match check.id {
                "hangs" => "no result within its time limit",
                _ => "the check itself panicked",
            };
            assert!(failure.problem.starts_with(expected), "{}", failure.problem);
        }
    }
}
