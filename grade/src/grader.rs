//! A grading run: what to grade (a command, or a server already running),
//! its settings, and [`Grader::run`], which writes the site, runs the checks
//! and reports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::check::{self, Extension, Mode, Need, Settings};
use crate::checks::{self, Check};
use crate::fixture::{Fixture, FixtureError};
use crate::process;
use crate::report::{NOT_ON_THIS_PLATFORM, Report, Verdict};
use crate::runner;
use crate::server::{Launcher, Subject};
use course::Stage;

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

/// The first `{word}` in `command` (a word of letters, digits and `_`)
/// that is not one of the grader's placeholders.
fn unknown_placeholder(command: &[String]) -> Option<String> {
    let known = [
        check::PORT,
        check::ROOT,
        check::THREADS,
        check::QUEUE,
        check::KEEP_ALIVE_TIMEOUT,
        check::UPLOADS,
    ];
    command.iter().find_map(|arg| {
        arg.match_indices('{').find_map(|(start, _)| {
            let rest = &arg[start + 1..];
            let end = rest.find('}')?;
            let word = &rest[..end];
            let token = &arg[start..start + end + 2];
            let is_word =
                !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (is_word && !known.contains(&token)).then(|| token.to_owned())
        })
    })
}

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
    /// The extensions graded besides the stage's checks.
    extensions: Vec<Extension>,
}

/// Why grading could not start. (A server that fails to start is not one of
/// these: that is a failed check, in the report.)
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The command has no `{port}` or no `{root}` to fill in.
    #[error(
        "the server command has no {0}; write it where the server expects it, e.g. `-- python3 server.py {{port}} {{root}}`"
    )]
    Placeholder(&'static str),
    /// The command has a `{word}` the grader does not fill in: a typo, most
    /// likely, that would reach the server as it is.
    #[error(
        "the server command has `{0}`, which the grader does not fill in; the placeholders are {{port}}, {{root}}, {{threads}}, {{queue}}, {{keep_alive_timeout}} and {{uploads}}"
    )]
    UnknownPlaceholder(String),
    /// The site could not be written.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
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
            extensions: Vec::new(),
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

    /// Grades these extensions too (see [`Extension`]): their checks run
    /// after the stage's, and count in the score.
    pub fn with(mut self, extensions: &[Extension]) -> Grader {
        self.extensions = extensions.to_vec();
        self.extensions.sort_unstable();
        self.extensions.dedup();
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
        let checks: Vec<&'static Check> = checks::selected(self.stage, &self.extensions).collect();
        let mut report = Report::new(self.stage, self.describe_target());
        report.extensions = self.extensions.clone();
        if let Target::Command(command) = &self.target {
            for name in [check::PORT, check::ROOT] {
                if !command.iter().any(|arg| arg.contains(name)) {
                    return Err(SetupError::Placeholder(name));
                }
            }
            if let Some(unknown) = unknown_placeholder(command) {
                return Err(SetupError::UnknownPlaceholder(unknown));
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
                let subject = Subject::running(*addr);
                report.results = runner::run_running(&checks, &runnable, subject, &site, known);
                site.remove();
            }
            Target::Command(command) => {
                let site = Arc::new(Fixture::temporary(big_file)?);
                if known.uploads {
                    site.make_uploads_folder()?;
                }
                if self.progress {
                    eprintln!(
                        "starting the server: {} (waiting up to {} s for it to accept connections; the readiness probe is {})",
                        command.join(" "),
                        self.startup_timeout.as_secs(),
                        process::READINESS_PROBE
                    );
                }
                let launcher = Launcher {
                    template: command.clone(),
                    root: site.root.clone(),
                    values: self.command_settings(),
                    startup: self.startup_timeout,
                    progress: self.progress,
                };
                let run = runner::run_command(&checks, &runnable, launcher, &site, known);
                report.server = run.command.join(" ");
                report.results = run.results;
                report.restarts = run.restarts;
                report.server_exit = run.server_exit;
                report.server_output = run.server_output;
                site.remove();
            }
        }
        for (check, reason) in skipped {
            let reason = reason.expect("partitioned on it");
            if let Some(result) = report.results.iter_mut().find(|r| r.check.id == check.id) {
                result.verdict = Verdict::Skip(reason);
            }
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
            threads: has(check::THREADS).then(|| self.given.threads.unwrap_or(DEFAULT_THREADS)),
            queue: has(check::QUEUE).then(|| self.given.queue.unwrap_or(DEFAULT_QUEUE)),
            keep_alive_timeout: has(check::KEEP_ALIVE_TIMEOUT).then(|| {
                self.given
                    .keep_alive_timeout
                    .unwrap_or(DEFAULT_KEEP_ALIVE_TIMEOUT)
            }),
            uploads: has(check::UPLOADS),
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
            if !process::can_count_threads() {
                return Some(format!(
                    "{NOT_ON_THIS_PLATFORM}it counts the server's threads, which cannot be counted on this system"
                ));
            }
        }
        if check.needs.contains(&Need::Uploads) && !known.uploads {
            return Some(if command_mode {
                format!(
                    "it uploads files: put {} in the command where the server takes the folder uploads go to, e.g. `--uploads {}`",
                    check::UPLOADS,
                    check::UPLOADS
                )
            } else {
                format!(
                    "it uploads files and looks for them on disk, so it must start the server itself: grade with `grade --stage {stage} --with uploads -- COMMAND`"
                )
            });
        }
        let missing: Vec<(&str, &str, &str)> = check
            .needs
            .iter()
            .filter_map(|need| match need {
                Need::Threads if known.threads.is_none() => {
                    Some((check::THREADS, "--threads", "the number of workers"))
                }
                Need::Queue if known.queue.is_none() => {
                    Some((check::QUEUE, "--queue", "the queue's size"))
                }
                Need::KeepAliveTimeout if known.keep_alive_timeout.is_none() => Some((
                    check::KEEP_ALIVE_TIMEOUT,
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
            uploads: true,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_placeholders_are_found_and_known_ones_and_other_braces_are_not() {
        let command = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            unknown_placeholder(&command(&["x", "--port={port}", "{thread}"])),
            Some("{thread}".to_owned())
        );
        assert_eq!(
            unknown_placeholder(&command(&[
                "x",
                "{port}",
                "{root}",
                "--threads",
                "{threads}",
                "{queue}",
                "{keep_alive_timeout}",
                "{uploads}",
                "print({'a': 1})",
                "{}",
            ])),
            None
        );
    }
}
