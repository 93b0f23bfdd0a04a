//! What a grading run found: a coloured checklist for people, one JSON
//! object for autograding pipelines, and the list of checks (`grade --list`).
//!
//! # The JSON format
//!
//! `grade --json` prints one object (format `multithreaded-server-grade/1`):
//!
//! ```json
//! {
//!   "format": "multithreaded-server-grade/1",
//!   "stage": { "number": 2, "name": "thread-per-client" },
//!   "server": "python3 server.py 23456 /tmp/multithreaded-server-grade-.../site",
//!   "passed": 9,
//!   "failed": 1,
//!   "skipped": 0,
//!   "total": 10,
//!   "success": false,
//!   "server_exit": null,
//!   "checks": [
//!     { "id": "connects", "stage": 1, "title": "accepts connections on ...", "result": "pass", "millis": 2, "problem": null, "sent": null, "received": null, "hint": null, "reason": null, "notes": [], "extension": null },
//!     { "id": "content-type", "stage": 1, "title": "...", "result": "fail", "millis": 12, "problem": "GET /style.css: Content-Type is `text/html`; expected text/css", "sent": "GET /style.css HTTP/1.1\\r\\n...", "received": "HTTP/1.1 200 OK\\r\\n...", "hint": "Choose Content-Type from the file's extension; ...", "reason": null, "notes": [], "extension": null }
//!   ],
//!   "not_judged": 0,
//!   "restarts": [],
//!   "extensions": []
//! }
//! ```
//!
//! - `result` is `"pass"`, `"fail"` or `"skip"`; `reason` says why a check was
//!   skipped; `problem`, `sent`, `received` and `hint` describe a failure
//!   (`sent` and `received` may be null when there was no single exchange).
//! - `notes` (a list of strings, often empty) is what a check says beside its
//!   verdict: a part of it that could not be measured here and why, or which
//!   of two right answers it saw.
//! - `extensions` lists the extensions graded besides the stage (`--with`),
//!   and a check's `extension` is the one it belongs to, or null for a
//!   stage's check.
//! - `success` is true only when every check passed, as the exit code is 0 only
//!   then.
//! - `server_exit` is null, or how the server ended when it exited during
//!   grading without being asked to, and when: "exited with status 1 while
//!   `bad-request` (at: sending hello) was running".
//! - Every key is always present; new keys may be added, existing ones keep
//!   their meaning while `format` stays the same.
//! - The top level has one key a line, and each check is one line.

use std::fmt::{self, Write as _};
use std::io;
use std::time::Duration;

use colored::Colorize;
use course::Stage;
use serde::Serialize;

use crate::check::Extension;
use crate::check::{self, Failure, Mode, Need};
use crate::checks::{CHECKS, Check, EXTENSIONS, extension_of};

/// The format name in the JSON object; changes only if a key changes meaning.
pub const JSON_FORMAT: &str = "multithreaded-server-grade/1";

/// How one check went.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The check saw the server do what it names.
    Pass,
    /// The check saw the fault it names.
    Fail(Failure),
    /// The check could not see what it is about because of a fault that an
    /// earlier check found: "not judged: needs a file served with 200, which
    /// `text-files` found broken". It scores nothing, like a failure, but it
    /// is not a second fault: the report counts the one it names.
    NotJudged(String),
    /// Not run, for a reason that is not the server's fault, and why.
    Skip(String),
}

/// How the reason of a check skipped because this system cannot make its
/// measurement begins. Such a skip does not fail a grade: the server is not
/// at fault, and the same server graded on Linux runs the check.
pub const NOT_ON_THIS_PLATFORM: &str = "not on this platform: ";

impl Verdict {
    /// A skip for want of a measurement this system cannot make.
    pub fn not_on_this_platform(why: &str) -> Verdict {
        Verdict::Skip(format!("{NOT_ON_THIS_PLATFORM}{why}"))
    }
}

/// One check and its verdict.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub check: &'static Check,
    pub verdict: Verdict,
    pub took: Duration,
    /// What the check said beside its verdict: a part of it skipped here and
    /// why, or which of two right answers it saw.
    pub notes: Vec<String>,
}

/// Everything a grading run found.
#[derive(Clone, Debug)]
pub struct Report {
    pub stage: Stage,
    /// What was graded: the command line as run, or the address.
    pub server: String,
    /// One entry per check, in the order of [`CHECKS`].
    pub results: Vec<CheckResult>,
    /// How the server ended, if it exited during grading unasked, and which
    /// checks were at which step then.
    pub server_exit: Option<String>,
    /// Its last lines of output, when they help explain a failure.
    pub server_output: Option<String>,
    /// Each time a fresh server was started because the last one had died or
    /// stopped answering: why, in words.
    pub restarts: Vec<String>,
    /// The extensions graded besides the stage, in the order of [`Extension::ALL`].
    pub extensions: Vec<Extension>,
}

impl Report {
    pub fn new(stage: Stage, server: String) -> Report {
        Report {
            stage,
            server,
            results: Vec::new(),
            server_exit: None,
            server_output: None,
            restarts: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// `stage 3 (not-found)`, and `with ranges, uploads` when extensions
    /// were graded too.
    fn graded(&self) -> String {
        let mut what = format!("stage {} ({})", self.stage.number(), self.stage);
        if !self.extensions.is_empty() {
            let names: Vec<&str> = self.extensions.iter().map(|e| e.name()).collect();
            let _ = write!(what, " with {}", names.join(", "));
        }
        what
    }

    pub fn passed_count(&self) -> usize {
        self.count(|verdict| matches!(verdict, Verdict::Pass))
    }

    pub fn failed_count(&self) -> usize {
        self.count(|verdict| matches!(verdict, Verdict::Fail(_)))
    }

    pub fn skipped_count(&self) -> usize {
        self.count(|verdict| matches!(verdict, Verdict::Skip(_)))
    }

    pub fn not_judged_count(&self) -> usize {
        self.count(|verdict| matches!(verdict, Verdict::NotJudged(_)))
    }

    fn count(&self, which: impl Fn(&Verdict) -> bool) -> usize {
        self.results
            .iter()
            .filter(|result| which(&result.verdict))
            .count()
    }

    /// Whether the grade is a pass: no check failed, and none was skipped but
    /// for want of a measurement this system cannot make (see
    /// [`Verdict::not_on_this_platform`]). A check skipped for want of a
    /// setting, or because the server did not start, is not a pass.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|result| match &result.verdict {
            Verdict::Pass => true,
            Verdict::Fail(_) | Verdict::NotJudged(_) => false,
            Verdict::Skip(reason) => reason.starts_with(NOT_ON_THIS_PLATFORM),
        })
    }

    /// The ids of the checks that failed, in report order.
    pub fn failed_ids(&self) -> Vec<&'static str> {
        self.ids(|verdict| matches!(verdict, Verdict::Fail(_)))
    }

    /// The ids of the checks that were not judged, in report order.
    pub fn not_judged_ids(&self) -> Vec<&'static str> {
        self.ids(|verdict| matches!(verdict, Verdict::NotJudged(_)))
    }

    /// The ids of the checks that were skipped, in report order.
    pub fn skipped_ids(&self) -> Vec<&'static str> {
        self.ids(|verdict| matches!(verdict, Verdict::Skip(_)))
    }

    fn ids(&self, which: impl Fn(&Verdict) -> bool) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|result| which(&result.verdict))
            .map(|result| result.check.id)
            .collect()
    }

    /// The verdict on the check called `id`.
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.results
            .iter()
            .find(|result| result.check.id == id)
            .map(|result| &result.verdict)
    }

    /// `stage 2 (thread-per-client): 11/12 checks passed`, or
    /// `stage 3 (not-found) with ranges: 17/18 checks passed`.
    pub fn score_line(&self) -> String {
        let mut line = format!(
            "{}: {}/{} checks passed",
            self.graded(),
            self.passed_count(),
            self.results.len()
        );
        if self.not_judged_count() > 0 {
            let _ = write!(line, ", {} not judged", self.not_judged_count());
        }
        if self.skipped_count() > 0 {
            let _ = write!(line, ", {} skipped", self.skipped_count());
        }
        line
    }

    /// The report as one JSON object (see the module docs for the format),
    /// with a line end.
    pub fn to_json(&self) -> String {
        let report = JsonReport {
            format: JSON_FORMAT,
            stage: JsonStage {
                number: self.stage.number(),
                name: self.stage.name(),
            },
            server: &self.server,
            passed: self.passed_count(),
            failed: self.failed_count(),
            skipped: self.skipped_count(),
            total: self.results.len(),
            success: self.passed(),
            server_exit: self.server_exit.as_deref(),
            checks: self.results.iter().map(JsonCheck::from).collect(),
            not_judged: self.not_judged_count(),
            restarts: &self.restarts,
            extensions: self.extensions.iter().map(|e| e.name()).collect(),
        };
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Layout::default());
        report
            .serialize(&mut serializer)
            .expect("strings and numbers always serialize");
        out.push(b'\n');
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

/// The JSON object, key by key in the order they are printed.
#[derive(Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    stage: JsonStage,
    server: &'a str,
    passed: usize,
    failed: usize,
    skipped: usize,
    total: usize,
    success: bool,
    server_exit: Option<&'a str>,
    checks: Vec<JsonCheck<'a>>,
    // Added in the same format: new keys come after the old ones.
    not_judged: usize,
    restarts: &'a [String],
    extensions: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonStage {
    number: u8,
    name: &'static str,
}

/// One check's entry. Every key is always there; what does not apply is null.
#[derive(Serialize)]
struct JsonCheck<'a> {
    id: &'static str,
    stage: u8,
    title: &'static str,
    result: &'static str,
    millis: u64,
    problem: Option<&'a str>,
    sent: Option<&'a str>,
    received: Option<&'a str>,
    hint: Option<&'a str>,
    reason: Option<&'a str>,
    notes: &'a [String],
    /// The extension the check is of, or null for a stage's.
    extension: Option<&'static str>,
}

impl<'a> From<&'a CheckResult> for JsonCheck<'a> {
    fn from(result: &'a CheckResult) -> JsonCheck<'a> {
        let check = result.check;
        let (kind, failure, reason) = match &result.verdict {
            Verdict::Pass => ("pass", None, None),
            Verdict::Fail(failure) => ("fail", Some(failure), None),
            Verdict::NotJudged(reason) => ("not-judged", None, Some(reason.as_str())),
            Verdict::Skip(reason) => ("skip", None, Some(reason.as_str())),
        };
        JsonCheck {
            id: check.id,
            stage: check.stage.number(),
            title: check.title,
            result: kind,
            millis: u64::try_from(result.took.as_millis()).unwrap_or(u64::MAX),
            problem: failure.map(|failure| failure.problem.as_str()),
            sent: failure.and_then(|failure| failure.sent.as_deref()),
            received: failure.and_then(|failure| failure.received.as_deref()),
            hint: failure.map(|failure| failure.hint.as_deref().unwrap_or(check.hint)),
            reason,
            notes: &result.notes,
            extension: extension_of(check).map(Extension::name),
        }
    }
}

/// How the JSON is laid out: the top level one key a line, and anything below
/// it on one line, so that each check is one line a reader can scan, and a
/// `grep` can find.
#[derive(Default)]
struct Layout {
    depth: usize,
}

impl serde_json::ser::Formatter for Layout {
    fn begin_object<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth += 1;
        out.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth -= 1;
        out.write_all(if self.depth == 0 { b"\n}" } else { b" }" })
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        let separator: &[u8] = match (self.depth, first) {
            (1, true) => b"\n  ",
            (1, false) => b",\n  ",
            (_, true) => b" ",
            (_, false) => b", ",
        };
        out.write_all(separator)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth += 1;
        out.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.depth -= 1;
        out.write_all(if self.depth == 1 { b"\n  ]" } else { b"]" })
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        let separator: &[u8] = match (self.depth, first) {
            (2, true) => b"\n    ",
            (2, false) => b",\n    ",
            (_, true) => b"",
            (_, false) => b", ",
        };
        out.write_all(separator)
    }
}

impl fmt::Display for Report {
    /// The checklist, stage by stage, then the score line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}: {}", "Grading".bold(), self.graded(), self.server)?;
        write_faults(f, self)?;
        let mut last = None;
        for result in &self.results {
            let part = part_of(result.check);
            if last != Some(part) {
                last = Some(part);
                let heading = heading(part.0, part.1);
                writeln!(f, "\n{}", heading.bold())?;
            }
            write_result(f, result)?;
        }
        if let Some(exit) = &self.server_exit {
            writeln!(f, "\n{} the server {exit}", "note:".yellow().bold())?;
        }
        if let Some(output) = self
            .server_output
            .as_deref()
            .filter(|output| !output.is_empty())
        {
            writeln!(f, "\nthe server's last output:")?;
            for line in output.lines() {
                writeln!(f, "  | {line}")?;
            }
        }
        let score = self.score_line();
        let score = if self.passed() {
            score.green().bold()
        } else {
            score.red().bold()
        };
        writeln!(f, "\n{score}")
    }
}

/// The summary that opens a report: one line per fault found, and the
/// restarts, so that a reader sees at once what is wrong.
fn write_faults(f: &mut fmt::Formatter<'_>, report: &Report) -> fmt::Result {
    let faults: Vec<&CheckResult> = report
        .results
        .iter()
        .filter(|result| matches!(result.verdict, Verdict::Fail(_)))
        .collect();
    match faults.len() {
        0 => writeln!(f, "{}", "no faults found".green())?,
        1 => writeln!(f, "{}", "1 fault:".red().bold())?,
        n => writeln!(f, "{}", format!("{n} faults:").red().bold())?,
    }
    for result in faults {
        if let Verdict::Fail(failure) = &result.verdict {
            let problem = failure.problem.lines().next().unwrap_or("");
            let problem = shortened(problem, 160);
            writeln!(f, "  {} {problem}", format!("{}:", result.check.id).bold())?;
        }
    }
    match report.restarts.len() {
        0 => Ok(()),
        n => {
            let times = if n == 1 { "once" } else { "times" };
            let count = if n == 1 {
                String::new()
            } else {
                format!("{n} ")
            };
            writeln!(
                f,
                "{}",
                format!("the server was restarted {count}{times}:").yellow()
            )?;
            for why in &report.restarts {
                writeln!(f, "  - {why}")?;
            }
            Ok(())
        }
    }
}

/// `text` in at most `most` characters: cut at the last space that fits,
/// with an ellipsis, so that no number or word is cut in two (a "5.3 s" cut
/// to "5." reads as a different number). The check's own entry below has
/// the whole of it.
fn shortened(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let head: String = text.chars().take(most - 1).collect();
    let cut = head.rfind(' ').unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end_matches([',', ';', ':']))
}

fn write_result(f: &mut fmt::Formatter<'_>, result: &CheckResult) -> fmt::Result {
    write_verdict(f, result)?;
    for note in &result.notes {
        write_field(f, "note:", note)?;
    }
    Ok(())
}

fn write_verdict(f: &mut fmt::Formatter<'_>, result: &CheckResult) -> fmt::Result {
    let check = result.check;
    let took = format!("{} ms", result.took.as_millis());
    match &result.verdict {
        Verdict::Pass => writeln!(
            f,
            "  {} {} {}",
            "✓".green().bold(),
            check.title,
            format!("[{}, {took}]", check.id).dimmed()
        ),
        Verdict::Skip(reason) => writeln!(
            f,
            "  {} {} {}\n      {} {reason}",
            "-".yellow().bold(),
            check.title,
            format!("[{}]", check.id).dimmed(),
            "skipped:".yellow()
        ),
        Verdict::NotJudged(reason) => writeln!(
            f,
            "  {} {} {}\n      {} {reason}",
            "?".yellow().bold(),
            check.title,
            format!("[{}]", check.id).dimmed(),
            "not judged:".yellow()
        ),
        Verdict::Fail(failure) => {
            writeln!(
                f,
                "  {} {} {}",
                "✗".red().bold(),
                check.title.bold(),
                format!("[{}, {took}]", check.id).dimmed()
            )?;
            write_field(f, "problem:", &failure.problem)?;
            if let Some(sent) = &failure.sent {
                write_field(f, "sent:", sent)?;
            }
            if let Some(received) = &failure.received {
                write_field(f, "received:", received)?;
            }
            write_field(f, "hint:", failure.hint.as_deref().unwrap_or(check.hint))
        }
    }
}

/// `      label:    text`, with the text's later lines indented under it.
fn write_field(f: &mut fmt::Formatter<'_>, label: &str, text: &str) -> fmt::Result {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    writeln!(f, "      {} {first}", format!("{label:<9}").cyan())?;
    for line in lines {
        writeln!(f, "                {line}")?;
    }
    Ok(())
}

/// The part of the checklist `check` goes in: its stage's, or its
/// extension's (which holds checks of several stages).
pub(crate) fn part_of(check: &Check) -> (Stage, Option<Extension>) {
    match extension_of(check) {
        Some(extension) => (Stage::SingleThreaded, Some(extension)),
        None => (check.stage, None),
    }
}

/// The heading a part of the checklist goes under: `stage 2:
/// thread-per-client`, or `extension: ranges` for an extension's checks.
pub(crate) fn heading(stage: Stage, extension: Option<Extension>) -> String {
    match extension {
        Some(extension) => format!("extension: {extension}"),
        None => format!("stage {}: {stage}", stage.number()),
    }
}

/// The checks, stage by stage, up to `stage`, and then every extension's:
/// what `grade --list` prints.
pub fn list(stage: Stage) -> String {
    let mut out = String::new();
    let stages = Stage::ALL
        .into_iter()
        .filter(|s| *s <= stage)
        .map(|stage| (heading(stage, None), stage, None));
    let extensions = EXTENSIONS.iter().map(|(extension, _)| {
        (
            format!(
                "{} (--with {extension}: {})",
                heading(Stage::SingleThreaded, Some(*extension)),
                extension.about()
            ),
            Stage::SingleThreaded,
            Some(*extension),
        )
    });
    for (title, stage, extension) in stages.chain(extensions) {
        out.push_str(&format!("{title}\n"));
        for check in CHECKS
            .iter()
            .filter(|check| part_of(check) == (stage, extension))
        {
            let mut notes = vec![format!("{} s", check.limit.as_secs())];
            if extension.is_some() && check.stage > Stage::SingleThreaded {
                notes.push(format!("from stage {}", check.stage.number()));
            }
            if check.needs.contains(&Need::KeepAliveTimeout) {
                notes[0].push_str(" + the keep-alive timeout");
            }
            if matches!(check.mode, Mode::OwnServer(_))
                || check.needs.contains(&Need::ThreadCount)
                || check.needs.contains(&Need::Uploads)
            {
                notes.push("command mode only".to_owned());
            }
            let placeholders: Vec<&str> = check
                .needs
                .iter()
                .filter_map(|need| match need {
                    Need::Threads => Some(check::THREADS),
                    Need::Queue => Some(check::QUEUE),
                    Need::KeepAliveTimeout => Some(check::KEEP_ALIVE_TIMEOUT),
                    Need::Uploads => Some(check::UPLOADS),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut report = Report::new(Stage::ThreadPerClient, "python3 server.py 1 /x".into());
        report.results = CHECKS
            .iter()
            .take(3)
            .enumerate()
            .map(|(n, check)| CheckResult {
                check,
                verdict: match n {
                    0 => Verdict::Pass,
                    1 => Verdict::Fail(Failure::new("said \"no\"\nand left").sent("GET /\r\n")),
                    _ => Verdict::Skip("not today".into()),
                },
                took: Duration::from_millis(7),
                notes: Vec::new(),
            })
            .collect();
        report
    }

    #[test]
    fn a_long_fault_is_shortened_between_words() {
        let long = "meanwhile the server used 2620 ms of CPU time in 5.3 s: it is spinning";
        assert_eq!(shortened(long, 200), long);
        assert_eq!(
            shortened(long, 50),
            "meanwhile the server used 2620 ms of CPU time in…"
        );
        assert_eq!(
            shortened(long, 60),
            "meanwhile the server used 2620 ms of CPU time in 5.3 s: it…"
        );
        assert!(shortened(long, 60).chars().count() <= 60);
    }

    #[test]
    fn the_score_line_counts_passes_out_of_all() {
        let report = report();
        assert_eq!(
            report.score_line(),
            "stage 2 (thread-per-client): 1/3 checks passed, 1 skipped"
        );
        assert!(!report.passed());
    }

    /// A check skipped because this system cannot measure what it needs does
    /// not fail the grade; one skipped for any other reason does, and so does
    /// a failure.
    #[test]
    fn only_a_skip_for_the_platform_does_not_fail_the_grade() {
        let mut report = report();
        report.results[1].verdict = Verdict::Pass;
        assert!(!report.passed(), "skipped: not today");
        report.results[2].verdict = Verdict::not_on_this_platform("no thread counts");
        assert!(report.passed());
        assert_eq!(report.skipped_count(), 1, "it is still reported as skipped");
        report.results[0].verdict = Verdict::Fail(Failure::new("no"));
        assert!(!report.passed());
    }

    /// What the hand-written JSON of the grader's first version printed for
    /// [`four_checks`], with the keys added since (`notes` and `extension`,
    /// last in a check; `not_judged`, `restarts` and `extensions`, last at
    /// the top), and two checks' titles
    /// as they read now: the object must keep every key, in order, with its
    /// meaning.
    const FIRST_VERSION: &str = r#"{
  "format": "multithreaded-server-grade/1",
  "stage": { "number": 2, "name": "thread-per-client" },
  "server": "python3 server.py 1 /x \"q\"",
  "passed": 1, "failed": 2, "skipped": 1, "total": 4,
  "success": false,
  "server_exit": "exited with status 1",
  "checks": [
    { "id": "connects", "stage": 1, "title": "accepts connections on its port and answers a request, even after a client that sent nothing", "result": "pass", "millis": 7, "problem": null, "sent": null, "received": null, "hint": null, "reason": null, "notes": [], "extension": null },
    { "id": "text-files", "stage": 1, "title": "text files come back with 200, byte for byte", "result": "fail", "millis": 8, "problem": "said \"no\"\nand left\u0001é", "sent": "GET /\r\n", "received": "HTTP/1.1 200 OK\\r\\n", "hint": "Send the file's bytes exactly as they are on disk: read it as bytes, not as text, which can change line ends.", "reason": null, "notes": [], "extension": null },
    { "id": "binary-files", "stage": 1, "title": "binary files (PNG, arbitrary bytes) come back with 200, byte for byte", "result": "fail", "millis": 9, "problem": "plain", "sent": null, "received": null, "hint": "own hint", "reason": null, "notes": [], "extension": null },
    { "id": "content-length", "stage": 1, "title": "Content-Length is the number of bytes in the body (or the body is chunked)", "result": "skip", "millis": 10, "problem": null, "sent": null, "received": null, "hint": null, "reason": "not today", "notes": [], "extension": null }
  ],
  "not_judged": 0,
  "restarts": [],
  "extensions": []
}"#;

    /// A pass, two failures (one with a hint of its own), a skip, and text
    /// that needs escaping.
    fn four_checks() -> Report {
        let mut report = Report::new(
            Stage::ThreadPerClient,
            "python3 server.py 1 /x \"q\"".into(),
        );
        report.server_exit = Some("exited with status 1".into());
        report.results = CHECKS
            .iter()
            .take(4)
            .enumerate()
            .map(|(n, check)| CheckResult {
                check,
                verdict: match n {
                    0 => Verdict::Pass,
                    1 => Verdict::Fail(
                        Failure::new("said \"no\"\nand left\u{1}é")
                            .sent("GET /\r\n")
                            .received("HTTP/1.1 200 OK\\r\\n"),
                    ),
                    2 => Verdict::Fail(Failure::new("plain").hint("own hint")),
                    _ => Verdict::Skip("not today".into()),
                },
                took: Duration::from_millis(7 + n as u64),
                notes: Vec::new(),
            })
            .collect();
        report
    }

    /// The keys of a JSON text, in the order they are written.
    fn keys(json: &str) -> Vec<&str> {
        json.split('"')
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|pair| pair[1].starts_with(": "))
            .map(|pair| pair[0])
            .collect()
    }

    #[test]
    fn json_is_the_object_it_always_was() {
        let json = four_checks().to_json();
        let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(value(&json), value(FIRST_VERSION));
        assert_eq!(keys(&json), keys(FIRST_VERSION));
        assert!(json.starts_with("{\n  \"format\": \"multithreaded-server-grade/1\",\n"));
        assert!(json.ends_with("\n  ]\n}\n"));
        // One line a check, as before.
        let lines: Vec<&str> = json
            .lines()
            .filter(|line| line.starts_with("    { \"id\": "))
            .collect();
        assert_eq!(lines.len(), 4, "{json}");
        assert!(
            lines[1].contains("\"problem\": \"said \\\"no\\\"\\nand left\\u0001é\""),
            "{json}"
        );
        assert!(
            json.contains("\n  \"stage\": { \"number\": 2, \"name\": \"thread-per-client\" },\n")
        );
    }

    #[test]
    fn the_checklist_shows_failures_in_full() {
        colored::control::set_override(false);
        let text = report().to_string();
        assert!(text.contains("  ✓ accepts connections"), "{text}");
        assert!(
            text.contains("      problem:  said \"no\"\n                and left\n"),
            "{text}"
        );
        assert!(text.contains("      sent:     GET /\n"), "{text}");
        assert!(text.ends_with("\nstage 2 (thread-per-client): 1/3 checks passed, 1 skipped\n"));
    }
}
