//! What grading a class writes: `grades.csv`, `gradebook.html` (students by
//! checks, each cell a link to its evidence), and a feedback page per
//! student, in HTML and Markdown, from the reports that came back.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use grade::formats::{Points, html_escape, show_points};
use grade::{CHECKS, Check, CheckResult, Failure, Report, Stage, Verdict};

/// How one submission's grading went.
#[derive(Clone, Debug)]
pub struct Row {
    /// The submission's folder name.
    pub student: String,
    /// The recipe used, or `-` if none fitted.
    pub recipe: String,
    pub outcome: Outcome,
    /// What the sandbox saw, for the instructor: limits reached, processes
    /// left running. Empty when nothing was out of the way.
    pub sandbox: Vec<String>,
    /// The last lines of the build's output (its whole log is in `logs/`).
    pub build_output: String,
    pub took: Duration,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    /// Graded: the report.
    Graded(Box<Report>),
    /// Not graded, and why: no recipe fitted, the build failed, the time ran
    /// out, the grader was ended from inside the sandbox.
    NotGraded { status: &'static str, why: String },
}

impl Row {
    /// `graded`, `build failed`, `timed out`, ...
    pub fn status(&self) -> &'static str {
        match &self.outcome {
            Outcome::Graded(_) => "graded",
            Outcome::NotGraded { status, .. } => status,
        }
    }

    pub fn report(&self) -> Option<&Report> {
        match &self.outcome {
            Outcome::Graded(report) => Some(report),
            Outcome::NotGraded { .. } => None,
        }
    }

    /// Points scored, and the most there were; a submission not graded
    /// scores nothing of every check of the stage.
    pub fn points(&self, points: &Points, checks: &[&'static Check]) -> (f64, f64) {
        match self.report() {
            Some(report) => points.total(report),
            None => (0.0, checks.iter().map(|c| points.of(c.id)).sum()),
        }
    }
}

/// The grader's JSON report (`grade --json`) read back into a [`Report`].
pub fn report_from_json(json: &str, server_output: Option<String>) -> anyhow::Result<Report> {
    let value: serde_json::Value = serde_json::from_str(json).context("the report is not JSON")?;
    let text = |v: &serde_json::Value, key: &str| v[key].as_str().map(str::to_owned);
    let number = value["stage"]["number"]
        .as_u64()
        .context("no stage number")?;
    let stage = Stage::ALL
        .into_iter()
        .find(|s| u64::from(s.number()) == number)
        .context("no such stage")?;
    let mut report = Report::new(stage, text(&value, "server").unwrap_or_default());
    report.server_exit = text(&value, "server_exit");
    report.server_output = server_output;
    for entry in value["checks"].as_array().context("no checks")? {
        let id = entry["id"].as_str().context("a check without an id")?;
        let check = CHECKS
            .iter()
            .find(|check| check.id == id)
            .with_context(|| format!("the report names `{id}`, which is not a check"))?;
        let verdict = match entry["result"].as_str() {
            Some("pass") => Verdict::Pass,
            Some("fail") => {
                let mut failure = Failure::new(text(entry, "problem").unwrap_or_default());
                failure.sent = text(entry, "sent");
                failure.received = text(entry, "received");
                failure.hint = text(entry, "hint");
                Verdict::Fail(failure)
            }
            Some("not-judged") => Verdict::NotJudged(text(entry, "reason").unwrap_or_default()),
            Some("skip") => Verdict::Skip(text(entry, "reason").unwrap_or_default()),
            other => anyhow::bail!("`{id}` has a result this grader cannot read: {other:?}"),
        };
        report.results.push(CheckResult {
            check,
            verdict,
            took: Duration::from_millis(entry["millis"].as_u64().unwrap_or(0)),
            notes: entry["notes"]
                .as_array()
                .map(|notes| {
                    notes
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(report)
}

/// A CSV field, quoted when it must be.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The word for a verdict in the CSV and the gradebook.
fn word(verdict: &Verdict) -> &'static str {
    grade::formats::verdict_word(verdict)
}

/// `grades.csv`: student, recipe, status, points, maximum, and a column per
/// check with its verdict (empty for a submission not graded).
pub fn csv_text(rows: &[Row], points: &Points, checks: &[&'static Check]) -> String {
    let mut out = String::from("student,recipe,status,points,max");
    for check in checks {
        let _ = write!(out, ",{}", check.id);
    }
    out.push('\n');
    for row in rows {
        let (scored, maximum) = row.points(points, checks);
        let _ = write!(
            out,
            "{},{},{},{},{}",
            csv(&row.student),
            csv(&row.recipe),
            csv(row.status()),
            show_points(scored),
            show_points(maximum)
        );
        for check in checks {
            let cell = row
                .report()
                .and_then(|r| r.verdict(check.id))
                .map_or("", word);
            let _ = write!(out, ",{cell}");
        }
        out.push('\n');
    }
    out
}

/// The name of a student's files: the folder's name, which is already a
/// file name, with anything unusual replaced.
pub fn file_stem(student: &str) -> String {
    student
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The feedback page of a submission that was not graded.
fn not_graded_markdown(row: &Row, why: &str, stage: Stage) -> String {
    let mut md = format!(
        "# {}\n\nStage {} ({}): **not graded**: {}.\n",
        row.student,
        stage.number(),
        stage,
        why
    );
    if !row.build_output.is_empty() {
        let _ = write!(
            md,
            "\nThe build's last lines:\n\n```text\n{}\n```\n",
            row.build_output
        );
    }
    md
}

fn not_graded_html(row: &Row, why: &str, stage: Stage) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{0}</h1>\n<p>Stage {1} ({2}): <strong>not graded</strong>: {3}.</p>\n",
        html_escape(&row.student),
        stage.number(),
        stage,
        html_escape(why)
    );
    if !row.build_output.is_empty() {
        let _ = write!(
            html,
            "<p>The build's last lines:</p>\n<pre>{}</pre>\n",
            html_escape(&row.build_output)
        );
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// Writes `feedback/STUDENT.html` and `.md` for every row.
pub fn write_feedback(
    out: &Path,
    rows: &[Row],
    points: &Points,
    stage: Stage,
) -> anyhow::Result<()> {
    let folder = out.join("feedback");
    std::fs::create_dir_all(&folder)?;
    for row in rows {
        let stem = file_stem(&row.student);
        let (md, html) = match &row.outcome {
            Outcome::Graded(report) => {
                let mut md = report.to_markdown(points, &row.student);
                let mut html = report.to_html(points, &row.student);
                if !row.sandbox.is_empty() {
                    md.push_str("\n## The sandbox\n\n");
                    let mut list = String::from("<h2>The sandbox</h2>\n<ul>\n");
                    for line in &row.sandbox {
                        let _ = writeln!(md, "- {line}");
                        let _ = writeln!(list, "<li>{}</li>", html_escape(line));
                    }
                    list.push_str("</ul>\n</body>");
                    html = html.replacen("</body>", &list, 1);
                }
                (md, html)
            }
            Outcome::NotGraded { why, .. } => (
                not_graded_markdown(row, why, stage),
                not_graded_html(row, why, stage),
            ),
        };
        std::fs::write(folder.join(format!("{stem}.md")), md)?;
        std::fs::write(folder.join(format!("{stem}.html")), html)?;
    }
    Ok(())
}

/// The gradebook's style.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:center}\
th.student,td.student{text-align:left;white-space:nowrap}thead th{background:#f4f4f4;position:sticky;top:0}\
th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;white-space:nowrap;vertical-align:bottom;height:13rem}\
th.stage{font-weight:bold}td.pass{background:#e3f4e6}td.fail{background:#fbe1de}td.skip{background:#fdf6d7}td.not-judged{background:#eeeeee}\
td.none{background:#eee;color:#777}td a{color:inherit;text-decoration:none;display:block}td.points{font-weight:bold;white-space:nowrap}\
td.why{text-align:left;font-size:.8rem;color:#555;max-width:22rem}caption{text-align:left;margin-bottom:.6rem}";

/// `gradebook.html`: a row per student, a column per check (grouped by
/// stage), each cell a link to the check in the student's feedback page.
pub fn gradebook(
    rows: &[Row],
    points: &Points,
    checks: &[&'static Check],
    caption: &str,
) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Gradebook</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<table>\n<caption>{}</caption>\n<thead>\n<tr><th class=\"student\" rowspan=\"2\">student</th><th rowspan=\"2\">recipe</th><th rowspan=\"2\">points</th>",
        html_escape(caption)
    );
    let mut stages: Vec<Stage> = checks.iter().map(|c| c.stage).collect();
    stages.dedup();
    for stage in &stages {
        let count = checks.iter().filter(|c| c.stage == *stage).count();
        let _ = write!(
            html,
            "<th class=\"stage\" colspan=\"{count}\">stage {}: {stage}</th>",
            stage.number()
        );
    }
    html.push_str("<th rowspan=\"2\">notes</th></tr>\n<tr>");
    for check in checks {
        let _ = write!(
            html,
            "<th class=\"check\" title=\"{}\">{} ({})</th>",
            html_escape(check.title),
            check.id,
            show_points(points.of(check.id))
        );
    }
    html.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in rows {
        let stem = file_stem(&row.student);
        let (scored, maximum) = row.points(points, checks);
        let _ = write!(
            html,
            "<tr><td class=\"student\"><a href=\"feedback/{stem}.html\">{}</a></td><td>{}</td><td class=\"points\">{} / {}</td>",
            html_escape(&row.student),
            html_escape(&row.recipe),
            show_points(scored),
            show_points(maximum)
        );
        match &row.outcome {
            Outcome::Graded(report) => {
                for check in checks {
                    let (class, mark, title) = match report.verdict(check.id) {
                        Some(Verdict::Pass) => ("pass", "✓", "passed".to_owned()),
                        Some(Verdict::Fail(failure)) => ("fail", "✗", failure.problem.clone()),
                        Some(Verdict::NotJudged(reason)) => {
                            ("not-judged", "?", format!("not judged: {reason}"))
                        }
                        Some(Verdict::Skip(reason)) => ("skip", "–", format!("skipped: {reason}")),
                        None => ("none", "", "not in the report".to_owned()),
                    };
                    let _ = write!(
                        html,
                        "<td class=\"{class}\" title=\"{}\"><a href=\"feedback/{stem}.html#{}\">{mark}</a></td>",
                        html_escape(&title),
                        check.id
                    );
                }
                let mut notes = row.sandbox.clone();
                if let Some(exit) = &report.server_exit {
                    notes.insert(0, format!("the server {exit}"));
                }
                let _ = write!(
                    html,
                    "<td class=\"why\">{}</td>",
                    html_escape(&notes.join("; "))
                );
            }
            Outcome::NotGraded { status, why } => {
                let _ = write!(
                    html,
                    "<td class=\"none\" colspan=\"{}\"><a href=\"feedback/{stem}.html\">{status}</a></td><td class=\"why\">{}</td>",
                    checks.len(),
                    html_escape(why)
                );
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> (Vec<Row>, Vec<&'static Check>) {
        let checks: Vec<&'static Check> = grade::checks::up_to(Stage::SingleThreaded).collect();
        let mut report = Report::new(Stage::SingleThreaded, "python3 server.py".into());
        report.results = checks
            .iter()
            .enumerate()
            .map(|(n, check)| CheckResult {
                check,
                verdict: if n == 1 {
                    Verdict::Fail(Failure::new("a <b> & \"c\"").sent("GET /\r\n"))
                } else {
                    Verdict::Pass
                },
                took: Duration::from_millis(3),
                notes: Vec::new(),
            })
            .collect();
        let graded = Row {
            student: "a student, the first".into(),
            recipe: "python".into(),
            outcome: Outcome::Graded(Box::new(report)),
            sandbox: vec!["left 3 processes running".into()],
            build_output: String::new(),
            took: Duration::from_secs(1),
        };
        let failed = Row {
            student: "bob".into(),
            recipe: "c".into(),
            outcome: Outcome::NotGraded {
                status: "build failed",
                why: "the build exited with status 2".into(),
            },
            sandbox: Vec::new(),
            build_output: "main.c:3: error: expected ';'".into(),
            took: Duration::from_secs(1),
        };
        (vec![graded, failed], checks)
    }

    #[test]
    fn the_csv_has_points_and_a_column_per_check() {
        let (rows, checks) = rows();
        let points = Points::parse("text-files = 3").unwrap();
        let text = csv_text(&rows, &points, &checks);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("student,recipe,status,points,max,connects,text-files,"));
        let max = checks.len() as f64 + 2.0;
        assert_eq!(
            lines[1],
            format!(
                "\"a student, the first\",python,graded,{},{},pass,fail{}",
                show_points(max - 3.0),
                show_points(max),
                ",pass".repeat(checks.len() - 2)
            )
        );
        assert_eq!(
            lines[2],
            format!(
                "bob,c,build failed,0,{}{}",
                show_points(max),
                ",".repeat(checks.len())
            )
        );
    }

    #[test]
    fn the_gradebook_links_each_cell_to_its_evidence() {
        let (rows, checks) = rows();
        let html = gradebook(&rows, &Points::default(), &checks, "stage 1");
        assert!(
            html.contains("<a href=\"feedback/a_student__the_first.html#text-files\">✗</a>"),
            "{html}"
        );
        assert!(
            html.contains("title=\"a &lt;b&gt; &amp; &quot;c&quot;\""),
            "{html}"
        );
        assert!(html.contains(">build failed</a>"));
        assert!(html.contains("left 3 processes running"));
    }

    #[test]
    fn a_report_comes_back_from_its_json_whole() {
        let (rows, _) = rows();
        let report = rows[0].report().unwrap();
        let back = report_from_json(&report.to_json(), Some("out".into())).unwrap();
        assert_eq!(back.to_json(), report.to_json());
        assert_eq!(back.server_output.as_deref(), Some("out"));
        assert!(report_from_json("{\"stage\": {\"number\": 1}, \"checks\": [{\"id\": \"connects\", \"result\": \"maybe\"}]}", None).is_err());
    }
}
