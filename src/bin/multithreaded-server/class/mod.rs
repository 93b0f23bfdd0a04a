//! `multithreaded-server grade-class SUBMISSIONS`: grades a folder of
//! submissions, each in whatever language its recipe says, several at a
//! time, each in a sandbox, into `grades.csv`, `gradebook.html` and a
//! feedback page per student.
//!
//! | module | job |
//! |---|---|
//! | `classfile` | `class.toml`: the stage, the limits, the recipes, and how a submission is matched to one |
//! | `sandbox` | bubblewrap and prlimit: what a submission can see, reach and use |
//! | `inside` | `grade-in-sandbox`: the grader's side, inside the sandbox, and its framed answer |
//! | `book` | the CSV, the gradebook and the feedback pages |
//!
//! A submission goes through two steps, each in a sandbox of its own: its
//! build, then its grading. All the builds are done first, so that no
//! compiler takes the CPU from a grading under way; then the gradings, `--jobs`
//! at a time. Each grading has a sandbox and so a network of its own: the
//! gradings never share a port, and the concurrency checks of one never meet
//! another's connections.

mod book;
mod classfile;
pub mod inside;
mod sandbox;

use std::collections::VecDeque;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use grade::formats::{Points, Visibility, show_points};
use grade::{Check, Stage};

use multithreaded_server::config::parse_duration;

pub use inside::InsideArgs;

use book::{Outcome, Row};
use classfile::{ClassFile, Recipe};
use sandbox::{Sandbox, Step};

/// How to grade a class.
#[derive(Clone, Debug, Args)]
#[command(after_help = "Examples:
  multithreaded-server grade-class submissions/ --stage 4
  multithreaded-server grade-class submissions/ --class class.toml --jobs 2 --out grades
  multithreaded-server grade-class /autograder/submission --single --class class.toml --out /autograder/results

Writes OUT/grades.csv, OUT/gradebook.html, OUT/feedback/STUDENT.{html,md},
OUT/reports/STUDENT.json and OUT/logs/; with --single, OUT/results.json too
(Gradescope's). Exit status: 0 when every submission has its row, whatever
it scored; 2 when the class could not be graded.")]
pub struct ClassArgs {
    /// The folder of submissions, a folder each (named for its student)
    #[arg(value_name = "SUBMISSIONS")]
    pub submissions: PathBuf,

    /// The class file [default: SUBMISSIONS/class.toml if there is one; else the built-in recipes]
    #[arg(long, value_name = "FILE")]
    pub class: Option<PathBuf>,

    /// The stage to grade [default: the class file's]
    #[arg(long, short, value_enum, value_name = "NAME|N")]
    pub stage: Option<Stage>,

    /// Grade these extensions too: any of validators, ranges, compression
    /// and uploads, separated by commas
    #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = crate::cli::parse_extension)]
    pub with: Vec<grade::Extension>,

    /// How many submissions to grade at once [default: one per core]
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,

    /// Where to write the grades
    #[arg(long, short, default_value = "grades", value_name = "DIR")]
    pub out: PathBuf,

    /// Points per check (overrides the class file's points)
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,

    /// Gradescope visibility of the checks the points file gives none
    #[arg(long, value_name = "WHEN", value_parser = |s: &str| s.parse::<Visibility>())]
    pub visibility: Option<Visibility>,

    /// Wall time for each submission, build and grading [default: the class file's, or 10m]
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    pub time_limit: Option<Duration>,

    /// SUBMISSIONS is one submission, not a folder of them (Gradescope's /autograder/submission)
    #[arg(long)]
    pub single: bool,

    /// Grade only these students (folder names); may be given again
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Run the submissions' code as you, with no sandbox and no limits
    #[arg(long)]
    pub no_sandbox: bool,
}

/// One submission: its student and where it is.
#[derive(Clone, Debug)]
struct Submission {
    student: String,
    folder: PathBuf,
    /// The user it runs as, when root grades (see `sandbox::FIRST_UID`).
    uid: u32,
}

/// Everything a job needs, shared by the workers.
struct Class {
    stage: Stage,
    /// The extensions graded besides the stage (`--with`).
    extensions: Vec<grade::Extension>,
    file: ClassFile,
    sandbox: Sandbox,
    work: PathBuf,
    out: PathBuf,
    grader: PathBuf,
    /// The checks of the stage and the extensions, the columns of the gradebook.
    checks: Vec<&'static Check>,
}

pub fn run(args: &ClassArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    anyhow::ensure!(
        args.submissions.is_dir(),
        "{} is not a folder of submissions",
        args.submissions.display()
    );
    let class_path = args.class.clone().or_else(|| {
        let inside = args.submissions.join("class.toml");
        (!args.single && inside.is_file()).then_some(inside)
    });
    let mut file = match &class_path {
        Some(path) => ClassFile::read(path)?,
        None => ClassFile::parse("", Path::new("."))?,
    };
    if let Some(limit) = args.time_limit {
        file.limits.time = limit;
    }
    let stage = args
        .stage
        .or(file.stage)
        .context("no stage to grade: give --stage, or `stage = N` in the class file")?;
    let points_path = args.points.clone().or_else(|| file.points.clone());
    let points = match &points_path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the points file {}", path.display()))?;
            Points::parse(&text).with_context(|| path.display().to_string())?
        }
        None => Points::default(),
    }
    .with_default_visibility(args.visibility.or(file.visibility));

    let mut submissions = list_submissions(args)?;
    if !args.only.is_empty() {
        for name in &args.only {
            anyhow::ensure!(
                submissions.iter().any(|s| &s.student == name),
                "--only {name}: there is no submission of that name"
            );
        }
        submissions.retain(|s| args.only.contains(&s.student));
    }
    anyhow::ensure!(
        !submissions.is_empty(),
        "{} holds no submissions",
        args.submissions.display()
    );

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot make the output folder {}", args.out.display()))?;
    let out = args.out.canonicalize()?;
    let work =
        std::env::temp_dir().join(format!("multithreaded-server-class-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let sandbox = if args.no_sandbox {
        eprintln!(
            "warning: --no-sandbox: the submissions' code runs as you, with your files and your network, and no limits"
        );
        Sandbox::None
    } else {
        sandbox::check_bwrap()?;
        Sandbox::Bwrap {
            hide: vec![args.submissions.canonicalize()?, work.clone(), out.clone()],
            as_root: sandbox::running_as_root(),
        }
    };
    let jobs = args.jobs.map(usize::from).unwrap_or_else(default_jobs);
    let class = Arc::new(Class {
        stage,
        extensions: args.with.clone(),
        checks: grade::checks::selected(stage, &args.with).collect(),
        file,
        sandbox,
        work: work.clone(),
        out: out.clone(),
        grader: std::env::current_exe().context("cannot find the grader's own program")?,
    });
    for folder in ["logs", "reports", "feedback"] {
        std::fs::create_dir_all(out.join(folder))?;
    }
    stop_sandboxes_on_interrupt(work.clone());

    eprintln!(
        "grading {} submission{} at stage {} ({stage}), {jobs} at a time{}",
        submissions.len(),
        if submissions.len() == 1 { "" } else { "s" },
        stage.number(),
        match &class.sandbox {
            Sandbox::Bwrap { .. } => ", each in a sandbox",
            Sandbox::None => ", unsandboxed",
        }
    );
    // Builds first, all of them, then the gradings.
    let built = in_parallel(submissions, jobs, "building", {
        let class = Arc::clone(&class);
        move |submission: Submission| build(&class, submission)
    });
    let mut rows = in_parallel(built, jobs, "grading", {
        let class = Arc::clone(&class);
        move |prepared: Prepared| grade_one(&class, prepared)
    });
    rows.sort_by(|a, b| a.student.cmp(&b.student));
    let _ = std::fs::remove_dir_all(&work);

    let csv = book::csv_text(&rows, &points, &class.checks);
    std::fs::write(out.join("grades.csv"), csv)?;
    let caption = format!(
        "Stage {} ({stage}): {} submissions; {} points at most",
        stage.number(),
        rows.len(),
        show_points(class.checks.iter().map(|c| points.of(c.id)).sum())
    );
    std::fs::write(
        out.join("gradebook.html"),
        book::gradebook(&rows, &points, &class.checks, &caption),
    )?;
    book::write_feedback(&out, &rows, &points, stage)?;
    for row in &rows {
        if let Some(report) = row.report() {
            let stem = book::file_stem(&row.student);
            std::fs::write(
                out.join("reports").join(format!("{stem}.json")),
                report.to_json(),
            )?;
        }
    }
    if args.single {
        // Gradescope's results.json; a submission that was not graded gets
        // 0 with the reason, so that the student sees why.
        let results = match rows[0].report() {
            Some(report) => report.to_gradescope(&points),
            None => format!(
                "{}\n",
                serde_json::json!({
                    "score": 0.0,
                    "output": format!("not graded: {}\n\n{}", rows[0].why(), rows[0].build_output),
                    "tests": [],
                })
            ),
        };
        std::fs::write(out.join("results.json"), results)?;
    }
    summary(&rows, &points, &class.checks, &out, started.elapsed(), jobs);
    Ok(())
}

impl Row {
    fn why(&self) -> String {
        match &self.outcome {
            Outcome::Graded(report) => report.score_line(),
            Outcome::NotGraded { why, .. } => why.clone(),
        }
    }
}

/// One job per core: a grading mostly waits (on time limits, on slow
/// clients), but its timing checks each want a core when they measure.
fn default_jobs() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

fn list_submissions(args: &ClassArgs) -> anyhow::Result<Vec<Submission>> {
    let name = |path: &Path| {
        path.file_name().map_or_else(
            || "submission".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    if args.single {
        let folder = args.submissions.canonicalize()?;
        return Ok(vec![Submission {
            student: name(&folder),
            folder,
            uid: sandbox::FIRST_UID,
        }]);
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&args.submissions)? {
        let entry = entry?;
        let folder = entry.path();
        let student = name(&folder);
        if entry.file_type()?.is_dir() && !student.starts_with('.') {
            found.push(Submission {
                student,
                folder: folder.canonicalize()?,
                uid: 0,
            });
        }
    }
    found.sort_by(|a, b| a.student.cmp(&b.student));
    for (n, submission) in found.iter_mut().enumerate() {
        submission.uid = sandbox::FIRST_UID + n as u32;
    }
    Ok(found)
}

/// Runs `job` on every item, `jobs` at a time, showing progress on stderr.
fn in_parallel<T, R>(
    items: Vec<T>,
    jobs: usize,
    doing: &'static str,
    job: impl Fn(T) -> R + Send + Sync + 'static,
) -> Vec<R>
where
    T: Send + 'static + Named,
    R: Send + 'static,
{
    let total = items.len();
    let queue = Arc::new(Mutex::new(items.into_iter().collect::<VecDeque<T>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let progress = Arc::new(Progress::new(doing, total));
    let job = Arc::new(job);
    let workers: Vec<_> = (0..jobs.min(total).max(1))
        .map(|_| {
            let (queue, results, progress, job) = (
                Arc::clone(&queue),
                Arc::clone(&results),
                Arc::clone(&progress),
                Arc::clone(&job),
            );
            thread::spawn(move || {
                loop {
                    let Some(item) = lock(&queue).pop_front() else {
                        break;
                    };
                    let name = item.name().to_owned();
                    progress.start(&name);
                    let result = job(item);
                    progress.finish(&name);
                    lock(&results).push(result);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    progress.done();
    std::mem::take(&mut *lock(&results))
}

trait Named {
    fn name(&self) -> &str;
}

impl Named for Submission {
    fn name(&self) -> &str {
        &self.student
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The progress line: on a terminal, one line kept up to date; elsewhere
/// (a log), a line per submission done.
struct Progress {
    doing: &'static str,
    total: usize,
    started: Instant,
    state: Mutex<(usize, Vec<String>)>,
    terminal: bool,
}

impl Progress {
    fn new(doing: &'static str, total: usize) -> Progress {
        Progress {
            doing,
            total,
            started: Instant::now(),
            state: Mutex::new((0, Vec::new())),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn start(&self, name: &str) {
        let mut state = lock(&self.state);
        state.1.push(name.to_owned());
        self.draw(&state);
    }

    fn finish(&self, name: &str) {
        let mut state = lock(&self.state);
        state.0 += 1;
        state.1.retain(|n| n != name);
        if !self.terminal {
            eprintln!(
                "{} {}/{}: {name} done ({} s in)",
                self.doing,
                state.0,
                self.total,
                self.started.elapsed().as_secs()
            );
        }
        self.draw(&state);
    }

    fn draw(&self, state: &(usize, Vec<String>)) {
        if !self.terminal {
            return;
        }
        let width = 24;
        let filled = state.0 * width / self.total.max(1);
        let elapsed = self.started.elapsed().as_secs();
        let mut line = format!(
            "\r\x1b[K{} [{}{}] {}/{} {}:{:02}",
            self.doing,
            "#".repeat(filled),
            ".".repeat(width - filled),
            state.0,
            self.total,
            elapsed / 60,
            elapsed % 60
        );
        if !state.1.is_empty() {
            line.push_str(&format!("  now: {}", state.1.join(", ")));
        }
        line.truncate(160);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    fn done(&self) {
        if self.terminal {
            eprintln!();
        }
        eprintln!(
            "{} done: {} in {} s",
            self.doing,
            self.total,
            self.started.elapsed().as_secs()
        );
    }
}

/// A submission built (or not), ready to be graded.
struct Prepared {
    submission: Submission,
    recipe: Result<Recipe, String>,
    copy: PathBuf,
    build: Result<(), (&'static str, String)>,
    build_output: String,
    took: Duration,
}

impl Named for Prepared {
    fn name(&self) -> &str {
        &self.submission.student
    }
}

/// Copies `from` into `to`, folders and plain files only: a link could
/// point anywhere, another student's work included.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The last `n` lines of `text`.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn build(class: &Class, submission: Submission) -> Prepared {
    let started = Instant::now();
    let copy = class.work.join(book::file_stem(&submission.student));
    let recipe = class
        .file
        .recipe_for(&submission.folder)
        .map_err(|e| format!("{e:#}"));
    let mut prepared = Prepared {
        recipe: recipe.clone(),
        copy: copy.clone(),
        build: Ok(()),
        build_output: String::new(),
        took: Duration::ZERO,
        submission,
    };
    let copied =
        copy_tree(&prepared.submission.folder, &copy).and_then(|()| match &class.sandbox {
            Sandbox::Bwrap { as_root: true, .. } => {
                sandbox::hand_over(&copy, prepared.submission.uid)
            }
            _ => Ok(()),
        });
    if let Err(error) = copied {
        prepared.build = Err((
            "not graded",
            format!("its folder could not be copied: {error}"),
        ));
        return prepared;
    }
    let Ok(recipe) = recipe else { return prepared };
    let Some(line) = &recipe.build else {
        return prepared;
    };
    let uid = prepared.submission.uid;
    let command = class
        .sandbox
        .command(&Step::Build(line), &copy, &class.file.limits, uid);
    let ran = run_limited(command, None, class.file.limits.time, &class.sandbox);
    let stem = book::file_stem(&prepared.submission.student);
    let log = format!("$ {line}\n{}{}", ran.stdout, ran.stderr);
    let _ = std::fs::write(
        class.out.join("logs").join(format!("{stem}.build.txt")),
        &log,
    );
    prepared.build_output = last_lines(&format!("{}{}", ran.stdout, ran.stderr), 20);
    prepared.build = match ran.status {
        Ended::TimedOut => Err((
            "timed out",
            format!(
                "its build (`{line}`) took longer than the limit of {} s",
                class.file.limits.time.as_secs()
            ),
        )),
        Ended::Failed(error) => Err((
            "not graded",
            format!("its build could not be started: {error}"),
        )),
        Ended::Exited(status) if status.success() => Ok(()),
        Ended::Exited(_) if ran.stderr.starts_with("bwrap:") => Err((
            "not graded",
            format!(
                "its sandbox could not be made: {}",
                ran.stderr.lines().next().unwrap_or("")
            ),
        )),
        Ended::Exited(status) => Err((
            "build failed",
            format!(
                "its build (`{line}`) {}",
                grade::process::describe_exit(status)
            ),
        )),
    };
    prepared.took = started.elapsed();
    prepared
}

/// The arguments `grade-in-sandbox` takes for this class, and the server's
/// command.
fn grader_args(class: &Class, recipe: &Recipe, uid: u32) -> Vec<String> {
    let mut args = vec![
        "grade-in-sandbox".to_owned(),
        "--stage".to_owned(),
        class.stage.number().to_string(),
    ];
    if !class.extensions.is_empty() {
        let names: Vec<&str> = class.extensions.iter().map(|e| e.name()).collect();
        args.extend(["--with".to_owned(), names.join(",")]);
    }
    if let Some(threads) = class.file.threads {
        args.extend(["--threads".to_owned(), threads.to_string()]);
    }
    if let Some(queue) = class.file.queue {
        args.extend(["--queue".to_owned(), queue.to_string()]);
    }
    if let Some(seconds) = class.file.keep_alive_timeout {
        args.extend(["--keep-alive-timeout".to_owned(), seconds.to_string()]);
    }
    args.push("--".to_owned());
    args.extend(class.sandbox.server_prefix(&class.file.limits, uid));
    args.extend(sandbox::shell(&recipe.run, true));
    args
}

fn grade_one(class: &Class, prepared: Prepared) -> Row {
    let started = Instant::now();
    let student = prepared.submission.student.clone();
    let stem = book::file_stem(&student);
    let mut row = Row {
        student: student.clone(),
        recipe: prepared
            .recipe
            .as_ref()
            .map_or("-".to_owned(), |r| r.name.clone()),
        outcome: Outcome::NotGraded {
            status: "not graded",
            why: String::new(),
        },
        sandbox: Vec::new(),
        build_output: prepared.build_output.clone(),
        took: prepared.took,
    };
    let recipe = match (&prepared.recipe, &prepared.build) {
        (Err(why), _) => {
            row.outcome = Outcome::NotGraded {
                status: "no recipe",
                why: why.clone(),
            };
            return row;
        }
        (_, Err((status, why))) => {
            row.outcome = Outcome::NotGraded {
                status,
                why: why.clone(),
            };
            return row;
        }
        (Ok(recipe), Ok(())) => recipe,
    };
    let token = token();
    let uid = prepared.submission.uid;
    let step = Step::Grade {
        grader: &class.grader,
        args: grader_args(class, recipe, uid),
    };
    let command = class
        .sandbox
        .command(&step, &prepared.copy, &class.file.limits, uid);
    let left = class
        .file
        .limits
        .time
        .saturating_sub(prepared.took)
        .max(Duration::from_secs(30));
    let ran = run_limited(command, Some(&token), left, &class.sandbox);
    let _ = std::fs::write(
        class.out.join("logs").join(format!("{stem}.grade.txt")),
        &ran.stderr,
    );
    row.took = prepared.took + started.elapsed();
    let limits = &class.file.limits;
    row.outcome = match (&ran.status, inside::unframe(&ran.stdout, &token)) {
        (Ended::TimedOut, _) => Outcome::NotGraded {
            status: "timed out",
            why: format!(
                "its build and grading took longer than the limit of {} s, and its sandbox was ended",
                limits.time.as_secs()
            ),
        },
        (_, Some((json, extra))) => {
            let output = extra["server_output"].as_str().map(str::to_owned);
            match book::report_from_json(&json, output) {
                Ok(report) => {
                    row.sandbox = sandbox_notes(&extra, limits);
                    Outcome::Graded(Box::new(report))
                }
                Err(error) => Outcome::NotGraded {
                    status: "not graded",
                    why: format!("its report could not be read: {error:#}"),
                },
            }
        }
        (Ended::Exited(status), None) => Outcome::NotGraded {
            status: "not graded",
            why: grader_death(*status, &ran.stderr),
        },
        (Ended::Failed(error), None) => Outcome::NotGraded {
            status: "not graded",
            why: format!("the grader could not be started: {error}"),
        },
    };
    row
}

/// Why the grader gave no answer, from how it ended and its last words.
fn grader_death(status: ExitStatus, stderr: &str) -> String {
    let said = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("");
    match status.code() {
        Some(130) => "the grader was stopped by a signal (SIGINT, SIGTERM or SIGHUP) sent from inside the sandbox: the submission signalled processes that are not its own".to_owned(),
        Some(code) if !said.is_empty() => format!("the grader exited with status {code}: {}", said.trim_start_matches("error: ")),
        Some(code) => format!("the grader exited with status {code} and no report"),
        None => format!(
            "the grader {} before it could report: something inside the sandbox (the submission) ended it",
            grade::process::describe_exit(status)
        ),
    }
}

/// What the sandbox saw that the instructor should know.
fn sandbox_notes(extra: &serde_json::Value, limits: &classfile::Limits) -> Vec<String> {
    let mut notes = Vec::new();
    let tasks = extra["peak_tasks"].as_u64().unwrap_or(0);
    if tasks * 10 >= limits.processes * 9 {
        notes.push(format!(
            "reached its limit of {} processes and threads ({tasks} at once)",
            limits.processes
        ));
    }
    let memory = extra["peak_memory"].as_u64().unwrap_or(0);
    if memory * 10 >= limits.memory * 9 {
        notes.push(format!(
            "used {} MiB of memory at once (the limit is {} MiB a process)",
            memory >> 20,
            limits.memory >> 20
        ));
    }
    let left = extra["left_running"].as_u64().unwrap_or(0);
    if left > 0 {
        notes.push(format!(
            "left {left} process{} running after its server was stopped; the sandbox ended {}",
            if left == 1 { "" } else { "es" },
            if left == 1 { "it" } else { "them" }
        ));
    }
    notes
}

/// A word no submission can guess: 128 bits from the system's random
/// source where there is one.
fn token() -> String {
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return bytes.iter().map(|b| format!("{b:02x}")).collect();
    }
    let mut rng = grade::random::Rng::new();
    format!("{}{}", rng.token(), rng.token())
}

enum Ended {
    Exited(ExitStatus),
    TimedOut,
    Failed(std::io::Error),
}

struct Ran {
    status: Ended,
    stdout: String,
    stderr: String,
}

/// Runs `command` with `input` on its stdin, for at most `limit`, keeping
/// the ends of its output.
fn run_limited(
    mut command: Command,
    input: Option<&str>,
    limit: Duration,
    sandbox: &Sandbox,
) -> Ran {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Ran {
                status: Ended::Failed(error),
                stdout: String::new(),
                stderr: String::new(),
            };
        }
    };
    // Dropped at once: the job reads its input to the end.
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        let _ = stdin.write_all(format!("{input}\n").as_bytes());
    }
    let stdout = reader(child.stdout.take(), 8 << 20);
    let stderr = reader(child.stderr.take(), 1 << 20);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ended::Exited(status),
            Ok(None) if Instant::now() >= deadline => {
                end(&mut child, sandbox);
                break Ended::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(error) => break Ended::Failed(error),
        }
    };
    Ran {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Ends a job out of time. A sandbox ends with its process, everything in
/// it; an unsandboxed grader is asked first (SIGTERM), so that it stops the
/// servers it started, which are in process groups of their own.
fn end(child: &mut Child, sandbox: &Sandbox) {
    if matches!(sandbox, Sandbox::None) && cfg!(unix) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", &child.id().to_string()])
            .status();
        for _ in 0..100 {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads a pipe to its end on a thread, keeping at most `keep` bytes (the
/// last ones).
fn reader(pipe: Option<impl Read + Send + 'static>, keep: usize) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let Some(mut pipe) = pipe else {
            return String::new();
        };
        let mut kept: Vec<u8> = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buffer[..n]);
            if kept.len() > 2 * keep {
                kept.drain(..kept.len() - keep);
            }
        }
        if kept.len() > keep {
            kept.drain(..kept.len() - keep);
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

/// On Ctrl-C: the sandboxes end with their bubblewrap processes, which die
/// with this one (`--die-with-parent`); the copies are removed.
fn stop_sandboxes_on_interrupt(work: PathBuf) {
    let _ = ctrlc::set_handler(move || {
        let _ = std::fs::remove_dir_all(&work);
        std::process::exit(130);
    });
}

fn summary(
    rows: &[Row],
    points: &Points,
    checks: &[&'static Check],
    out: &Path,
    took: Duration,
    jobs: usize,
) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for row in rows {
        match counts
            .iter_mut()
            .find(|(status, _)| *status == row.status())
        {
            Some((_, n)) => *n += 1,
            None => counts.push((row.status(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    eprintln!(
        "\n{} submissions in {}:{:02} with {jobs} job{}: {}",
        rows.len(),
        took.as_secs() / 60,
        took.as_secs() % 60,
        if jobs == 1 { "" } else { "s" },
        counts.join(", ")
    );
    let width = rows.iter().map(|r| r.student.len()).max().unwrap_or(0);
    for row in rows {
        let (scored, maximum) = row.points(points, checks);
        let what = match &row.outcome {
            Outcome::Graded(report) => {
                let failed = report.failed_ids();
                if failed.is_empty() {
                    "every check passed".to_owned()
                } else {
                    format!("failed: {}", failed.join(" "))
                }
            }
            Outcome::NotGraded { status, why } => format!("{status}: {why}"),
        };
        eprintln!(
            "  {:<width$}  {:>6}/{:<6} {what}",
            row.student,
            show_points(scored),
            show_points(maximum)
        );
        for note in &row.sandbox {
            eprintln!("  {:<width$}  sandbox: {note}", "");
        }
    }
    eprintln!(
        "\nwrote {}/grades.csv, gradebook.html, feedback/, reports/ and logs/",
        out.display()
    );
}
