//! The report in the forms instructors' tools read: Gradescope's
//! `results.json`, and JUnit XML (GitLab, Jenkins and GitHub's test
//! reporters); and the points each check is worth.
//!
//! # Points
//!
//! Every check is worth [`DEFAULT_POINTS`] unless a points file says
//! otherwise: a TOML table or a JSON object from check ids to numbers,
//!
//! ```toml
//! no-traversal = 3
//! split-request = 2
//! ```
//!
//! A check passes or fails whole: it scores its points, or none. A skipped
//! check scores none, and says why, so that a grading set up without the
//! placeholders a check needs is noticed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::CHECKS;
use crate::report::{CheckResult, Report, Verdict};

/// What a check is worth when the points file does not say.
pub const DEFAULT_POINTS: f64 = 1.0;

/// Points per check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points {
    given: BTreeMap<String, f64>,
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
}

impl Points {
    /// Parses a points file: JSON if it starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<Points, PointsError> {
        let values: Vec<(String, Option<f64>)> = if text.trim_start().starts_with('{') {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
                .map_err(|error| PointsError::Syntax(error.to_string()))?;
            object
                .into_iter()
                .map(|(id, value)| (id, value.as_f64()))
                .collect()
        } else {
            let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
                PointsError::Syntax(error.message().to_owned())
            })?;
            table
                .into_iter()
                .map(|(id, value)| {
                    let points = match value {
                        toml::Value::Integer(n) => Some(n as f64),
                        toml::Value::Float(x) => Some(x),
                        _ => None,
                    };
                    (id, points)
                })
                .collect()
        };
        let mut given = BTreeMap::new();
        for (id, points) in values {
            if !CHECKS.iter().any(|check| check.id == id) {
                return Err(PointsError::UnknownCheck(id));
            }
            match points {
                Some(points) if points.is_finite() && points >= 0.0 => {
                    given.insert(id, points);
                }
                _ => return Err(PointsError::Value(id)),
            }
        }
        Ok(Points { given })
    }

    /// What the check called `id` is worth.
    pub fn of(&self, id: &str) -> f64 {
        self.given.get(id).copied().unwrap_or(DEFAULT_POINTS)
    }

    fn scored(&self, result: &CheckResult) -> f64 {
        match result.verdict {
            Verdict::Pass => self.of(result.check.id),
            _ => 0.0,
        }
    }
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
        Verdict::Skip(reason) => {
            let _ = writeln!(out, "skipped: {reason}");
        }
    }
    for note in &result.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
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
                status: if matches!(result.verdict, Verdict::Pass) {
                    "passed"
                } else {
                    "failed"
                },
                output: details(result),
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

    /// JUnit XML: one `<testsuite>` per stage, one `<testcase>` per check,
    /// with `<failure>` or `<skipped>`; with a line end.
    pub fn to_junit(&self) -> String {
        let seconds = |result: &CheckResult| format!("{:.3}", result.took.as_secs_f64());
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"multithreaded-server grade\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.results.len(),
            self.failed_count(),
            self.skipped_count(),
            self.total_time().as_secs_f64()
        );
        let mut stages: Vec<_> = self.results.iter().map(|r| r.check.stage).collect();
        stages.dedup();
        for stage in stages {
            let results: Vec<&CheckResult> = self
                .results
                .iter()
                .filter(|result| result.check.stage == stage)
                .collect();
            let count =
                |which: fn(&Verdict) -> bool| results.iter().filter(|r| which(&r.verdict)).count();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"stage {}: {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
                stage.number(),
                stage,
                results.len(),
                count(|v| matches!(v, Verdict::Fail(_))),
                count(|v| matches!(v, Verdict::Skip(_))),
            );
            for result in results {
                let _ = write!(
                    xml,
                    "    <testcase classname=\"grade.stage{}\" name=\"{}: {}\" time=\"{}\"",
                    stage.number(),
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
                    Verdict::Skip(reason) => {
                        let _ = write!(
                            xml,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
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

    fn total_time(&self) -> std::time::Duration {
        self.results.iter().map(|result| result.took).sum()
    }
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
