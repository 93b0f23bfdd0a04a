//! `grade-class` on the mock class of `tests/class/` (twelve submissions in
//! Python, Node, C, Rust and Java, each with a bug of its own, and two
//! correct), held to `tests/class/expected.toml`; on hostile submissions
//! (`tests/class/hostile/`), each of which must be contained and reported
//! while its classmates' grades stay what they are; and on the corpus of
//! `tests/student-servers/`, whose verdicts must not change when its servers
//! are graded side by side, each in a sandbox.
//!
//! Grading needs bubblewrap (Linux) and the submissions' toolchains: a test
//! that cannot have them says so and passes, but on CI (where `CI` is set and
//! `.ci/run` installs them) it fails. `cargo test` grades a small class; the
//! whole class, with one job and with the default, and the corpus, take
//! minutes, so they are `#[ignore]`d here and run by `.ci/run`.
//!
//! Nothing here depends on the stages compiled in, so it runs only in the
//! default build.

#![cfg(all(feature = "default", target_os = "linux"))]

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_multithreaded-server");

/// One submission of `expected.toml`.
struct Expected {
    status: String,
    needs: Vec<String>,
    fail: Vec<String>,
}

fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string("tests/class/expected.toml").unwrap();
    let table: toml::Table = text.parse().unwrap();
    let strings = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    table
        .iter()
        .map(|(name, entry)| {
            let expected = Expected {
                status: entry["status"].as_str().unwrap().to_owned(),
                needs: strings(&entry["needs"]),
                fail: strings(&entry["fail"]),
            };
            (name.clone(), expected)
        })
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|folder| folder.join(program).is_file())
    })
}

/// Whether grading can be done here: bubblewrap makes a sandbox, and the
/// programs are on the PATH. If not, says why, and on CI fails.
fn can_grade(needs: &[&str]) -> bool {
    let sandbox = Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "--unshare-all", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let missing: Vec<&str> = needs.iter().copied().filter(|p| !on_path(p)).collect();
    if sandbox && missing.is_empty() {
        return true;
    }
    let why = if sandbox {
        format!("{} not on the PATH", missing.join(", "))
    } else {
        "bubblewrap cannot make a sandbox here (apt-get install bubblewrap)".to_owned()
    };
    assert!(std::env::var_os("CI").is_none(), "on CI, {why}");
    eprintln!("skipped: {why}");
    false
}

/// A fresh folder for a test's class and output, under target/.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `grade-class` and returns its stderr; it must exit 0.
fn grade_class(args: &[&str]) -> String {
    let output = Command::new(BIN)
        .arg("grade-class")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "grade-class {args:?} failed:\n{stderr}"
    );
    stderr
}

/// `grades.csv`, a map per row from column to value. (No field the tests
/// read is quoted.)
fn rows(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(line.split(','))
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect();
            (row["student"].clone(), row)
        })
        .collect()
}

/// How the rows differ from `expected.toml`.
fn differences(out: &Path, names: &[&str]) -> Vec<String> {
    let expected = expected();
    let rows = rows(out);
    let mut found = Vec::new();
    for name in names {
        let want = &expected[*name];
        let Some(row) = rows.get(*name) else {
            found.push(format!("{name}: no row"));
            continue;
        };
        if row["status"] != want.status {
            found.push(format!(
                "{name}: status {}, expected {}",
                row["status"], want.status
            ));
            continue;
        }
        if want.status != "graded" {
            continue;
        }
        for (column, got) in row {
            if ["student", "recipe", "status", "points", "max"].contains(&column.as_str()) {
                continue;
            }
            let should = if want.fail.contains(column) {
                "fail"
            } else {
                "pass"
            };
            if got != should {
                found.push(format!("{name}: {column} is {got}, expected {should}"));
            }
        }
    }
    found
}

fn needs(names: &[&str]) -> Vec<String> {
    let expected = expected();
    let mut all: Vec<String> = names
        .iter()
        .flat_map(|n| expected[*n].needs.clone())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// A class of six in four languages, with a build that fails, gets the
/// verdicts of `expected.toml`, its points, a gradebook whose cells link to
/// the evidence, and a feedback page each with the failing check's problem.
#[test]
fn a_small_class_gets_its_verdicts_points_and_pages() {
    let names = [
        "py-correct",
        "py-text-length",
        "node-correct",
        "c-one-recv",
        "c-no-build",
        "rust-no-ctrl-c",
    ];
    let programs = needs(&names);
    if !can_grade(&programs.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    let out = scratch("small-class");
    let mut args = vec![
        "tests/class/submissions",
        "--class",
        "tests/class/class.toml",
    ];
    let out_arg = out.display().to_string();
    args.extend(["--out", &out_arg]);
    for name in names {
        args.extend(["--only", name]);
    }
    grade_class(&args);
    let found = differences(&out, &names);
    assert!(found.is_empty(), "{found:#?}");
    let rows = rows(&out);
    // 18 checks; no-traversal 3, split-request 2, two Ctrl-C checks 2 each:
    // 18 + 2 + 1 + 1 + 1 = 23 points.
    assert_eq!(rows["py-correct"]["points"], "23");
    assert_eq!(rows["py-correct"]["max"], "23");
    assert_eq!(rows["py-text-length"]["points"], "22");
    assert_eq!(rows["c-one-recv"]["points"], "21");
    assert_eq!(rows["c-no-build"]["points"], "0");
    let book = std::fs::read_to_string(out.join("gradebook.html")).unwrap();
    assert!(
        book.contains("<a href=\"feedback/c-one-recv.html#split-request\">✗</a>"),
        "{book}"
    );
    assert!(book.contains(">build failed</a>"));
    let one_recv = std::fs::read_to_string(out.join("feedback/c-one-recv.md")).unwrap();
    assert!(one_recv.contains("### split-request"), "{one_recv}");
    assert!(
        one_recv.contains("**Problem:**") && one_recv.contains("**Hint:**"),
        "{one_recv}"
    );
    let no_build = std::fs::read_to_string(out.join("feedback/c-no-build.html")).unwrap();
    assert!(
        no_build.contains("expected ‘;’") || no_build.contains("expected ';'"),
        "{no_build}"
    );
    assert!(out.join("reports/py-text-length.json").is_file());
}

/// All twelve, with one job and with the default: the same verdicts, the
/// ones `expected.toml` gives, whatever else runs beside each grading.
#[test]
#[ignore = "grades the whole class twice (minutes): .ci/run runs it"]
fn the_whole_class_gets_the_same_verdicts_with_one_job_and_the_default() {
    let expected = expected();
    let names: Vec<&str> = expected.keys().map(String::as_str).collect();
    let programs = needs(&names);
    if !can_grade(&programs.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    for (label, jobs) in [("default", None), ("one job", Some("1"))] {
        let out = scratch(&format!("whole-class-{}", jobs.unwrap_or("default")));
        let out_arg = out.display().to_string();
        let mut args = vec![
            "tests/class/submissions",
            "--class",
            "tests/class/class.toml",
            "--out",
            &out_arg,
        ];
        if let Some(jobs) = jobs {
            args.extend(["--jobs", jobs]);
        }
        let started = std::time::Instant::now();
        let log = grade_class(&args);
        eprintln!("{label}: {} s\n{log}", started.elapsed().as_secs());
        let found = differences(&out, &names);
        assert!(found.is_empty(), "with {label}: {found:#?}");
    }
}

/// The hostile submissions, graded beside a victim and two bystanders: every
/// attack is contained (nothing written outside, nothing read, nothing
/// reached, nothing left running) and reported, and the bystanders get the
/// grades they get alone.
#[test]
fn hostile_submissions_are_contained_and_reported() {
    if !can_grade(&["python3", "prlimit"]) {
        return;
    }
    let class = scratch("hostile-class");
    let submissions = class.join("submissions");
    copy_tree(Path::new("tests/class/hostile"), &submissions);
    std::fs::rename(submissions.join("class.toml"), class.join("class.toml")).unwrap();
    for bystander in ["py-correct", "py-text-length"] {
        copy_tree(
            &Path::new("tests/class/submissions").join(bystander),
            &submissions.join(bystander),
        );
    }
    // A secret of the victim's, and a listener outside every sandbox.
    let secret = format!("victim-secret-{}", std::process::id());
    std::fs::write(submissions.join("victim/secret.txt"), &secret).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let config = serde_json::json!({
        "home": home,
        "secret": submissions.join("victim/secret.txt"),
        "class": class,
        "port": listener.local_addr().unwrap().port(),
    });
    for attack in [
        "fork-bomb",
        "memory-hog",
        "home-writer",
        "reader",
        "loopback-caller",
        "group-signaller",
    ] {
        std::fs::write(
            submissions.join(attack).join("attack.json"),
            config.to_string(),
        )
        .unwrap();
    }
    let out = class.join("grades");
    let out_arg = out.display().to_string();
    let sub_arg = submissions.display().to_string();
    let class_arg = class.join("class.toml").display().to_string();
    let log = grade_class(&[&sub_arg, "--class", &class_arg, "--out", &out_arg]);
    let rows = rows(&out);
    let book = std::fs::read_to_string(out.join("gradebook.html")).unwrap();

    // Contained: nothing written outside the sandbox, nothing reached.
    for folder in [PathBuf::from(&home), class.clone()] {
        assert!(
            !folder.join("hostile-was-here").exists(),
            "written into {}",
            folder.display()
        );
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == ErrorKind::WouldBlock),
        "a submission reached a listener outside its sandbox"
    );
    // Nothing read: the victim's secret is nowhere in what was written.
    for entry in walk(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(
            !text.contains(&secret),
            "the secret is in {}",
            entry.display()
        );
    }
    assert_eq!(rows["reader"]["status"], "graded", "{log}");
    assert_eq!(
        rows["reader"]["connects"], "pass",
        "the reader read something: {log}"
    );
    // Nothing left running: no sleeping child of the fork bomb.
    let left = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x00300\x00"))
        .count();
    assert_eq!(left, 0, "fork-bomb processes are still running");

    // Reported.
    assert_eq!(rows["fork-bomb"]["status"], "graded");
    assert!(
        book.contains("reached its limit of 200 processes and threads"),
        "{log}"
    );
    assert!(
        log.contains("running after its server was stopped"),
        "{log}"
    );
    assert!(
        book.contains("MiB of memory at once (the limit is 512 MiB a process)"),
        "{log}"
    );
    assert_eq!(rows["memory-hog"]["connects"], "pass");
    // Graded by root, a submission runs as a user of its own, which cannot
    // signal the grader at all; graded by anyone else, it can reach the
    // grader in its sandbox (and nothing else), and the row says so.
    if Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
        assert_eq!(
            rows["group-signaller"]["points"], rows["group-signaller"]["max"],
            "{log}"
        );
    } else {
        assert_eq!(rows["group-signaller"]["status"], "not graded", "{log}");
        assert!(book.contains("stopped by a signal"), "{log}");
    }
    for quiet in ["home-writer", "loopback-caller", "victim"] {
        assert_eq!(rows[quiet]["status"], "graded", "{quiet}: {log}");
        assert_eq!(rows[quiet]["points"], rows[quiet]["max"], "{quiet}: {log}");
    }
    // The bystanders' grades are what they always are.
    assert_eq!(
        rows["py-correct"]["points"], rows["py-correct"]["max"],
        "{log}"
    );
    assert_eq!(rows["py-text-length"]["content-length"], "fail", "{log}");
    assert_eq!(rows["py-text-length"]["text-files"], "pass", "{log}");
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

/// The Gradescope bundle (`exercises/gradescope/`) in a layout such as
/// Gradescope's `/autograder`: `run_autograder` grades the submission with
/// the recipe its files call for and writes `results/results.json`, with the
/// points and the visibility of the bundle's points file; a submission that
/// does not build gets 0 and the compiler's words.
#[test]
fn the_gradescope_bundle_grades_a_submission_in_its_layout() {
    if !can_grade(&["python3", "cc"]) {
        return;
    }
    let bin = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    for (student, score) in [("py-correct", 22.0), ("c-no-build", 0.0)] {
        let root = scratch(&format!("autograder-{student}"));
        std::fs::create_dir_all(root.join("source")).unwrap();
        for file in ["class.toml", "points.toml"] {
            std::fs::copy(
                Path::new("exercises/gradescope").join(file),
                root.join("source").join(file),
            )
            .unwrap();
        }
        copy_tree(
            &Path::new("tests/class/submissions").join(student),
            &root.join("submission"),
        );
        let status = Command::new("bash")
            .arg("exercises/gradescope/run_autograder")
            .env("AUTOGRADER_ROOT", &root)
            .env("PATH", &path)
            .status()
            .unwrap();
        assert!(status.success());
        let text = std::fs::read_to_string(root.join("results/results.json")).unwrap();
        let results: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(results["score"].as_f64(), Some(score), "{text}");
        if student == "py-correct" {
            let tests = results["tests"].as_array().unwrap();
            assert_eq!(tests.len(), 18, "{text}");
            let exits = tests
                .iter()
                .find(|t| t["name"].as_str().unwrap().starts_with("ctrl-c-exits-0"))
                .unwrap();
            assert_eq!(exits["visibility"], "after_due_date");
            assert_eq!(exits["max_score"], 2.0);
        } else {
            assert!(
                results["output"].as_str().unwrap().contains("build failed")
                    || results["output"].as_str().unwrap().contains("its build"),
                "{text}"
            );
        }
    }
}

/// The corpus of `tests/student-servers/`, graded as a class: each server a
/// submission, all of a stage side by side (the default jobs), each in its
/// sandbox. Every verdict must be the one `expected.toml` there gives, which
/// is what each gets graded alone: the timing checks stay fair in parallel.
#[test]
#[ignore = "the corpus takes over a minute (silent.py waits out every limit): .ci/run runs it"]
fn the_corpus_gets_its_verdicts_graded_side_by_side_in_sandboxes() {
    let text = std::fs::read_to_string("tests/student-servers/expected.toml").unwrap();
    let table: toml::Table = text.parse().unwrap();
    let servers = table["server"].as_array().unwrap();
    let needs: Vec<String> = servers
        .iter()
        .flat_map(|s| {
            s["needs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
        })
        .collect();
    if !can_grade(&needs.iter().map(String::as_str).collect::<Vec<_>>()) {
        return;
    }
    let repo = std::env::current_dir().unwrap();
    // A class is graded at one stage with one set of extensions: one class
    // for each pair the corpus has.
    let part = |server: &toml::Value| {
        let with: Vec<&str> = server
            .get("with")
            .and_then(|w| w.as_array())
            .map(|names| names.iter().map(|n| n.as_str().unwrap()).collect())
            .unwrap_or_default();
        (server["stage"].as_integer().unwrap(), with.join(","))
    };
    let mut parts: Vec<(i64, String)> = servers.iter().map(part).collect();
    parts.sort();
    parts.dedup();
    let mut found = Vec::new();
    for (stage, with) in parts {
        let in_part = |server: &&toml::Value| part(server) == (stage, with.clone());
        let class = scratch(&format!("corpus-stage-{stage}-with-{with}"));
        let submissions = class.join("submissions");
        for server in servers.iter().filter(in_part) {
            let name = server["name"].as_str().unwrap();
            let folder = submissions.join(name);
            std::fs::create_dir_all(&folder).unwrap();
            // Each submission holds the corpus as the repository does, and its
            // command runs from its own folder as from the repository's root.
            // Its copy, not the repository's files: the sandbox shows none of
            // the host's /tmp, homes or /run, where a clone may well be.
            copy_tree(
                &repo.join("tests/student-servers"),
                &folder.join("tests/student-servers"),
            );
            let words: Vec<&str> = server["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect();
            std::fs::write(
                folder.join("submission.toml"),
                format!("run = {:?}\n", words.join(" ")),
            )
            .unwrap();
        }
        let out = class.join("grades");
        let (sub_arg, out_arg, stage_arg) = (
            submissions.display().to_string(),
            out.display().to_string(),
            stage.to_string(),
        );
        let mut class_args = vec![sub_arg.as_str(), "--stage", &stage_arg, "--out", &out_arg];
        if !with.is_empty() {
            class_args.extend(["--with", with.as_str()]);
        }
        let log = grade_class(&class_args);
        let rows = rows(&out);
        for server in servers.iter().filter(in_part) {
            let name = server["name"].as_str().unwrap();
            let row = &rows[name];
            for (check, want) in server["verdicts"].as_table().unwrap() {
                let got = row.get(check).map(String::as_str).unwrap_or("(none)");
                if got != want.as_str().unwrap() {
                    found.push(format!(
                        "{name}: {check} is {got}, expected {}\n{log}",
                        want.as_str().unwrap()
                    ));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
