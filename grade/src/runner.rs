//! Running the checks: one at a time, each on a thread of its own and given
//! up on at its time limit; a server that died or stopped answering started
//! afresh for the checks after; a death blamed only where it can be
//! reproduced; and a check that could not see what it is about for another
//! check's fault marked "not judged", not failed twice.
//!
//! The order: the shared checks as the table lists them (ordinary requests
//! first), then the risky ones (latest stage first: stage 1's
//! `survives-bad-clients` comes last and sees whether the others broke
//! anything), then `head-syntax`, which judges every head the others
//! received, then the checks that need a server of their own, each on a
//! fresh copy, with nothing else running.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::check::{Failure, Mode, Need, Settings};
use crate::checks::Check;
use crate::client;
use crate::fixture::Fixture;
use crate::probe::{Heads, Probe, output_of};
use crate::process::StartError;
use crate::report::{CheckResult, Verdict};
use crate::server::{ANSWER_WITHIN, Instance, Launcher, Subject};
use crate::watch::Replay;

/// Extra time the runner gives a check beyond its limit before giving up on it:
/// a check ends its own socket operations by its deadline and reports what it
/// saw, which says more than "timed out".
const GRACE: Duration = Duration::from_secs(2);

/// How long a fresh copy, sent the request that came before a death, is
/// watched for a death of its own.
const REPLAY_SETTLE: Duration = Duration::from_millis(1500);

/// The check that judges the first copy of the server as its readiness
/// probe left it (see `connects`): it is never given a fresh one.
const FIRST: &str = "connects";

/// What a run found, for the report.
pub struct Run {
    pub results: Vec<CheckResult>,
    /// The command line as run (the first copy's), or empty.
    pub command: Vec<String>,
    pub restarts: Vec<String>,
    /// The first death seen, and its last output.
    pub server_exit: Option<String>,
    pub server_output: Option<String>,
}

/// The checks, in the order they run (see the module docs).
fn in_order<'a>(runnable: &'a [&'static Check]) -> impl Iterator<Item = &'static Check> + 'a {
    let shared = runnable.iter().copied().filter(|c| c.mode == Mode::Shared);
    let risky = runnable
        .iter()
        .copied()
        .filter(|c| c.mode == Mode::Risky)
        .rev();
    let last = runnable.iter().copied().filter(|c| c.mode == Mode::Last);
    shared.chain(risky).chain(last)
}

/// An empty result for each of `checks`, to be filled in.
fn blank(checks: &[&'static Check]) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|check| CheckResult {
            check,
            verdict: Verdict::Skip(String::new()),
            took: Duration::ZERO,
            notes: Vec::new(),
        })
        .collect()
}

/// Grades a server the grader did not start, at `subject`'s address.
pub fn run_running(
    checks: &[&'static Check],
    runnable: &[&'static Check],
    subject: Subject,
    site: &Arc<Fixture>,
    settings: Settings,
) -> Vec<CheckResult> {
    let subject = Arc::new(subject);
    let heads = Arc::new(Heads::default());
    let mut results = blank(checks);
    for check in in_order(runnable) {
        let finished = match subject.gave_up() {
            Some(reason) => Finished::not_judged(check, reason),
            None => run_one(check, &subject, site, settings, &heads),
        };
        if matches!(finished.verdict, Verdict::Fail(_))
            && subject.gave_up().is_none()
            && !subject.answers(ANSWER_WITHIN)
        {
            subject.give_up(format!(
                "needs a server that answers, which `{}` found broken (it stopped answering then, and the grader cannot start a server it did not start)",
                check.id
            ));
        }
        record(&mut results, finished);
    }
    results
}

/// Grades a server started from its command: the shared checks on one copy
/// (started afresh as needed), then each check that needs a server of its
/// own on a copy of its own.
pub fn run_command(
    checks: &[&'static Check],
    runnable: &[&'static Check],
    launcher: Launcher,
    site: &Arc<Fixture>,
    settings: Settings,
) -> Run {
    let mut results = blank(checks);
    let subject = match Subject::start(launcher.clone()) {
        Ok(subject) => Arc::new(subject),
        Err(not) => {
            for result in &mut results {
                result.verdict = if result.check.id == "connects" {
                    Verdict::Fail(start_failure(&not.error))
                } else {
                    Verdict::NotJudged(
                        "needs a server that starts, which `connects` found broken".to_owned(),
                    )
                };
            }
            return Run {
                results,
                command: not.command,
                restarts: Vec::new(),
                server_exit: None,
                server_output: None,
            };
        }
    };
    let command = subject.command().unwrap_or_default();
    let heads = Arc::new(Heads::default());
    for check in in_order(runnable) {
        if let Some(reason) = subject.gave_up() {
            record(&mut results, Finished::not_judged(check, reason));
            continue;
        }
        // `connects` judges the first copy as the readiness probe left it,
        // dead or alive; every later check gets a living one.
        if check.id != FIRST
            && let Some(exit) = subject.death()
        {
            let why = format!("it {exit}");
            if !subject.restart(why, first_fault(&results)) {
                record(
                    &mut results,
                    Finished::not_judged(check, subject.gave_up().unwrap_or_default()),
                );
                continue;
            }
        }
        // Which copy the check ran on: a fault counts against that copy,
        // not against a fresh one started after it.
        let copy = subject.restarts().len();
        let finished = run_one(check, &subject, site, settings, &heads);
        let finished = match &finished.verdict {
            // What killed the first copy, `connects` says itself: a fresh
            // copy, started with a request, has not had the quiet probe.
            Verdict::Fail(_) if check.id == FIRST => {
                if !subject.answers(ANSWER_WITHIN) {
                    let why = match subject.death() {
                        Some(exit) => format!("it {exit}"),
                        None => format!("it stopped answering after `{FIRST}`"),
                    };
                    if !subject.restart(why, FIRST) && subject.never_answered() {
                        never_answered(finished)
                    } else {
                        finished
                    }
                } else {
                    finished
                }
            }
            Verdict::Fail(_) => {
                // Seen before a restart for this failure starts a clean copy.
                let suspect = suspect_copy(&subject);
                let finished = after_a_failure(check, finished, &subject, site, settings, &heads);
                if suspect {
                    again_on_a_fresh_copy(
                        check, finished, &subject, site, settings, &heads, &results,
                    )
                } else {
                    finished
                }
            }
            _ => finished,
        };
        let finished = resolve(finished, &results);
        if matches!(finished.verdict, Verdict::Fail(_)) && subject.restarts().len() == copy {
            subject.note_fault();
        }
        record(&mut results, finished);
    }
    let restarts = subject.restarts();
    let server_exit = subject.first_exit();
    let server_output = server_exit
        .as_ref()
        .and_then(|_| subject.process())
        .map(|process| process.output());
    // The checks that start servers of their own run after the shared
    // server is stopped, so that they share the machine with nothing else.
    let gave_up = subject.gave_up();
    drop(subject);
    // Each on a copy of its own, all at once: what one does to its server
    // cannot touch another's, and most of their time is spent waiting for a
    // server to exit.
    let own: Vec<&'static Check> = runnable
        .iter()
        .copied()
        .filter(|check| matches!(check.mode, Mode::OwnServer(_)))
        .collect();
    let finished: Vec<Finished> = thread::scope(|scope| {
        let runs: Vec<_> = own
            .iter()
            .map(|&check| {
                let (launcher, gave_up, heads) = (&launcher, &gave_up, &heads);
                scope.spawn(move || match Subject::own(launcher) {
                    Ok(server) => run_one(check, &Arc::new(server), site, settings, heads),
                    Err(not) => match gave_up {
                        Some(reason) => Finished::not_judged(check, reason.clone()),
                        None => Finished {
                            check,
                            verdict: Verdict::Fail(start_failure(&not.error)),
                            took: Duration::ZERO,
                            notes: Vec::new(),
                        },
                    },
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a check's run does not panic"))
            .collect()
    });
    for finished in finished {
        let finished = resolve(finished, &results);
        record(&mut results, finished);
    }
    Run {
        results,
        command,
        restarts,
        server_exit,
        server_output,
    }
}

/// What to make of a failure: a death under the check is blamed on it only
/// if a fresh copy dies of the same request, or of the whole check run again;
/// a server that no longer answers is started afresh for the checks after.
fn after_a_failure(
    check: &'static Check,
    finished: Finished,
    subject: &Arc<Subject>,
    site: &Arc<Fixture>,
    settings: Settings,
    heads: &Arc<Heads>,
) -> Finished {
    // A server that is dying may close its sockets a moment before its exit
    // can be seen.
    if let Some(process) = subject.process() {
        let _ = process.wait_exit(Duration::from_millis(300));
    }
    let death = subject
        .has_died()
        .then(|| subject.instance().and_then(|i| i.watch.death()))
        .flatten()
        .filter(|death| death.during(check.id));
    let Some(death) = death else {
        if !subject.answers(STILL_ANSWERING) {
            let why = match subject.death() {
                Some(exit) => format!("it {exit}"),
                None => format!("it stopped answering after `{}`", check.id),
            };
            subject.restart(why, check.id);
        }
        return finished;
    };
    let output = subject
        .process()
        .map(|process| output_of(&process))
        .unwrap_or_default();
    let died = format!("the server {} {}", death.exit, death.moment());
    // Send the step under way alone to a fresh copy.
    let fresh = match subject.fresh() {
        Ok(fresh) => fresh,
        Err(not) => {
            subject.give_up(format!(
                "needs a server that answers, which `{}` found broken (after it died, a fresh copy did not start: {})",
                check.id, not.error
            ));
            return with_death(finished, &died, &output, None);
        }
    };
    if let Some(replay) = death.replay()
        && replays_the_death(&fresh, replay)
    {
        let exit = fresh
            .process
            .exit_status()
            .map(crate::process::describe_exit)
            .unwrap_or_default();
        let again = format!("a fresh server dies on this request too (it {exit})");
        subject.restart(
            format!(
                "it died during `{}`, and again when sent that request alone",
                check.id
            ),
            check.id,
        );
        // The same request killed it in an earlier check: one fault, and
        // that check's; this one could not see what it is about.
        let step = death
            .during
            .as_ref()
            .map(|(_, step)| step.what.clone())
            .unwrap_or_default();
        if !step.is_empty()
            && let Some(first) = subject.deadly(&step, check.id)
        {
            return Finished::not_judged(
                check,
                format!(
                    "needs the server alive after {}, which `{first}` found kills it (it {exit} on it here too)",
                    step.strip_prefix("sending ").unwrap_or(&step)
                ),
            );
        }
        return with_death(finished, &died, &output, Some(&again));
    }
    // Not reproduced alone: the whole check again, on another fresh copy
    // (the replay may have changed the one it was sent to).
    drop(fresh);
    let fresh = match subject.fresh() {
        Ok(fresh) => fresh,
        Err(not) => {
            subject.give_up(format!(
                "needs a server that answers, which `{}` found broken (after it died, a fresh copy did not start: {})",
                check.id, not.error
            ));
            return with_death(finished, &died, &output, None);
        }
    };
    subject.replace(
        fresh,
        format!("it died during `{}` ({})", check.id, death.exit),
    );
    let second = run_one(check, subject, site, settings, heads);
    let second_death = subject
        .has_died()
        .then(|| subject.instance().and_then(|i| i.watch.death()))
        .flatten()
        .filter(|death| death.during(check.id));
    if let Some(second_death) = second_death {
        let again = format!(
            "a fresh server, given this check again, died too: it {} {}",
            second_death.exit,
            second_death.moment()
        );
        subject.restart(
            format!("it died during `{}` a second time", check.id),
            check.id,
        );
        return with_death(second, &died, &output, Some(&again));
    }
    let what = match &death.replay() {
        Some(_) => "the request under way then, sent alone to a fresh server, did not kill it",
        None => "it was not doing anything that can be done again alone",
    };
    let mut second = second;
    second.notes.insert(
        0,
        format!(
            "{died}, on a first try of this check; not reproduced alone ({what}): this verdict is from a second try, on a fresh server"
        ),
    );
    if !matches!(second.verdict, Verdict::Pass) && !subject.answers(STILL_ANSWERING) {
        subject.restart(
            format!("it stopped answering after `{}`", check.id),
            check.id,
        );
    }
    second
}

/// A shared check that failed on a copy an earlier check had failed on,
/// run again on a fresh copy: what the earlier checks did to the server
/// (a pool shrunk by panics, a worker held) is theirs to judge, so the
/// verdict is the fresh copy's. A check whose failure was already judged
/// on a fresh copy (a death replayed), or that is not judged, is left as it
/// is.
fn again_on_a_fresh_copy(
    check: &'static Check,
    finished: Finished,
    subject: &Arc<Subject>,
    site: &Arc<Fixture>,
    settings: Settings,
    heads: &Arc<Heads>,
    results: &[CheckResult],
) -> Finished {
    let Verdict::Fail(failure) = &finished.verdict else {
        return finished;
    };
    let earlier = results
        .iter()
        .find(|result| matches!(result.verdict, Verdict::Fail(_)))
        .map(|result| result.check.id);
    let judged_fresh = failure.problem.contains("a fresh server")
        || finished
            .notes
            .iter()
            .any(|note| note.contains("a second try"));
    let Some(earlier) = earlier else {
        return finished;
    };
    if judged_fresh
        || !matches!(check.mode, Mode::Shared | Mode::Risky)
        || !subject.can_restart()
        || subject.gave_up().is_some()
        || subject.restarts().len() >= FRESH_TRIES
    {
        return finished;
    }
    let Ok(fresh) = subject.fresh() else {
        return finished;
    };
    subject.replace(
        fresh,
        format!(
            "`{}` failed on a copy that `{earlier}` had found a fault in: judged again on a fresh one",
            check.id
        ),
    );
    let mut second = run_one(check, subject, site, settings, heads);
    if !matches!(second.verdict, Verdict::Pass) && !subject.answers(STILL_ANSWERING) {
        subject.restart(
            format!("it stopped answering after `{}` again", check.id),
            check.id,
        );
    }
    if matches!(second.verdict, Verdict::Pass) {
        second.notes.insert(
            0,
            format!(
                "it failed on the copy the checks before it had used ({}), and passed on a fresh copy: what those checks left behind is theirs to judge",
                failure.problem
            ),
        );
    }
    second
}

/// Whether the copy in use may have been left broken by the checks before:
/// one of them failed on it, or it printed an error (a worker's panic, a
/// handler's exception).
fn suspect_copy(subject: &Subject) -> bool {
    subject.copy_faults() > 0
        || subject.process().is_some_and(|process| {
            process
                .output()
                .lines()
                .any(crate::checks::common::looks_like_an_error)
        })
}

/// How long a server is given to answer after a check failed on it, before
/// it is taken to have stopped answering and a fresh copy is started: far
/// less than a check's own wait, since a copy started for nothing costs a
/// restart and no verdict, and a wedged server pays this after every check
/// it fails (four at stage 4). A page from a server on this machine comes
/// back in milliseconds, even on a busy one.
const STILL_ANSWERING: Duration = Duration::from_millis(1500);

/// How many fresh copies a grading starts at most to judge a check again
/// ([`again_on_a_fresh_copy`]); the restarts for deaths count too.
const FRESH_TRIES: usize = 8;

/// A failure rewritten to say that the server died under it, and how.
fn with_death(finished: Finished, died: &str, output: &str, again: Option<&str>) -> Finished {
    let Verdict::Fail(failure) = finished.verdict else {
        return finished;
    };
    let mut problem = died.to_owned();
    if let Some(again) = again {
        problem = format!("{problem}; {again}");
    }
    // The check's own words, unless they only said the same.
    let problem = if failure.problem.starts_with("the server ") {
        problem
    } else {
        format!("{problem} (what the check saw: {})", failure.problem)
    };
    let received = match &failure.received {
        Some(received) if !output.is_empty() => format!("{received}\n{output}"),
        Some(received) => received.clone(),
        None => output.to_owned(),
    };
    Finished {
        verdict: Verdict::Fail(Failure {
            problem,
            received: Some(received),
            // A death is not what the check's own hint is about.
            hint: failure.hint.or_else(|| Some(death_hint(died).to_owned())),
            // What the check said it needs still holds (a death on a request
            // another check found deadly is that check's fault), but for a
            // server that answers: this one answered until it died.
            blocked: failure.blocked.and_then(|mut blocked| {
                blocked.by.retain(|id| *id != "connects");
                (!blocked.by.is_empty()).then_some(blocked)
            }),
            ..failure
        }),
        ..finished
    }
}

/// `connects`' failure, once a fresh copy asked for a page on its very first
/// connection did not answer either: the empty connection before the request
/// is not the cause, so the failure does not blame it.
fn never_answered(finished: Finished) -> Finished {
    let Verdict::Fail(failure) = finished.verdict else {
        return finished;
    };
    Finished {
        verdict: Verdict::Fail(Failure {
            problem: "GET /index.html got no HTTP response; nor did it on a fresh copy of the server, asked on its first connection: the server accepts connections but does not answer requests".to_owned(),
            hint: Some("Read the request's head up to the blank line that ends it, then write the response to the same connection: a status line, headers, a blank line and the file.".to_owned()),
            ..failure
        }),
        ..finished
    }
}

/// What to look at when a server dies.
fn death_hint(died: &str) -> &'static str {
    if died.contains("SIGPIPE") {
        "A write to a connection the client has closed raises SIGPIPE, which kills a C program unless it is ignored: call `signal(SIGPIPE, SIG_IGN)` at start (or send with MSG_NOSIGNAL), and treat the write's EPIPE as the end of that connection."
    } else {
        "Handle every error of one connection inside its handler (log it, close that connection), so that no request can end the process: its last output above says what went wrong."
    }
}

/// Sends `replay` to `fresh` on a new connection and says whether `fresh`
/// died of it.
fn replays_the_death(fresh: &Instance, replay: &Replay) -> bool {
    let deadline = Instant::now() + ANSWER_WITHIN;
    if let Ok(mut stream) = client::connect(fresh.addr, deadline) {
        if replay.hang_up {
            let _ = std::io::Write::write_all(&mut stream, &replay.bytes);
            drop(stream);
        } else {
            let _ = client::exchange_on(&mut stream, &replay.bytes, deadline);
        }
    }
    fresh.process.wait_exit(REPLAY_SETTLE).is_some()
}

/// The first check that failed so far, to blame for a server that stopped;
/// `connects` if none has.
fn first_fault(results: &[CheckResult]) -> &'static str {
    results
        .iter()
        .find(|result| matches!(result.verdict, Verdict::Fail(_)))
        .map_or("connects", |result| result.check.id)
}

/// A failure that another check's fault explains becomes "not judged".
fn resolve(finished: Finished, results: &[CheckResult]) -> Finished {
    let Verdict::Fail(failure) = &finished.verdict else {
        return finished;
    };
    let Some(blocked) = &failure.blocked else {
        return finished;
    };
    for id in &blocked.by {
        let Some(result) = results.iter().find(|result| result.check.id == *id) else {
            continue;
        };
        let reason = match &result.verdict {
            Verdict::Fail(_) => format!("needs {}, which `{id}` found broken", blocked.needs),
            Verdict::NotJudged(reason) => reason.clone(),
            _ => continue,
        };
        return Finished {
            verdict: Verdict::NotJudged(reason),
            ..finished
        };
    }
    finished
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

/// A check that has run: its verdict, how long it took, and its notes.
pub struct Finished {
    pub check: &'static Check,
    pub verdict: Verdict,
    pub took: Duration,
    pub notes: Vec<String>,
}

impl Finished {
    fn not_judged(check: &'static Check, reason: String) -> Finished {
        Finished {
            check,
            verdict: Verdict::NotJudged(reason),
            took: Duration::ZERO,
            notes: Vec::new(),
        }
    }
}

/// Runs `check` on a thread of its own, and waits for it no longer than its
/// time limit (plus [`GRACE`]). A check still running then fails; its thread
/// is left to finish on its own, which it does by its deadline, or when its
/// server is stopped.
pub fn run_one(
    check: &'static Check,
    server: &Arc<Subject>,
    site: &Arc<Fixture>,
    settings: Settings,
    heads: &Arc<Heads>,
) -> Finished {
    let limit = limit_of(check, &settings);
    let started = Instant::now();
    let probe = Probe {
        server: Arc::clone(server),
        site: Arc::clone(site),
        deadline: started + limit,
        check: check.id,
        settings,
        notes: Default::default(),
        heads: Arc::clone(heads),
    };
    let instance = server.instance();
    if let Some(instance) = &instance {
        // A death before the check began is not its step's.
        let _ = server.has_died();
        instance.watch.begin(check.id);
    }
    let (done, result) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name(format!("check {}", check.id))
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| (check.run)(&probe)));
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
            let _ = done.send((verdict, notes));
        });
    let finished = match spawned {
        Err(error) => Finished {
            check,
            verdict: Verdict::Fail(Failure::new(format!("no thread to run it: {error}"))),
            took: Duration::ZERO,
            notes: Vec::new(),
        },
        Ok(_) => match result.recv_timeout(limit + GRACE) {
            Ok((verdict, notes)) => Finished {
                check,
                verdict,
                took: started.elapsed(),
                notes,
            },
            Err(_) => Finished {
                check,
                verdict: Verdict::Fail(Failure::new(format!(
                    "no result within its time limit of {} s: the server stopped answering",
                    limit.as_secs()
                ))),
                took: limit,
                notes: Vec::new(),
            },
        },
    };
    if let Some(instance) = &instance {
        // Dead, and perhaps not yet seen by the watching thread: seen now,
        // while the check still counts as running.
        if instance.process.exit_status().is_some() {
            let _ = server.has_died();
        }
        instance.watch.end(check.id);
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

/// The failure of `connects` when the server did not start.
pub fn start_failure(error: &StartError) -> Failure {
    let failure = Failure::new(error.to_string());
    match error {
        StartError::Spawn { error, .. } if error.kind() == std::io::ErrorKind::PermissionDenied => {
            failure.hint("The file is there but may not be run: make it executable (`chmod +x FILE`), or run it through its interpreter (`python3 FILE`, `sh FILE`).")
        }
        StartError::Spawn { error, .. } if error.kind() == std::io::ErrorKind::NotFound => failure
            .hint("Check the command: the program must be on the PATH, or given by its path."),
        StartError::Spawn { .. } | StartError::Port(_) => failure,
        StartError::Exited { .. }
        | StartError::Timeout { .. }
        | StartError::Elsewhere { .. }
        | StartError::NoAnswer { .. } => {
            let output = match error.output() {
                "" => "no output".to_owned(),
                output => format!("its last output:\n{output}"),
            };
            let failure = failure.received(output);
            match error {
                StartError::Timeout { .. } => failure.hint("Is it listening on 127.0.0.1 at the port given as {port}? If it compiles first, allow more time with --startup-timeout."),
                StartError::Elsewhere { .. } => failure.hint("Listen on the port the command gives the server ({port}), not on one written in the code: read it from the command line."),
                StartError::NoAnswer { .. } => failure.hint("After reading the request head, write the response (status line, headers, a blank line, the body) to the same connection."),
                _ => failure,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use course::Stage;

    fn hangs(_: &Probe) -> Result<(), Failure> {
        thread::sleep(Duration::from_secs(600));
        Ok(())
    }

    fn panics(_: &Probe) -> Result<(), Failure> {
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
        let server = Arc::new(Subject::running(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            9,
        ))));
        let heads = Arc::new(Heads::default());
        let started = Instant::now();
        let results = [&HANGS, &PANICS]
            .map(|check| run_one(check, &server, &site, Settings::default(), &heads));
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
