//! `multithreaded-server grade`: a black-box grader for a web server in any
//! language, stage by stage.
//!
//! The same checks grade the course's own stages in `cargo test`
//! (`tests/grading.rs`), the starter projects in `exercises/`, and a student's
//! submission from the command line, so every check is proven on a working
//! server every day, and on a deliberately broken one too.
//!
//! | module | job |
//! |---|---|
//! | [`fixture`] | write a fresh site with random contents, and a sentinel beside it |
//! | [`client`] | send raw bytes, read with a deadline, describe what came back |
//! | [`checks`] | the checks, each with its stage, time limit, needs and hint |
//! | [`server`] | start the server in its own process group, signal it, count its threads, stop it |
//! | [`report`] | the coloured checklist and the JSON object |
//!
//! ```no_run
//! use multithreaded_server::grade::Grader;
//! use multithreaded_server::Stage;
//!
//! let report = Grader::command(["python3", "server.py", "{port}", "{root}"])
//!     .stage(Stage::ThreadPerClient)
//!     .run()?;
//! print!("{report}");
//! assert!(report.passed());
//! # Ok::<(), multithreaded_server::grade::SetupError>(())
//! ```

pub mod checks;
pub mod client;
pub mod fixture;
pub mod report;
pub mod server;

use std::fmt;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub use checks::{CHECKS, Check, Failure, Mode, Need, Settings};
pub use fixture::{Fixture, FixtureError};
pub use report::{CheckResult, Report, Verdict};
pub use server::{Instance, StartError};

use crate::cli::GradeArgs;
use crate::stages::Stage;

/// Extra time the runner gives a check beyond its limit before giving up on it:
/// a check ends its own socket operations by its deadline and reports what it
/// saw, which says more than "timed out".
const GRACE: Duration = Duration::from_secs(2);

/// Generous, because the first `cargo run` of a submission compiles it.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// What the grader puts in the command for `{threads}`: few workers, so that a
/// few slow clients keep them all busy. (Four is the fewest with which stage
/// 2's `reverse-order` check can pass: four connections open at once.)
pub const DEFAULT_THREADS: usize = 4;
/// What the grader puts in the command for `{queue}`: enough for the short
/// checks that run at the same time, so that only the checks that fill the
/// queue on purpose meet a full one.
pub const DEFAULT_QUEUE: usize = 16;
/// What the grader puts in the command for `{keep_alive_timeout}`, in seconds:
/// short, so that the check that waits for it does not wait long.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: u64 = 2;

/// The server to grade.
#[derive(Clone, Debug)]
pub enum Target {
    /// A command that starts it; `{port}` and `{root}` are filled in, and
    /// `{threads}`, `{queue}` and `{keep_alive_timeout}` where they appear.
    Command(Vec<String>),
    /// A server already running at `addr`, serving `root` (an empty folder the
    /// grader writes its site into).
    Running { addr: SocketAddr, root: PathBuf },
}

/// A grading run, set up with the builder methods and started with [`Grader::run`].
#[derive(Clone, Debug)]
pub struct Grader {
    target: Target,
    stage: Stage,
    startup_timeout: Duration,
    progress: bool,
    /// The settings given with the builder methods: in command mode they
    /// replace the defaults above; with a running server they are what it uses.
    given: Settings,
}

/// Why grading could not start. (A server that fails to start is not one of
/// these: that is a failed check, in the report.)
#[derive(Debug)]
pub enum SetupError {
    /// The command has no `{port}` or no `{root}` to fill in.
    Placeholder(&'static str),
    /// The site could not be written.
    Fixture(FixtureError),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Placeholder(name) => write!(
                f,
                "the server command has no {name}; write it where the server expects it, e.g. `-- python3 server.py {{port}} {{root}}`"
            ),
            SetupError::Fixture(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<FixtureError> for SetupError {
    fn from(error: FixtureError) -> SetupError {
        SetupError::Fixture(error)
    }
}

impl Grader {
    /// Grades the server that `command` starts.
    pub fn command<I, S>(command: I) -> Grader
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Grader::new(Target::Command(
            command.into_iter().map(Into::into).collect(),
        ))
    }

    /// Grades a server already running at `addr` and serving `root`.
    pub fn running(addr: SocketAddr, root: impl Into<PathBuf>) -> Grader {
        Grader::new(Target::Running {
            addr,
            root: root.into(),
        })
    }

    fn new(target: Target) -> Grader {
        Grader {
            target,
            stage: Stage::SingleThreaded,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            progress: false,
            given: Settings::default(),
        }
    }

    /// The number of workers: what `{threads}` becomes in the command
    /// ([`DEFAULT_THREADS`] unless set), or what a running server has.
    pub fn threads(mut self, threads: usize) -> Grader {
        self.given.threads = Some(threads);
        self
    }

    /// The queue's size: what `{queue}` becomes ([`DEFAULT_QUEUE`] unless set),
    /// or what a running server has.
    pub fn queue(mut self, queue: usize) -> Grader {
        self.given.queue = Some(queue);
        self
    }

    /// The keep-alive timeout in seconds: what `{keep_alive_timeout}` becomes
    /// ([`DEFAULT_KEEP_ALIVE_TIMEOUT`] unless set), or what a running server has.
    pub fn keep_alive_timeout(mut self, seconds: u64) -> Grader {
        self.given.keep_alive_timeout = Some(seconds);
        self
    }

    /// Grades `stage` and every stage before it.
    pub fn stage(mut self, stage: Stage) -> Grader {
        self.stage = stage;
        self
    }

    /// How long the server may take to accept its first connection.
    pub fn startup_timeout(mut self, timeout: Duration) -> Grader {
        self.startup_timeout = timeout;
        self
    }

    /// Says on stderr what is happening while the server starts.
    pub fn progress(mut self, on: bool) -> Grader {
        self.progress = on;
        self
    }

    /// Writes the site, runs every check, stops the server, and reports.
    pub fn run(&self) -> Result<Report, SetupError> {
        let checks: Vec<&'static Check> = checks::up_to(self.stage).collect();
        let mut report = Report::new(self.stage, self.describe_target());
        if let Target::Command(command) = &self.target {
            for name in ["{port}", "{root}"] {
                if !command.iter().any(|arg| arg.contains(name)) {
                    return Err(SetupError::Placeholder(name));
                }
            }
        }
        let known = self.known_settings();
        let (runnable, skipped): (Vec<_>, Vec<_>) = checks
            .iter()
            .map(|check| (*check, self.skip_reason(check, &known)))
            .partition(|(_, reason)| reason.is_none());
        let runnable: Vec<&'static Check> = runnable.into_iter().map(|(check, _)| check).collect();
        let big_file = runnable
            .iter()
            .any(|check| check.needs.contains(&Need::BigFile));
        match &self.target {
            Target::Running { addr, root } => {
                let site = Arc::new(Fixture::in_folder(root, big_file)?);
                report.results = run_phases(&checks, &runnable, *addr, &site, None, known);
                site.remove();
            }
            Target::Command(command) => {
                let site = Arc::new(Fixture::temporary(big_file)?);
                self.run_command(command, &checks, &runnable, &site, known, &mut report);
                site.remove();
            }
        }
        for (check, reason) in skipped {
            let reason = reason.expect("partitioned on it");
            set_result(
                &mut report.results,
                check,
                Verdict::Skip(reason),
                Duration::ZERO,
            );
        }
        Ok(report)
    }

    /// The settings the checks may count on: in command mode, the values put
    /// in the command (only for the placeholders it has); with a running
    /// server, only what was said about it.
    fn known_settings(&self) -> Settings {
        let Target::Command(command) = &self.target else {
            return self.given;
        };
        let has = |name: &str| command.iter().any(|arg| arg.contains(name));
        Settings {
            threads: has(server::THREADS).then(|| self.given.threads.unwrap_or(DEFAULT_THREADS)),
            queue: has(server::QUEUE).then(|| self.given.queue.unwrap_or(DEFAULT_QUEUE)),
            keep_alive_timeout: has(server::KEEP_ALIVE_TIMEOUT).then(|| {
                self.given
                    .keep_alive_timeout
                    .unwrap_or(DEFAULT_KEEP_ALIVE_TIMEOUT)
            }),
        }
    }

    /// Why `check` cannot run here, if it cannot.
    fn skip_reason(&self, check: &Check, known: &Settings) -> Option<String> {
        let command_mode = matches!(self.target, Target::Command(_));
        let stage = self.stage.number();
        if let (Mode::OwnServer(why), false) = (check.mode, command_mode) {
            return Some(format!(
                "{why}, so it must start the server itself: grade with `grade --stage {stage} -- COMMAND`"
            ));
        }
        if check.needs.contains(&Need::ThreadCount) {
            if !command_mode {
                return Some(format!(
                    "it counts the server's threads, so it must start the server itself: grade with `grade --stage {stage} -- COMMAND`"
                ));
            }
            if !server::can_count_threads() {
                return Some(
                    "it counts the server's threads in /proc, which this system does not have"
                        .to_owned(),
                );
            }
        }
        let missing: Vec<(&str, &str, &str)> = check
            .needs
            .iter()
            .filter_map(|need| match need {
                Need::Threads if known.threads.is_none() => {
                    Some((server::THREADS, "--threads", "the number of workers"))
                }
                Need::Queue if known.queue.is_none() => {
                    Some((server::QUEUE, "--queue", "the queue's size"))
                }
                Need::KeepAliveTimeout if known.keep_alive_timeout.is_none() => Some((
                    server::KEEP_ALIVE_TIMEOUT,
                    "--keep-alive-timeout",
                    "the keep-alive timeout in seconds",
                )),
                _ => None,
            })
            .collect();
        if missing.is_empty() {
            return None;
        }
        let join = |items: Vec<&str>| items.join(" and ");
        let what = join(missing.iter().map(|m| m.2).collect());
        Some(if command_mode {
            let placeholders = join(missing.iter().map(|m| m.0).collect());
            let example: Vec<String> = missing
                .iter()
                .map(|(placeholder, flag, _)| format!("{flag} {placeholder}"))
                .collect();
            format!(
                "it needs {what}: put {placeholders} in the command where the server takes {}, e.g. `{}`",
                if missing.len() == 1 { "it" } else { "them" },
                example.join(" ")
            )
        } else {
            let flags: Vec<String> = missing
                .iter()
                .map(|(_, flag, _)| format!("{flag} N"))
                .collect();
            format!(
                "it needs {what} of the running server: give {} to `grade`",
                flags.join(" and ")
            )
        })
    }

    /// The values to fill the command's placeholders with.
    fn command_settings(&self) -> Settings {
        Settings {
            threads: Some(self.given.threads.unwrap_or(DEFAULT_THREADS)),
            queue: Some(self.given.queue.unwrap_or(DEFAULT_QUEUE)),
            keep_alive_timeout: Some(
                self.given
                    .keep_alive_timeout
                    .unwrap_or(DEFAULT_KEEP_ALIVE_TIMEOUT),
            ),
        }
    }

    fn run_command(
        &self,
        command: &[String],
        checks: &[&'static Check],
        runnable: &[&'static Check],
        site: &Arc<Fixture>,
        known: Settings,
        report: &mut Report,
    ) {
        let values = self.command_settings();
        if self.progress {
            eprintln!(
                "starting the server: {} (waiting up to {} s for it to accept connections)",
                command.join(" "),
                self.startup_timeout.as_secs()
            );
        }
        // Every server started here is stopped when this function is left, by
        // any path: a check that ran out of time may still hold a clone of it.
        let mut started = StopOnDrop(Vec::new());
        let main = match Instance::start(command, &site.root, &values, self.startup_timeout) {
            Ok(main) => Arc::new(main),
            Err(error) => {
                report.results = not_started(checks, &error);
                return;
            }
        };
        started.0.push(Arc::clone(&main));
        report.server = main.command.join(" ");
        let mut results = run_phases(checks, runnable, main.addr, site, Some(&main), known);
        if let Some(status) = main.exit_status() {
            report.server_exit = Some(server::describe_exit(status));
            report.server_output = Some(main.output());
        }
        // The checks that start servers of their own run after the main server
        // is stopped, so that they share the machine with nothing else.
        main.stop();

        let mut jobs = Vec::new();
        let own = runnable
            .iter()
            .filter(|check| matches!(check.mode, Mode::OwnServer(_)));
        for check in own {
            match Instance::start(command, &site.root, &values, self.startup_timeout) {
                Ok(instance) => {
                    let instance = Arc::new(instance);
                    started.0.push(Arc::clone(&instance));
                    jobs.push(Job {
                        check,
                        addr: instance.addr,
                        server: Some(instance),
                        watched: None,
                        settings: known,
                    });
                }
                Err(error) => set_result(
                    &mut results,
                    check,
                    Verdict::Fail(start_failure(&error)),
                    Duration::ZERO,
                ),
            }
        }
        for (check, verdict, took) in run_batch(jobs, site) {
            set_result(&mut results, check, verdict, took);
        }
        report.results = results;
    }

    fn describe_target(&self) -> String {
        match &self.target {
            Target::Command(command) => command.join(" "),
            Target::Running { addr, root } => {
                format!("the server at {addr}, serving {}", root.display())
            }
        }
    }
}

/// `multithreaded-server grade ...`: grades, prints the checklist (or the
/// JSON object), and returns whether every check passed.
pub fn run_cli(args: &GradeArgs) -> anyhow::Result<bool> {
    if args.list {
        print!(
            "{}",
            list(args.stage.unwrap_or(Stage::ALL[Stage::ALL.len() - 1]))
        );
        return Ok(true);
    }
    let stage = args.stage.expect("clap requires --stage unless --list");
    let mut grader = match (args.addr, &args.root) {
        (Some(addr), Some(root)) => Grader::running(addr, root),
        // clap's `requires` on --root is not enforced beside a `last` command,
        // and a --root that is silently ignored would grade the wrong folder.
        (None, Some(_)) => {
            anyhow::bail!(
                "--root is for a running server: give its --addr too, or leave --root out"
            )
        }
        _ => Grader::command(args.command.iter().cloned()),
    };
    if let Some(threads) = args.threads {
        grader = grader.threads(threads);
    }
    if let Some(queue) = args.queue {
        grader = grader.queue(queue);
    }
    if let Some(seconds) = args.keep_alive_timeout {
        grader = grader.keep_alive_timeout(seconds);
    }
    stop_servers_on_interrupt();
    let report = grader
        .stage(stage)
        .startup_timeout(args.startup_timeout)
        .progress(true)
        .run()?;
    if args.json {
        print!("{}", report.to_json());
    } else {
        // Colour as the request log does: only on a terminal, never with NO_COLOR.
        crate::log::init(false);
        print!("{report}");
    }
    Ok(report.passed())
}

/// The checks, stage by stage, up to `stage`: what `grade --list` prints.
pub fn list(stage: Stage) -> String {
    let mut out = String::new();
    for stage in Stage::ALL.into_iter().filter(|s| *s <= stage) {
        out.push_str(&format!("stage {}: {stage}\n", stage.number()));
        for check in CHECKS.iter().filter(|check| check.stage == stage) {
            let mut notes = vec![format!("{} s", check.limit.as_secs())];
            if check.needs.contains(&Need::KeepAliveTimeout) {
                notes[0].push_str(" + the keep-alive timeout");
            }
            if matches!(check.mode, Mode::OwnServer(_)) || check.needs.contains(&Need::ThreadCount)
            {
                notes.push("command mode only".to_owned());
            }
            let placeholders: Vec<&str> = check
                .needs
                .iter()
                .filter_map(|need| match need {
                    Need::Threads => Some(server::THREADS),
                    Need::Queue => Some(server::QUEUE),
                    Need::KeepAliveTimeout => Some(server::KEEP_ALIVE_TIMEOUT),
                    _ => None,
                })
                .collect();
            if !placeholders.is_empty() {
                notes.push(format!("needs {}", placeholders.join(" ")));
            }
            out.push_str(&format!(
                "  {:<34} {} ({})\n",
                check.id,
                check.title,
                notes.join(", ")
            ));
        }
    }
    out
}

/// The servers run in process groups of their own, so a Ctrl-C typed at the
/// grader does not reach them: stop them, and remove the test sites, before
/// the grader goes. (Only where the build has the Ctrl-C handler, which comes
/// with the `daemon-join` stage.)
fn stop_servers_on_interrupt() {
    #[cfg(feature = "daemon-join")]
    {
        let _ = ctrlc::set_handler(|| {
            server::stop_all();
            fixture::remove_temporary();
            std::process::exit(130);
        });
    }
}

/// Stops its servers when dropped.
struct StopOnDrop(Vec<Arc<Instance>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for instance in &self.0 {
            instance.stop();
        }
    }
}

/// One check to run, and on which server.
struct Job {
    check: &'static Check,
    addr: SocketAddr,
    server: Option<Arc<Instance>>,
    watched: Option<Arc<Instance>>,
    settings: Settings,
}

/// Runs the `runnable` checks that share one server, phase by phase (see
/// [`Mode`]), and returns a result for each of `checks`: the others, and the
/// [`Mode::OwnServer`] checks, are left to the caller, marked as skipped.
fn run_phases(
    checks: &[&'static Check],
    runnable: &[&'static Check],
    addr: SocketAddr,
    site: &Arc<Fixture>,
    watched: Option<&Arc<Instance>>,
    settings: Settings,
) -> Vec<CheckResult> {
    let mut results: Vec<CheckResult> = checks
        .iter()
        .map(|check| CheckResult {
            check,
            verdict: Verdict::Skip(String::new()),
            took: Duration::ZERO,
        })
        .collect();
    let job = |check: &'static Check| Job {
        check,
        addr,
        server: None,
        watched: watched.cloned(),
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
        for (check, verdict, took) in run_batch(batch, site) {
            set_result(&mut results, check, verdict, took);
        }
    }
    results
}

fn set_result(
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

/// Runs `jobs` at the same time, each on a thread of its own, and waits for
/// each no longer than its time limit (plus [`GRACE`]). A check still running
/// then fails; its thread is left to finish on its own, which it does by its
/// deadline, or when its server is stopped.
fn run_batch(jobs: Vec<Job>, site: &Arc<Fixture>) -> Vec<(&'static Check, Verdict, Duration)> {
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
            settings: job.settings,
        };
        let sender = done.clone();
        let spawned = thread::Builder::new()
            .name(format!("check {}", check.id))
            .spawn(move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| (check.run)(&probe)));
                let verdict = match outcome {
                    Ok(Ok(())) => Verdict::Pass,
                    Ok(Err(failure)) => Verdict::Fail(failure),
                    Err(_) => Verdict::Fail(Failure::new(
                        "the check itself panicked; this is a bug in the grader",
                    )),
                };
                let _ = sender.send((check.id, verdict, started.elapsed()));
            });
        match spawned {
            Ok(_) => pending.push((check, limit, started + limit + GRACE)),
            Err(error) => {
                let _ = done.send((
                    check.id,
                    Verdict::Fail(Failure::new(format!("no thread to run it: {error}"))),
                    Duration::ZERO,
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
            Ok((id, verdict, took)) => {
                if let Some(at) = pending.iter().position(|(check, _, _)| check.id == id) {
                    let (check, _, _) = pending.remove(at);
                    finished.push((check, verdict, took));
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
                    finished.push((check, Verdict::Fail(failure), *limit));
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
fn not_started(checks: &[&'static Check], error: &StartError) -> Vec<CheckResult> {
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
        })
        .collect()
}

fn start_failure(error: &StartError) -> Failure {
    let failure = Failure::new(error.to_string());
    match error {
        StartError::Spawn { .. } => failure
            .hint("Check the command: the program must be on the PATH, or given by its path."),
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
            settings: Settings::default(),
        };
        let started = Instant::now();
        let results = run_batch(vec![job(&HANGS), job(&PANICS)], &site);
        // The hanging check still holds the site; remove it now, as `run` does.
        site.remove();
        assert!(started.elapsed() < HANGS.limit + GRACE + Duration::from_secs(5));
        for (check, verdict, _) in results {
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
