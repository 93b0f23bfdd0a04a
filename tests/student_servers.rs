//! The grader's verdicts on the servers of `tests/student-servers/`, held to
//! `expected.toml` there: each server is graded as an instructor grades a
//! submission (`grade --stage N -- COMMAND`), and the report must list exactly
//! the checks that file gives a verdict for, each with that verdict.
//!
//! These servers were written with known faults (and two are real servers
//! that must pass: nginx and Python's `http.server`), so a grader that is
//! unfair to them fails here: one stricter than nginx, one that reads chunked
//! bodies as raw bytes, one that passes a check without evidence, one that
//! fails a check for another check's fault. See the folder's README.md.
//!
//! A server whose programs are not on the PATH proves nothing: it is reported
//! as skipped, and on CI (where `CI` is set, and nginx and node are
//! installed) it fails the test.
//!
//! The servers are graded at the same time, one thread each; the slowest,
//! `silent.py`, waits out the time limit of every check that it never
//! answers, which takes a little over a minute.
//!
//! Nothing here depends on the stages compiled in, so it runs only in the
//! default build: CI's builds of one stage at a time would only repeat it.

#![cfg(feature = "default")]

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;

use grade::{Extension, Grader, Stage, Verdict};

/// One `[[server]]` of `expected.toml`.
struct Expected {
    name: String,
    command: Vec<String>,
    stage: Stage,
    extensions: Vec<Extension>,
    needs: Vec<String>,
    verdicts: BTreeMap<String, String>,
}

fn strings(value: &toml::Value, what: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not a list"))
        .iter()
        .map(|item| {
            item.as_str()
                .unwrap_or_else(|| panic!("{what} holds a non-string"))
                .to_owned()
        })
        .collect()
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string("tests/student-servers/expected.toml")
        .expect("tests/student-servers/expected.toml is readable");
    let table = text.parse::<toml::Table>().expect("expected.toml is TOML");
    let servers = table["server"].as_array().expect("[[server]] tables");
    servers
        .iter()
        .map(|server| {
            let name = server["name"].as_str().expect("a name").to_owned();
            let number = server["stage"].as_integer().expect("a stage number");
            let stage = Stage::ALL
                .into_iter()
                .find(|stage| i64::from(stage.number()) == number)
                .unwrap_or_else(|| panic!("{name}: no stage {number}"));
            let verdicts = server["verdicts"]
                .as_table()
                .expect("a verdicts table")
                .iter()
                .map(|(check, verdict)| {
                    let verdict = verdict.as_str().expect("a verdict string");
                    assert!(
                        ["pass", "fail", "not-judged", "skip"].contains(&verdict),
                        "{name}: verdict `{verdict}` for {check}"
                    );
                    (check.clone(), verdict.to_owned())
                })
                .collect();
            let extensions = server
                .get("with")
                .map(|names| strings(names, "with"))
                .unwrap_or_default()
                .iter()
                .map(|extension| {
                    Extension::from_name(extension)
                        .unwrap_or_else(|| panic!("{name}: no extension `{extension}`"))
                })
                .collect();
            Expected {
                command: strings(&server["command"], "command"),
                extensions,
                needs: strings(&server["needs"], "needs"),
                name,
                stage,
                verdicts,
            }
        })
        .collect()
}

/// Whether `program` is a file in a folder of the PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|folder| Path::new(&folder).join(program).is_file())
    })
}

/// How one server went: differences from the expected verdicts, or why it
/// was not graded.
enum Outcome {
    Graded {
        differences: Vec<String>,
        report: String,
    },
    NotRun(String),
}

fn grade(server: &Expected) -> Outcome {
    let missing: Vec<&str> = server
        .needs
        .iter()
        .map(String::as_str)
        .filter(|program| !on_path(program))
        .collect();
    if !missing.is_empty() {
        return Outcome::NotRun(format!("{} not on the PATH", missing.join(", ")));
    }
    let report = Grader::command(server.command.clone())
        .stage(server.stage)
        .with(&server.extensions)
        .run()
        .expect("grading starts");
    let mut differences = Vec::new();
    for result in &report.results {
        let got = match &result.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::NotJudged(_) => "not-judged",
            Verdict::Skip(_) => "skip",
        };
        match server.verdicts.get(result.check.id) {
            None => differences.push(format!(
                "{}: reported ({got}), but expected.toml gives it no verdict",
                result.check.id
            )),
            Some(want) if want != got => {
                differences.push(format!("{}: expected {want}, got {got}", result.check.id))
            }
            Some(_) => {}
        }
    }
    for check in server.verdicts.keys() {
        if !report
            .results
            .iter()
            .any(|result| result.check.id == check.as_str())
        {
            differences.push(format!("{check}: in expected.toml, but not reported"));
        }
    }
    colored::control::set_override(false);
    Outcome::Graded {
        differences,
        report: report.to_string(),
    }
}

#[test]
#[cfg_attr(
    wine,
    ignore = "the reference servers (nginx, python3, node) are Linux programs, which a Windows program under Wine cannot start"
)]
fn every_student_server_gets_the_verdicts_in_expected_toml() {
    let servers = expected();
    let names: Vec<&str> = servers.iter().map(|server| server.name.as_str()).collect();
    for wanted in ["nginx", "http.server"] {
        assert!(names.contains(&wanted), "expected.toml has no {wanted}");
    }
    let outcomes: Vec<Outcome> = thread::scope(|scope| {
        let graders: Vec<_> = servers
            .iter()
            .map(|server| scope.spawn(move || grade(server)))
            .collect();
        graders
            .into_iter()
            .map(|grader| grader.join().expect("grading does not panic"))
            .collect()
    });
    let on_ci = std::env::var_os("CI").is_some();
    let mut problems = Vec::new();
    for (server, outcome) in servers.iter().zip(outcomes) {
        match outcome {
            Outcome::NotRun(why) if on_ci => {
                problems.push(format!("{}: not graded on CI: {why}", server.name));
            }
            Outcome::NotRun(why) => println!("{}: skipped: {why}", server.name),
            Outcome::Graded {
                differences,
                report,
            } if !differences.is_empty() => {
                problems.push(format!(
                    "{} (stage {}):\n  {}\n{report}",
                    server.name,
                    server.stage.number(),
                    differences.join("\n  ")
                ));
            }
            Outcome::Graded { .. } => println!(
                "{}: all {} verdicts as expected",
                server.name,
                server.verdicts.len()
            ),
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
