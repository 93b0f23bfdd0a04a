//! The report in the forms instructors' tools read: Gradescope's
//! `results.json`, GitHub Classroom's grading reporter, JUnit XML (GitLab,
//! Jenkins and GitHub's test reporters), and a feedback page to hand back
//! (Markdown or HTML); and the points each check is worth.
//!
//! # Points
//!
//! Every check is worth [`DEFAULT_POINTS`] unless a points file says
//! otherwise: a TOML table or a JSON object from check ids to numbers, or to
//! a table with `points` and Gradescope's `visibility`,
//!
//! ```toml
//! no-traversal = 3
//! split-request = 2
//! ctrl-c-exits-0 = { points = 2, visibility = "after_due_date" }
//! ```
//!
//! A check passes or fails whole: it scores its points, or none. A skipped
//! check scores none, and says why, so that a grading set up without the
//! placeholders a check needs is noticed.
//!
//! # Verdicts in each format
//!
//! | verdict | Gradescope | Classroom | JUnit | feedback |
//! |---|---|---|---|---|
//! | pass | `passed`, its points | `pass`, its points | a bare `<testcase>` | listed as passed |
//! | fail | `failed`, 0 | `fail`, 0 | `<failure>` | problem, sent, received, hint |
//! | not judged | `failed`, 0, what it needed and whose fault | `fail`, 0, the same | `<error type="not-judged">` | the same, linked to that fault |
//! | skip | `failed`, 0, the reason | `fail`, 0, the reason | `<skipped>` with the reason as its text | the reason |
//!
//! A check not judged scores nothing, as a failure does, but it is not a
//! fault of its own: its reason names the check whose fault kept it from its
//! evidence ("needs a file served with 200, which `text-files` found
//! broken"), and every format says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::CHECKS;
use crate::report::{CheckResult, Report, Verdict, heading, part_of};

/// What a check is worth when the points file does not say.
pub const DEFAULT_POINTS: f64 = 1.0;

/// When Gradescope shows a test to the student: its `visibility` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Never shown to the student.
    Hidden,
    /// Shown once the assignment's due date has passed.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
    /// Shown at once (Gradescope's default).
    Visible,
}

impl Visibility {
    /// Every value, in the spelling Gradescope's `results.json` uses.
    pub const ALL: [Visibility; 4] = [
        Visibility::Hidden,
        Visibility::AfterDueDate,
        Visibility::AfterPublished,
        Visibility::Visible,
    ];

    /// The word in `results.json`: `hidden`, `after_due_date`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
            Visibility::Visible => "visible",
        }
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;

    fn from_str(text: &str) -> Result<Visibility, String> {
        Visibility::ALL
            .into_iter()
            .find(|visibility| visibility.as_str() == text)
            .ok_or_else(|| {
                let words: Vec<&str> = Visibility::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "`{text}` is not a visibility; it is one of {}",
                    words.join(", ")
                )
            })
    }
}

/// Points (and Gradescope visibility) per check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points {
    given: BTreeMap<String, f64>,
    visibility: BTreeMap<String, Visibility>,
    /// The visibility of the checks the file gives none (`--visibility`).
    default_visibility: Option<Visibility>,
}

/// Why a points file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    #[error("the points file is not a TOML table or a JSON object of numbers: {0}")]
    Syntax(String),
    #[error("the points file gives `{0}` a value that is not a number of points of 0 or more")]
    Value(String),
    #[error("the points file names `{0}`, which is not a check; `grade --list` lists them")]
    UnknownCheck(String),
    #[error(
        "the points file gives `{0}` a visibility that is not one of hidden, after_due_date, after_published, visible"
    )]
    Visibility(String),
    #[error("the points file gives `{0}` a key other than `points` and `visibility`")]
    Key(String),
}

/// One check's entry, as read: its points, and its visibility if given.
type Entry = (Option<f64>, Option<Result<Visibility, ()>>, bool);

impl Points {
    /// Parses a points file: JSON if it starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<Points, PointsError> {
        let values: Vec<(String, Entry)> = if text.trim_start().starts_with('{') {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
                .map_err(|error| PointsError::Syntax(error.to_string()))?;
            object
                .into_iter()
                .map(|(id, value)| {
                    let entry = match &value {
                        serde_json::Value::Object(table) => (
                            table
                                .get("points")
                                .map(|p| p.as_f64())
                                .unwrap_or(Some(DEFAULT_POINTS)),
                            table.get("visibility").map(|v| {
                                v.as_str().ok_or(()).and_then(|v| v.parse().map_err(|_| ()))
                            }),
                            table
                                .keys()
                                .all(|key| key == "points" || key == "visibility"),
                        ),
                        other => (other.as_f64(), None, true),
                    };
                    (id, entry)
                })
                .collect()
        } else {
            let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
                PointsError::Syntax(error.message().to_owned())
            })?;
            let number = |value: &toml::Value| match value {
                toml::Value::Integer(n) => Some(*n as f64),
                toml::Value::Float(x) => Some(*x),
                _ => None,
            };
            table
                .into_iter()
                .map(|(id, value)| {
                    let entry = match &value {
                        toml::Value::Table(table) => (
                            table
                                .get("points")
                                .map(number)
                                .unwrap_or(Some(DEFAULT_POINTS)),
                            table.get("visibility").map(|v| {
                                v.as_str().ok_or(()).and_then(|v| v.parse().map_err(|_| ()))
                            }),
                            table
                                .keys()
                                .all(|key| key == "points" || key == "visibility"),
                        ),
                        other => (number(other), None, true),
                    };
                    (id, entry)
                })
                .collect()
        };
        let mut points = Points::default();
        for (id, (value, visibility, known_keys)) in values {
            if !CHECKS.iter().any(|check| check.id == id) {
                return Err(PointsError::UnknownCheck(id));
            }
            if !known_keys {
                return Err(PointsError::Key(id));
            }
            match value {
                Some(value) if value.is_finite() && value >= 0.0 => {
                    points.given.insert(id.clone(), value);
                }
                _ => return Err(PointsError::Value(id)),
            }
            match visibility {
                None => {}
                Some(Ok(visibility)) => {
                    points.visibility.insert(id, visibility);
                }
                Some(Err(())) => return Err(PointsError::Visibility(id)),
            }
        }
        Ok(points)
    }

    /// Gives every check the file gives no visibility this one.
    pub fn with_default_visibility(mut self, visibility: Option<Visibility>) -> Points {
        self.default_visibility = visibility;
        self
    }

    /// What the check called `id` is worth.
    pub fn of(&self, id: &str) -> f64 {
        self.given.get(id).copied().unwrap_or(DEFAULT_POINTS)
    }

    /// When Gradescope shows the check called `id`; `None` leaves it to
    /// Gradescope (which shows it).
    pub fn visibility(&self, id: &str) -> Option<Visibility> {
        self.visibility.get(id).copied().or(self.default_visibility)
    }

    /// What `result` scored: the check's points for a pass, none otherwise.
    pub fn scored(&self, result: &CheckResult) -> f64 {
        match result.verdict {
            Verdict::Pass => self.of(result.check.id),
            Verdict::Fail(_) | Verdict::NotJudged(_) | Verdict::Skip(_) => 0.0,
        }
    }

    /// What a report scored, and the most it could have.
    pub fn total(&self, report: &Report) -> (f64, f64) {
        let scored = report.results.iter().map(|r| self.scored(r)).sum();
        let maximum = report.results.iter().map(|r| self.of(r.check.id)).sum();
        (scored, maximum)
    }
}

/// A number of points as people write it: `3`, `1.5`, `0.25`.
pub fn show_points(points: f64) -> String {
    let text = format!("{points:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Gradescope's `results.json`: the total score, and a test per check.
#[derive(Serialize)]
struct Gradescope {
    score: f64,
    execution_time: f64,
    output: String,
    tests: Vec<GradescopeTest>,
}

#[derive(Serialize)]
struct GradescopeTest {
    name: String,
    score: f64,
    max_score: f64,
    /// "passed" or "failed" (a skipped check scores nothing: "failed").
    status: &'static str,
    output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<&'static str>,
}

/// GitHub Classroom's grading reporter
/// (`classroom-resources/autograding-grading-reporter`) reads this, base64
/// encoded, from `<STEP_ID>_RESULTS`: it adds up the tests' `score` and the
/// `max_score`, prints "Points 12/15.5", and fails the job when `status` is
/// `fail`.
#[derive(Serialize)]
struct Classroom {
    version: u32,
    status: &'static str,
    max_score: f64,
    tests: Vec<ClassroomTest>,
}

#[derive(Serialize)]
struct ClassroomTest {
    name: String,
    status: &'static str,
    score: f64,
    message: String,
    line_no: Option<u32>,
    execution_time: String,
}

/// What a check's result says, in plain text: nothing for a pass but its
/// notes; the problem, both sides of the exchange and the hint for a failure;
/// the reason for a skip.
pub fn details(result: &CheckResult) -> String {
    let mut out = String::new();
    match &result.verdict {
        Verdict::Pass => {}
        Verdict::Fail(failure) => {
            let _ = writeln!(out, "problem: {}", failure.problem);
            if let Some(sent) = &failure.sent {
                let _ = writeln!(out, "sent: {sent}");
            }
            if let Some(received) = &failure.received {
                let _ = writeln!(out, "received: {received}");
            }
            let hint = failure.hint.as_deref().unwrap_or(result.check.hint);
            let _ = writeln!(out, "hint: {hint}");
        }
        Verdict::NotJudged(reason) => {
            let _ = writeln!(out, "not judged: {reason}");
            let _ = writeln!(out, "{NOT_JUDGED_MEANS}");
        }
        Verdict::Skip(reason) => {
            let _ = writeln!(out, "skipped: {reason}");
        }
    }
    for note in &result.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// What a verdict of "not judged" means, said under its reason.
const NOT_JUDGED_MEANS: &str = "It scores nothing until that fault is fixed, and is not a fault of its own: fix that check first, and this one is judged.";

/// The word for a verdict in tables, as in the JSON report: `pass`, `fail`,
/// `not-judged`, `skip`.
pub fn verdict_word(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail(_) => "fail",
        Verdict::NotJudged(_) => "not-judged",
        Verdict::Skip(_) => "skip",
    }
}

impl Report {
    /// Gradescope's autograder `results.json`, with a line end.
    pub fn to_gradescope(&self, points: &Points) -> String {
        let tests: Vec<GradescopeTest> = self
            .results
            .iter()
            .map(|result| GradescopeTest {
                name: format!("{}: {}", result.check.id, result.check.title),
                score: points.scored(result),
                max_score: points.of(result.check.id),
                status: match result.verdict {
                    Verdict::Pass => "passed",
                    Verdict::Fail(_) | Verdict::NotJudged(_) | Verdict::Skip(_) => "failed",
                },
                output: details(result),
                visibility: points.visibility(result.check.id).map(Visibility::as_str),
            })
            .collect();
        let mut output = self.score_line();
        if let Some(exit) = &self.server_exit {
            let _ = write!(output, "\nthe server {exit}");
        }
        let results = Gradescope {
            score: tests.iter().map(|test| test.score).sum(),
            execution_time: self.total_time().as_secs_f64(),
            output,
            tests,
        };
        let mut json = serde_json::to_string_pretty(&results).expect("numbers and strings");
        json.push('\n');
        json
    }

    /// The JSON that GitHub Classroom's grading reporter reads (see
    /// [`Classroom`]), on one line with a line end: the workflow encodes it
    /// in base64 into a step's `result` output.
    pub fn to_classroom(&self, points: &Points) -> String {
        let tests: Vec<ClassroomTest> = self
            .results
            .iter()
            .map(|result| ClassroomTest {
                name: format!("{}: {}", result.check.id, result.check.title),
                status: match result.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Fail(_) | Verdict::NotJudged(_) | Verdict::Skip(_) => "fail",
                },
                score: points.scored(result),
                message: details(result),
                line_no: None,
                execution_time: format!("{}ms", result.took.as_millis()),
            })
            .collect();
        let results = Classroom {
            version: 1,
            status: if self.passed() { "pass" } else { "fail" },
            max_score: points.total(self).1,
            tests,
        };
        let mut json = serde_json::to_string(&results).expect("numbers and strings");
        json.push('\n');
        json
    }

    /// JUnit XML, valid against the Jenkins xunit plugin's `junit-10.xsd`
    /// (which GitLab and GitHub's reporters read too): one `<testsuite>` per
    /// stage and per extension, one `<testcase>` per check, with `<failure>`, `<error>` for a
    /// check not judged, or `<skipped>` whose text is the reason (GitLab
    /// shows a skip's reason from its text); with a line end.
    pub fn to_junit(&self) -> String {
        let seconds = |result: &CheckResult| format!("{:.3}", result.took.as_secs_f64());
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // The schema allows no `skipped` here: each suite has its own count.
        let _ = writeln!(
            xml,
            "<testsuites name=\"multithreaded-server grade\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
            self.results.len(),
            self.failed_count(),
            self.not_judged_count(),
            self.total_time().as_secs_f64()
        );
        // A suite per stage, and one per extension graded.
        let part = |result: &CheckResult| part_of(result.check);
        let mut parts: Vec<_> = self.results.iter().map(part).collect();
        parts.dedup();
        for (stage, extension) in parts {
            let results: Vec<&CheckResult> = self
                .results
                .iter()
                .filter(|result| part(result) == (stage, extension))
                .collect();
            let count =
                |which: fn(&Verdict) -> bool| results.iter().filter(|r| which(&r.verdict)).count();
            let time: std::time::Duration = results.iter().map(|r| r.took).sum();
            // `errors` is required: the checks not judged, each an `<error>`.
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
                heading(stage, extension),
                results.len(),
                count(|v| matches!(v, Verdict::Fail(_))),
                count(|v| matches!(v, Verdict::NotJudged(_))),
                count(|v| matches!(v, Verdict::Skip(_))),
                time.as_secs_f64(),
            );
            for result in results {
                let _ = write!(
                    xml,
                    "    <testcase classname=\"grade.{}\" name=\"{}: {}\" time=\"{}\"",
                    extension.map_or(format!("stage{}", stage.number()), |e| e.name().to_owned()),
                    result.check.id,
                    xml_escape(result.check.title),
                    seconds(result)
                );
                match &result.verdict {
                    Verdict::Pass if result.notes.is_empty() => xml.push_str("/>\n"),
                    Verdict::Pass => {
                        let _ = write!(
                            xml,
                            ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                            xml_escape(&details(result))
                        );
                    }
                    Verdict::Fail(failure) => {
                        let _ = write!(
                            xml,
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                            xml_escape(&failure.problem),
                            xml_escape(&details(result))
                        );
                    }
                    // Not judged is not a failure of its own, nor a skip: an
                    // error, which JUnit keeps apart from both.
                    Verdict::NotJudged(reason) => {
                        let _ = write!(
                            xml,
                            ">\n      <error type=\"not-judged\" message=\"not judged: {}\">{}</error>\n    </testcase>\n",
                            xml_escape(reason),
                            xml_escape(&details(result))
                        );
                    }
                    Verdict::Skip(reason) => {
                        let _ = write!(
                            xml,
                            ">\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>\n",
                            xml_escape(reason),
                            xml_escape(reason)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }

    /// A feedback page in Markdown, to hand back: the score, then every
    /// check that did not pass with its problem, both sides of the exchange
    /// and the hint (or why it was skipped), then those that passed.
    pub fn to_markdown(&self, points: &Points, title: &str) -> String {
        let (scored, maximum) = points.total(self);
        let mut md = format!(
            "# {title}\n\nStage {} ({}): **{} of {} points**; {}.\n",
            self.stage.number(),
            self.stage,
            show_points(scored),
            show_points(maximum),
            self.score_line()
        );
        if let Some(exit) = &self.server_exit {
            let _ = write!(md, "\nThe server {exit}.\n");
        }
        if let Some(output) = self.server_output.as_deref().filter(|o| !o.is_empty()) {
            let _ = write!(md, "\nIts last output:\n\n{}\n", fence(output));
        }
        // The faults first, then what they kept from being judged, then
        // what was not run: a student fixes them in that order.
        let sections = [
            ("To fix", "fail"),
            ("Not judged, for a fault above", "not-judged"),
            ("Not run", "skip"),
        ];
        for (heading, word) in sections {
            let open: Vec<&CheckResult> = self
                .results
                .iter()
                .filter(|r| verdict_word(&r.verdict) == word)
                .collect();
            if !open.is_empty() {
                let _ = writeln!(md, "\n## {heading}");
            }
            for result in open {
                self.markdown_entry(&mut md, result, points);
            }
        }
        let passed: Vec<&CheckResult> = self
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Pass))
            .collect();
        if !passed.is_empty() {
            md.push_str("\n## Passed\n\n");
            for result in passed {
                let _ = writeln!(md, "- {}: {}", result.check.id, result.check.title);
                for note in &result.notes {
                    let _ = writeln!(md, "  (note: {note})");
                }
            }
        }
        md
    }

    /// One check that did not pass, on the feedback page: its problem, both
    /// sides of the exchange and the hint, or why it was not judged or run.
    fn markdown_entry(&self, md: &mut String, result: &CheckResult, points: &Points) {
        let check = result.check;
        let _ = write!(
            *md,
            "\n### {}: {} ({} points)\n\n",
            check.id,
            check.title,
            show_points(points.of(check.id))
        );
        match &result.verdict {
            Verdict::Pass => {}
            Verdict::Fail(failure) => {
                let _ = writeln!(*md, "**Problem:** {}\n", failure.problem);
                if let Some(sent) = &failure.sent {
                    let _ = writeln!(*md, "Sent:\n\n{}\n", fence(sent));
                }
                if let Some(received) = &failure.received {
                    let _ = writeln!(*md, "Received:\n\n{}\n", fence(received));
                }
                let hint = failure.hint.as_deref().unwrap_or(check.hint);
                let _ = writeln!(*md, "**Hint:** {hint}");
            }
            Verdict::NotJudged(reason) => {
                let _ = writeln!(*md, "**Not judged:** {reason}\n\n{NOT_JUDGED_MEANS}");
            }
            Verdict::Skip(reason) => {
                let _ = writeln!(*md, "**Not run:** {reason}");
            }
        }
        for note in &result.notes {
            let _ = writeln!(*md, "\nNote: {note}");
        }
    }

    /// The same feedback page in HTML, standing alone (its style inline),
    /// each check an element whose id is the check's, so that a gradebook
    /// can link to it.
    pub fn to_html(&self, points: &Points, title: &str) -> String {
        let (scored, maximum) = points.total(self);
        let mut html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{FEEDBACK_STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"score\">Stage {} ({}): <strong>{} of {} points</strong>; {}.</p>\n",
            html_escape(title),
            html_escape(title),
            self.stage.number(),
            self.stage,
            show_points(scored),
            show_points(maximum),
            html_escape(&self.score_line())
        );
        if let Some(exit) = &self.server_exit {
            let _ = writeln!(html, "<p>The server {}.</p>", html_escape(exit));
        }
        if let Some(output) = self.server_output.as_deref().filter(|o| !o.is_empty()) {
            let _ = writeln!(
                html,
                "<p>Its last output:</p>\n<pre>{}</pre>",
                html_escape(output)
            );
        }
        let mut stage = None;
        for result in &self.results {
            let check = result.check;
            if stage != Some(check.stage) {
                stage = Some(check.stage);
                let _ = writeln!(
                    html,
                    "<h2>Stage {}: {}</h2>",
                    check.stage.number(),
                    check.stage
                );
            }
            let (class, mark) = match &result.verdict {
                Verdict::Pass => ("pass", "✓"),
                Verdict::Fail(_) => ("fail", "✗"),
                Verdict::NotJudged(_) => ("not-judged", "?"),
                Verdict::Skip(_) => ("skip", "–"),
            };
            let _ = writeln!(
                html,
                "<section class=\"check {class}\" id=\"{}\">\n<h3><span class=\"mark\">{mark}</span> {} <code>{}</code> <span class=\"points\">{} / {}</span></h3>",
                check.id,
                html_escape(check.title),
                check.id,
                show_points(points.scored(result)),
                show_points(points.of(check.id)),
            );
            match &result.verdict {
                Verdict::Pass => {}
                Verdict::Fail(failure) => {
                    let _ = writeln!(
                        html,
                        "<p><strong>Problem:</strong> {}</p>",
                        html_escape(&failure.problem)
                    );
                    if let Some(sent) = &failure.sent {
                        let _ = writeln!(html, "<p>Sent:</p>\n<pre>{}</pre>", html_escape(sent));
                    }
                    if let Some(received) = &failure.received {
                        let _ = writeln!(
                            html,
                            "<p>Received:</p>\n<pre>{}</pre>",
                            html_escape(received)
                        );
                    }
                    let hint = failure.hint.as_deref().unwrap_or(check.hint);
                    let _ = writeln!(html, "<p><strong>Hint:</strong> {}</p>", html_escape(hint));
                }
                Verdict::NotJudged(reason) => {
                    let _ = writeln!(
                        html,
                        "<p><strong>Not judged:</strong> {}</p>\n<p>{}</p>",
                        html_escape(reason),
                        html_escape(NOT_JUDGED_MEANS)
                    );
                }
                Verdict::Skip(reason) => {
                    let _ = writeln!(
                        html,
                        "<p><strong>Not run:</strong> {}</p>",
                        html_escape(reason)
                    );
                }
            }
            for note in &result.notes {
                let _ = writeln!(html, "<p class=\"note\">Note: {}</p>", html_escape(note));
            }
            html.push_str("</section>\n");
        }
        html.push_str("</body>\n</html>\n");
        html
    }

    fn total_time(&self) -> std::time::Duration {
        self.results.iter().map(|result| result.took).sum()
    }
}

/// The feedback page's style: readable on paper and on a screen.
const FEEDBACK_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}\
h3{font-size:1rem;margin:0 0 .4rem}section.check{border-left:4px solid #ccc;padding:.3rem .8rem;margin:.6rem 0}\
section.pass{border-color:#2a8a3a}section.fail{border-color:#c0392b;background:#fdf3f2}section.skip{border-color:#c9a400;background:#fdfbee}section.not-judged{border-color:#8a8a8a;background:#f6f6f6}\
.mark{font-weight:bold}.pass .mark{color:#2a8a3a}.fail .mark{color:#c0392b}.skip .mark{color:#a08000}\
.points{float:right;color:#555;font-weight:normal}pre{background:#f4f4f4;padding:.5rem;overflow-x:auto;white-space:pre-wrap}\
code{color:#555}.note{color:#555;font-size:.9rem}";

/// `text` in a Markdown code fence long enough that no run of backticks in
/// it can close it.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest.max(2) + 1);
    format!("{ticks}text\n{text}\n{ticks}")
}

/// Text for HTML, in an element or a quoted attribute.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for XML, in an attribute or an element: the five markup characters
/// as entities, line ends as character references (so an attribute keeps
/// them), and the characters XML 1.0 does not allow at all as U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_files_are_toml_or_json_and_name_real_checks() {
        let toml = Points::parse("no-traversal = 3\nsplit-request = 1.5\n").unwrap();
        assert_eq!(toml.of("no-traversal"), 3.0);
        assert_eq!(toml.of("split-request"), 1.5);
        assert_eq!(toml.of("connects"), DEFAULT_POINTS);
        let json = Points::parse("{\"no-traversal\": 3, \"split-request\": 1.5}").unwrap();
        assert_eq!(json, toml);
        assert!(matches!(
            Points::parse("no-travesal = 3"),
            Err(PointsError::UnknownCheck(id)) if id == "no-travesal"
        ));
        assert!(matches!(
            Points::parse("{\"connects\": \"lots\"}"),
            Err(PointsError::Value(_))
        ));
        assert!(matches!(
            Points::parse("connects = -1"),
            Err(PointsError::Value(_))
        ));
        assert!(matches!(Points::parse("= ="), Err(PointsError::Syntax(_))));
    }

    #[test]
    fn xml_text_is_escaped_and_control_bytes_replaced() {
        assert_eq!(
            xml_escape("a<b>&\"c\"\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#10;\u{fffd}"
        );
    }
}
