//! What a grading run found: a coloured checklist for people, and one JSON
//! object for autograding pipelines.
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
//!   "passed": 9, "failed": 1, "skipped": 0, "total": 10,
//!   "success": false,
//!   "server_exit": null,
//!   "checks": [
//!     { "id": "connects", "stage": 1, "title": "accepts connections on ...",
//!       "result": "pass", "millis": 2,
//!       "problem": null, "sent": null, "received": null, "hint": null, "reason": null },
//!     { "id": "content-type", "stage": 1, "title": "...", "result": "fail", "millis": 12,
//!       "problem": "GET /style.css: Content-Type is `text/html`; expected text/css",
//!       "sent": "GET /style.css HTTP/1.1\\r\\n...", "received": "HTTP/1.1 200 OK\\r\\n...",
//!       "hint": "Choose Content-Type from the file's extension; ...", "reason": null }
//!   ]
//! }
//! ```
//!
//! - `result` is `"pass"`, `"fail"` or `"skip"`; `reason` says why a check was
//!   skipped; `problem`, `sent`, `received` and `hint` describe a failure
//!   (`sent` and `received` may be null when there was no single exchange).
//! - `success` is true only when every check passed, as the exit code is 0 only
//!   then.
//! - `server_exit` is null, or how the server ended when it exited during
//!   grading without being asked to ("exited with status 1").
//! - Every key is always present; new keys may be added, existing ones keep
//!   their meaning while `format` stays the same.

use std::fmt::{self, Write as _};
use std::time::Duration;

use colored::Colorize;

use super::checks::{Check, Failure};
use crate::stages::Stage;

/// The format name in the JSON object; changes only if a key changes meaning.
pub const JSON_FORMAT: &str = "multithreaded-server-grade/1";

/// How one check went.
#[derive(Clone, Debug)]
pub enum Verdict {
    Pass,
    Fail(Failure),
    /// Not run, and why.
    Skip(String),
}

/// One check and its verdict.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub check: &'static Check,
    pub verdict: Verdict,
    pub took: Duration,
}

/// Everything a grading run found.
#[derive(Clone, Debug)]
pub struct Report {
    pub stage: Stage,
    /// What was graded: the command line as run, or the address.
    pub server: String,
    /// One entry per check, in the order of [`super::CHECKS`].
    pub results: Vec<CheckResult>,
    /// How the server ended, if it exited during grading unasked.
    pub server_exit: Option<String>,
    /// Its last lines of output, when they help explain a failure.
    pub server_output: Option<String>,
}

impl Report {
    pub fn new(stage: Stage, server: String) -> Report {
        Report {
            stage,
            server,
            results: Vec::new(),
            server_exit: None,
            server_output: None,
        }
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

    fn count(&self, which: impl Fn(&Verdict) -> bool) -> usize {
        self.results
            .iter()
            .filter(|result| which(&result.verdict))
            .count()
    }

    /// Whether every check passed (none failed, none was skipped).
    pub fn passed(&self) -> bool {
        self.passed_count() == self.results.len()
    }

    /// The ids of the checks that failed, in report order.
    pub fn failed_ids(&self) -> Vec<&'static str> {
        self.ids(|verdict| matches!(verdict, Verdict::Fail(_)))
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

    /// `stage 2 (thread-per-client): 11/12 checks passed`.
    pub fn score_line(&self) -> String {
        let mut line = format!(
            "stage {} ({}): {}/{} checks passed",
            self.stage.number(),
            self.stage,
            self.passed_count(),
            self.results.len()
        );
        if self.skipped_count() > 0 {
            let _ = write!(line, ", {} skipped", self.skipped_count());
        }
        line
    }

    /// The report as one JSON object (see the module docs for the format).
    pub fn to_json(&self) -> String {
        let checks: Vec<String> = self.results.iter().map(check_json).collect();
        format!(
            "{{\n  \"format\": {},\n  \"stage\": {{ \"number\": {}, \"name\": {} }},\n  \"server\": {},\n  \
             \"passed\": {}, \"failed\": {}, \"skipped\": {}, \"total\": {},\n  \"success\": {},\n  \
             \"server_exit\": {},\n  \"checks\": [\n    {}\n  ]\n}}\n",
            json_string(JSON_FORMAT),
            self.stage.number(),
            json_string(self.stage.name()),
            json_string(&self.server),
            self.passed_count(),
            self.failed_count(),
            self.skipped_count(),
            self.results.len(),
            self.passed(),
            json_option(self.server_exit.as_deref()),
            checks.join(",\n    ")
        )
    }
}

fn check_json(result: &CheckResult) -> String {
    let check = result.check;
    let (kind, failure, reason) = match &result.verdict {
        Verdict::Pass => ("pass", None, None),
        Verdict::Fail(failure) => ("fail", Some(failure), None),
        Verdict::Skip(reason) => ("skip", None, Some(reason.as_str())),
    };
    format!(
        "{{ \"id\": {}, \"stage\": {}, \"title\": {}, \"result\": {}, \"millis\": {}, \
         \"problem\": {}, \"sent\": {}, \"received\": {}, \"hint\": {}, \"reason\": {} }}",
        json_string(check.id),
        check.stage.number(),
        json_string(check.title),
        json_string(kind),
        result.took.as_millis(),
        json_option(failure.map(|failure| failure.problem.as_str())),
        json_option(failure.and_then(|failure| failure.sent.as_deref())),
        json_option(failure.and_then(|failure| failure.received.as_deref())),
        json_option(failure.map(|failure| failure.hint.as_deref().unwrap_or(check.hint))),
        json_option(reason),
    )
}

/// A JSON string: quoted, with `"`, `\` and control characters escaped
/// (RFC 8259 §7). Everything else, non-ASCII included, is written as is.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_option(text: Option<&str>) -> String {
    text.map_or_else(|| "null".to_owned(), json_string)
}

impl fmt::Display for Report {
    /// The checklist, stage by stage, then the score line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} stage {} ({}): {}",
            "Grading".bold(),
            self.stage.number(),
            self.stage,
            self.server
        )?;
        let mut stage = None;
        for result in &self.results {
            if stage != Some(result.check.stage) {
                stage = Some(result.check.stage);
                let heading = format!(
                    "stage {}: {}",
                    result.check.stage.number(),
                    result.check.stage
                );
                writeln!(f, "\n{}", heading.bold())?;
            }
            write_result(f, result)?;
        }
        if let Some(exit) = &self.server_exit {
            writeln!(
                f,
                "\n{} the server {exit} during grading",
                "note:".yellow().bold()
            )?;
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

fn write_result(f: &mut fmt::Formatter<'_>, result: &CheckResult) -> fmt::Result {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::checks::CHECKS;

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
            })
            .collect();
        report
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

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }

    #[test]
    fn json_has_every_key_for_every_check() {
        let json = report().to_json();
        assert!(json.starts_with("{\n  \"format\": \"multithreaded-server-grade/1\""));
        assert!(json.contains("\"passed\": 1, \"failed\": 1, \"skipped\": 1, \"total\": 3"));
        assert!(json.contains("\"problem\": \"said \\\"no\\\"\\nand left\""));
        assert_eq!(json.matches("\"reason\":").count(), 3);
        assert!(json.contains("\"reason\": \"not today\""));
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
