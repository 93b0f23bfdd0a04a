//! The grader, graded: the course's own stages pass every check of their stage
//! and fail exactly the checks of the next one; a correct Python server passes
//! too; and for every check there is a deliberately broken server (the Python
//! server in `tests/broken/server.py` with a `--defect`) that fails exactly
//! that check, and no other (but for `idle-client`, whose broken server cannot
//! pass `reverse-order` either). A check that no broken server fails could not
//! tell a working server from a broken one.
//!
//! Every server is started with `{threads}`, `{queue}` and
//! `{keep_alive_timeout}` in its command, as the stage 5 and 6 checks need; one
//! test shows what happens without them.
//!
//! The tests drive the grader through its library API, which is what the
//! `grade` subcommand runs; the last few run the subcommand itself, for its
//! exit codes, its JSON and its one-line errors.
//!
//! That every compiled stage passes its own checks is tested in every build.
//! The rest does not change with the stages compiled in, so it runs only in the
//! default build (`cfg(feature = "default")`): CI's builds of one stage at a
//! time would only repeat it.

use grade::{Extension, Grader, Report, Stage};

const BIN: &str = env!("CARGO_BIN_EXE_multithreaded-server");

/// Tests that start `python3`, the Python servers of `tests/broken/`: under
/// Wine a Windows program cannot start a Linux one, so there they are ignored
/// with that reason, which is written here once. (Only the full build's
/// modules have such tests.)
#[cfg(feature = "default")]
macro_rules! python_test {
    ($($(#[$attr:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$attr])*
        #[test]
        #[cfg_attr(
            wine,
            ignore = "it runs python3, a Linux program, which a Windows program under Wine cannot start"
        )]
        fn $name() $body
    )*};
}

/// The course's own binary running `stage`.
fn reference(stage: Stage) -> Grader {
    Grader::command([
        BIN,
        "--stage",
        stage.name(),
        "--port",
        "{port}",
        "--root",
        "{root}",
        "--quiet",
        "--threads",
        "{threads}",
        "--queue",
        "{queue}",
        "--keep-alive-timeout",
        "{keep_alive_timeout}",
        "--uploads",
        "{uploads}",
    ])
}

/// Grades and asserts that exactly `failing` failed, and nothing was skipped.
fn assert_fails_exactly(grader: Grader, stage: Stage, failing: &[&str]) -> Report {
    let report = grader.stage(stage).run().expect("grading starts");
    assert_eq!(report.failed_ids(), failing, "\n{report}");
    assert_eq!(report.skipped_ids(), Vec::<&str>::new(), "\n{report}");
    report
}

// ---------------------------------------------------------------------------
// Working servers pass

/// A stage passes every check of its stage, and so of every stage before it,
/// and every extension's: the HTTP the extensions grade is in the shared
/// core, so each stage speaks it.
fn passes_its_own_checks(stage: Stage) {
    let report = assert_fails_exactly(reference(stage).with(&Extension::ALL), stage, &[]);
    assert!(report.passed(), "\n{report}");
    assert_eq!(
        report.results.len(),
        grade::checks::selected(stage, &Extension::ALL).count()
    );
}

/// One test per stage, from a table: `name: "feature", Stage;` is a test
/// called `name`, built where `feature` is, that grades the course's own
/// binary at `Stage` with that stage's checks. The names stay whole in the
/// source, so `cargo test name` and a search for it both find the test.
macro_rules! stages_pass_their_own_checks {
    ($($(#[$attr:meta])* $name:ident: $feature:literal, $stage:ident;)*) => {$(
        $(#[$attr])*
        #[test]
        #[cfg(feature = $feature)]
        fn $name() {
            passes_its_own_checks(Stage::$stage);
        }
    )*};
}

/// `name: "feature", Stage fails Next [ids];` is a test called `name`, built
/// in the default build where `feature` is, that grades the course's binary
/// at `Stage` with the checks of `Next` and expects exactly `ids` to fail.
macro_rules! stages_fail_the_next_stage {
    ($($(#[$attr:meta])* $name:ident: $feature:literal, $stage:ident fails $next:ident $failing:expr;)*) => {$(
        $(#[$attr])*
        #[test]
        #[cfg(all(feature = "default", feature = $feature))]
        fn $name() {
            assert_fails_exactly(reference(Stage::$stage), Stage::$next, &$failing);
        }
    )*};
}

// Every stage compiled into this build passes its own checks.
stages_pass_their_own_checks! {
    stage_1_passes_its_own_checks: "single-threaded", SingleThreaded;
    stage_2_passes_its_own_checks: "thread-per-client", ThreadPerClient;
    stage_3_passes_its_own_checks: "not-found", NotFound;
    stage_4_passes_its_own_checks: "daemon-join", DaemonJoin;
    stage_5_passes_its_own_checks: "thread-pool", ThreadPool;
    stage_6_passes_its_own_checks: "keep-alive", KeepAlive;
    #[cfg_attr(
        wine,
        ignore = "under Wine, once ten-thousand-idle's 10,000 connections close, stage 7 answers nothing for over 100 s (Wine's socket layer, not the server; see .ci/wine/README.md)"
    )]
    stage_7_passes_its_own_checks: "async", Async;
}

// ---------------------------------------------------------------------------
// Each stage fails exactly the checks of the next one: what its chapter's
// "a slight problem" section says it gets wrong.

stages_fail_the_next_stage! {
    /// Stage 1 serves one client at a time, so a silent client holds up the rest.
    stage_1_fails_the_concurrency_checks_of_stage_2: "single-threaded",
        SingleThreaded fails ThreadPerClient ["idle-client", "reverse-order"];
    /// Stage 2 closes the connection on an error, without an answer.
    stage_2_fails_the_error_checks_of_stage_3: "thread-per-client",
        ThreadPerClient fails NotFound ["not-found-page", "bad-request"];
    /// Stage 4 starts a thread for every client and never turns one away.
    stage_4_fails_the_pool_checks_of_stage_5: "daemon-join",
        DaemonJoin fails ThreadPool ["threads-bounded", "overload-503"];
    /// Stage 5 closes every connection after one response, and a silent client
    /// holds a worker. It does close when asked to, so it passes that one.
    stage_5_fails_the_keep_alive_checks_of_stage_6: "thread-pool",
        ThreadPool fails KeepAlive [
            "keep-alive",
            "pipelining",
            "http-1.0",
            "idle-timeout",
            "many-idle-connections",
        ];
}

// Stage 3's test says more than which checks fail, so it is written out.

/// Stage 3 dies on Ctrl-C, mid-download, killed by the signal.
#[test]
#[cfg(all(feature = "default", feature = "not-found"))]
fn stage_3_fails_the_ctrl_c_checks_of_stage_4() {
    // Under Wine a program with no Ctrl-C handler exits 0, where Windows gives
    // 0xC000013A: there the exit status cannot tell (see .ci/wine/README.md).
    let failing: &[&str] = if cfg!(wine) {
        &["ctrl-c-finishes-download"]
    } else {
        &["ctrl-c-finishes-download", "ctrl-c-exits-0"]
    };
    let report = assert_fails_exactly(reference(Stage::NotFound), Stage::DaemonJoin, failing);
    if cfg!(wine) {
        return;
    }
    let Some(grade::Verdict::Fail(failure)) = report.verdict("ctrl-c-exits-0") else {
        unreachable!()
    };
    let killed = if cfg!(windows) {
        "was ended by Ctrl-C (exit code 0xC000013A)"
    } else {
        "killed by signal 2 (SIGINT)"
    };
    assert!(failure.problem.contains(killed), "{}", failure.problem);
}

/// A Python server, correct and then broken in one way at a time: every check
/// catches a broken server, and each test names the check it proves.
#[cfg(feature = "default")]
mod python_servers {
    use std::path::PathBuf;

    use super::*;

    pub fn python_server() -> String {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/broken/server.py")
            .to_string_lossy()
            .into_owned()
    }

    /// The Python server, correct or with one defect.
    fn python(defect: Option<&str>) -> Grader {
        let mut command = vec![
            "python3".to_owned(),
            python_server(),
            "{port}".into(),
            "{root}".into(),
            "--threads".into(),
            "{threads}".into(),
            "--queue".into(),
            "{queue}".into(),
            "--keep-alive-timeout".into(),
            "{keep_alive_timeout}".into(),
            "--uploads".into(),
            "{uploads}".into(),
        ];
        if let Some(defect) = defect {
            command.extend(["--defect".to_owned(), defect.to_owned()]);
        }
        Grader::command(command)
    }

    /// A deliberately broken server: the Python server with `defect`, and the
    /// checks it must fail, and no others. The first is the check it is for;
    /// most fail that one alone.
    struct Broken {
        defect: &'static str,
        fails: &'static [&'static str],
    }

    const fn broken(defect: &'static str, fails: &'static [&'static str]) -> Broken {
        Broken { defect, fails }
    }

    /// Grades each broken server at `stage` and asserts that it fails exactly
    /// its checks. Two gradings run at a time: a grading mostly waits (for a
    /// server to start or stop, or for a time limit to pass), and one at a time
    /// the suite would take minutes. Every mismatch is reported, not only the
    /// first.
    fn each_fails_exactly(stage: Stage, extensions: &[Extension], servers: &'static [Broken]) {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mismatches = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    while let Some(server) =
                        servers.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                    {
                        let report = python(Some(server.defect))
                            .stage(stage)
                            .with(extensions)
                            .run()
                            .expect("grading starts");
                        let failed = report.failed_ids();
                        let skipped = report.skipped_ids();
                        if failed != server.fails || !skipped.is_empty() {
                            mismatches.lock().unwrap().push(format!(
                                "--defect {} should fail exactly {:?}; failed {failed:?}, skipped {skipped:?}\n{report}",
                                server.defect, server.fails
                            ));
                        }
                    }
                });
            }
        });
        let mismatches = mismatches.into_inner().unwrap();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
    }

    python_test! {
        /// A Python server that does the work of every stage (a pool of workers
        /// behind a `selectors` readiness loop) passes stage 7: the grader grades a
        /// server in any language.
        fn a_correct_python_server_passes_stage_7() {
            let report = assert_fails_exactly(python(None), Stage::Async, &[]);
            assert!(report.passed());
            assert!(
                report.score_line().ends_with(": 29/29 checks passed"),
                "{}",
                report.score_line()
            );
        }
    }

    python_test! {
        /// Without `{threads}`, `{queue}` and `{keep_alive_timeout}` in the command,
        /// the checks that need them are skipped, each saying which placeholder
        /// would let it run; the rest still run (the thread count against a looser
        /// limit). A skipped check is not a pass.
        fn checks_that_need_a_placeholder_say_so() {
            let command = ["python3", &python_server(), "{port}", "{root}"];
            let report = Grader::command(command)
                .stage(Stage::KeepAlive)
                .run()
                .unwrap();
            assert_eq!(report.failed_ids(), Vec::<&str>::new(), "\n{report}");
            assert_eq!(
                report.skipped_ids(),
                [
                    "overload-503",
                    "pool-keeps-its-workers",
                    "ctrl-c-with-busy-pool",
                    "idle-timeout"
                ],
                "\n{report}"
            );
            assert!(!report.passed());
            let reason = |id| match report.verdict(id) {
                Some(grade::Verdict::Skip(reason)) => reason.clone(),
                _ => unreachable!(),
            };
            assert!(
                reason("overload-503").contains("put {threads} and {queue} in the command"),
                "{}",
                reason("overload-503")
            );
            assert!(
                reason("idle-timeout").contains("--keep-alive-timeout {keep_alive_timeout}"),
                "{}",
                reason("idle-timeout")
            );
        }
    }

    python_test! {
        /// `connects`: a server that exits before it listens. The other checks are
        /// not judged, not failed: there was nothing to check, and one fault.
        fn connects_catches_a_server_that_never_listens() {
            let report = python(Some("crash-at-start"))
                .stage(Stage::SingleThreaded)
                .run()
                .unwrap();
            assert_eq!(report.failed_ids(), ["connects"], "\n{report}");
            assert_eq!(report.not_judged_count(), report.results.len() - 1);
            assert!(
                report
                    .to_string()
                    .contains("not judged: needs a server that starts, which `connects` found broken"),
                "\n{report}"
            );
            let Some(grade::Verdict::Fail(failure)) = report.verdict("connects") else {
                unreachable!()
            };
            assert!(
                failure
                    .problem
                    .contains("exited with status 1 before it accepted a connection")
            );
            assert!(
                failure
                    .received
                    .as_deref()
                    .unwrap_or("")
                    .contains("defect crash-at-start")
            );
        }
    }

    /// Stopping the server kills its whole process group, not only the process
    /// the grader started: here a shell that starts the server and a sleeper
    /// and waits for them, as a wrapper script or `cargo run` would. The shell
    /// writes their pids to a file; once grading is over, neither may be left
    /// alive in the group.
    #[test]
    #[cfg(target_os = "linux")]
    fn stopping_the_server_stops_everything_it_started() {
        use std::time::{Duration, Instant};

        let dir = std::env::temp_dir().join(format!("grading-group-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pids = dir.join("pids");
        // `$$` is the shell, which leads the group; `$!` each child it starts.
        let script = format!(
            "python3 '{server}' {{port}} '{{root}}' & echo $$ $! >>'{pids}'; \
             sleep 1000 & echo $$ $! >>'{pids}'; wait",
            server = python_server(),
            pids = pids.display(),
        );
        let report = Grader::command(["sh", "-c", &script])
            .stage(Stage::SingleThreaded)
            .run()
            .unwrap();

        let started: Vec<(String, String)> = std::fs::read_to_string(&pids)
            .unwrap()
            .lines()
            .map(|line| {
                let (group, pid) = line.split_once(' ').unwrap();
                (group.to_owned(), pid.to_owned())
            })
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(started.len(), 2, "{started:?}\n{report}");
        // Alive: it exists, is not a zombie (dead, waiting to be reaped), and
        // is still in the group, so is not another process given the same pid.
        let alive = |(group, pid): &(String, String)| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .collect();
            fields[0] != "Z" && fields[2] == group
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut left: Vec<_> = started.iter().filter(|p| alive(p)).collect();
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left.retain(|p| alive(p));
        }
        for (_, pid) in &left {
            let _ = std::process::Command::new("kill")
                .args(["-s", "KILL", pid])
                .status();
        }
        assert!(report.passed(), "\n{report}");
        assert!(
            left.is_empty(),
            "still running 30 s after grading: {left:?} (group, pid)"
        );
    }

    /// Stage 1: the report's mistakes, one at a time.
    const STAGE_1: &[Broken] = &[
        // CRLF turned into LF by reading in text mode.
        broken("text-mode", &["text-files"]),
        // Binary files decoded as UTF-8 and mangled.
        broken("binary-as-text", &["binary-files"]),
        // The length of the text in characters, not bytes.
        broken("length-in-characters", &["content-length"]),
        // The report's `text/html` for everything.
        broken("html-for-everything", &["content-type"]),
        // Only the file name of the path is kept.
        broken("flat-root", &["sub-folder"]),
        // The report's `open(filename[1:])`, with `..` let through.
        broken("leak", &["no-traversal"]),
        // Exits after a malformed request.
        broken("exit-on-bad-request", &["survives-bad-clients"]),
        // Spins for ever on a socket whose client hung up half-way through a
        // head: it still serves, but burns a core.
        broken("spins", &["survives-bad-clients"]),
        // Takes one recv for the whole request, as the report did.
        broken("one-recv", &["split-request"]),
        // Lower-cases the path, so `Mixed-Case.html` is not found.
        broken("lower-case-paths", &["paths"]),
        // Ends head lines with a bare `\n`, which clients forgive.
        broken("bare-lf", &["head-syntax"]),
    ];

    /// Stage 2: too few threads.
    const STAGE_2: &[Broken] = &[
        // One client at a time fails `idle-client`, and `reverse-order`, which
        // needs the same and more.
        broken("single-threaded", &["idle-client", "reverse-order"]),
        // Two workers are enough for an idle client and one more, not for four
        // open connections.
        broken("pool-of-two", &["reverse-order"]),
    ];

    /// Stage 3: errors without their answers.
    const STAGE_3: &[Broken] = &[
        // A 404 with a body of its own instead of `error.html`.
        broken("no-404-page", &["not-found-page"]),
        // A malformed request met with a silent close.
        broken("no-400", &["bad-request"]),
        // Serves a request whose only fault is in its header lines.
        broken("request-line-only", &["bad-request"]),
    ];

    /// Stage 4: Ctrl-C handled badly.
    const STAGE_4: &[Broken] = &[
        // Exits at once, daemon threads and all, as the report's server did.
        broken("no-join", &["ctrl-c-finishes-download"]),
        // Finishes its work, then lets `KeyboardInterrupt` escape and dies of
        // the signal.
        broken("reraise", &["ctrl-c-exits-0"]),
        // A join with no time limit waits for a client that will never speak.
        broken("join-forever", &["idle-client-cannot-hold-shutdown"]),
        // Ignoring Ctrl-C fails both checks that expect an exit.
        broken(
            "ignore-ctrl-c",
            &["ctrl-c-exits-0", "idle-client-cannot-hold-shutdown"],
        ),
    ];

    /// Stage 5: a pool that is no pool, or one that breaks.
    const STAGE_5: &[Broken] = &[
        // A thread for every client, up to `{threads}` + `{queue}` of them, then
        // 503: bounded, but by the wrong number.
        broken("thread-per-client-capped", &["threads-bounded"]),
        // A queue with no limit: a client waits instead of being told to come
        // back later.
        broken("unbounded-queue", &["overload-503"]),
        // A worker that dies with its job (here on a request line that is not
        // UTF-8), as the Rust Book's pool does on a panic.
        broken("worker-dies", &["pool-keeps-its-workers"]),
        // A shutdown that serves the whole queue first, with no time limit, as
        // a pool that queues its stop messages behind the jobs does.
        broken("wait-for-queue", &["ctrl-c-with-busy-pool"]),
    ];

    /// Stage 6: keep-alive almost right.
    const STAGE_6: &[Broken] = &[
        // A limit on requests per connection (nginx has one), reached without
        // saying `Connection: close`, so the client's next request is lost.
        broken("closes-after-five", &["keep-alive"]),
        // The bytes after the first request head thrown away.
        broken("drops-pipelined", &["pipelining"]),
        // A connection kept open after `Connection: close`.
        broken("ignores-connection-close", &["connection-close"]),
        // HTTP/1.0 treated as HTTP/1.1, kept open by default.
        broken("http10-kept-open", &["http-1.0"]),
        // Idle connections that are never closed.
        broken("no-idle-timeout", &["idle-timeout"]),
        // Keep-alive right on the wire, but every connection holds a worker
        // while it waits, so the pool runs out.
        broken("worker-per-connection", &["many-idle-connections"]),
    ];

    /// Stage 7: a loop that would scale, in a process that cannot.
    /// The extensions' broken servers, graded at stage 3 (416 is an error's
    /// answer, which stages 1 and 2 do not give) with every extension.
    const EXTENSIONS: &[Broken] = &[
        broken("etag-never-304", &["etag-304"]),
        broken("range-end-exclusive", &["range-206"]),
        broken("range-past-end-whole", &["range-416"]),
        broken("gzip-ignores-q", &["gzip"]),
        // The other upload checks begin with an upload of their own, which
        // this fails: they are not judged.
        broken("upload-200-for-new", &["upload-creates"]),
        broken("upload-writes-as-it-comes", &["upload-whole"]),
        broken("upload-escapes", &["upload-no-escape"]),
    ];

    python_test! {
        fn each_extension_check_catches_its_broken_server() {
            each_fails_exactly(Stage::NotFound, &Extension::ALL, EXTENSIONS)
        }
    }

    python_test! {
        /// A correct server that gives up on its downloads after its own
        /// time limit (5 s), because they go slowly (as on a busy machine;
        /// here it sends 2 MB a second), is not failed for it: the check
        /// lets a download be cut a few seconds after Ctrl-C, and says so.
        /// (The report's daemon threads, `--defect no-join`, cut theirs at
        /// once, and still fail: see the tables above.)
        fn a_download_given_up_after_seconds_is_the_servers_own_limit() {
            let mut command = vec![
                "python3".to_owned(),
                python_server(),
                "{port}".into(),
                "{root}".into(),
                "--threads".into(),
                "{threads}".into(),
                "--queue".into(),
                "{queue}".into(),
                "--send-rate".into(),
                "2000000".into(),
            ];
            command.extend(["--keep-alive-timeout".into(), "{keep_alive_timeout}".into()]);
            let report = Grader::command(command)
                .stage(Stage::ThreadPool)
                .run()
                .expect("grading starts");
            for id in ["ctrl-c-finishes-download", "ctrl-c-with-busy-pool"] {
                let Some(result) = report.results.iter().find(|result| result.check.id == id)
                else {
                    unreachable!("a check of stages 4 and 5")
                };
                assert!(
                    matches!(result.verdict, grade::Verdict::Pass),
                    "{id}\n{report}"
                );
                assert!(
                    result
                        .notes
                        .iter()
                        .any(|note| note.contains("the server's own time limit")),
                    "{id}\n{report}"
                );
            }
        }
    }

    python_test! {
        /// Graded with every extension, the Python server passes each: a
        /// student's server in any language can be graded for them.
        fn a_correct_python_server_passes_every_extension() {
            let report = python(None)
                .stage(Stage::NotFound)
                .with(&Extension::ALL)
                .run()
                .expect("grading starts");
            assert!(report.passed(), "\n{report}");
            assert_eq!(
                report.results.len(),
                grade::checks::selected(Stage::NotFound, &Extension::ALL).count()
            );
        }
    }

    const STAGE_7: &[Broken] = &[
        // The soft limit of 1,024 open files kept: right for 300 idle
        // connections, out of descriptors at about a thousand.
        broken("low-file-limit", &["ten-thousand-idle"]),
        // Blocking work on the loop's thread for each hang-up: a few hundred
        // go unnoticed, ten thousand stall every client for 20 s.
        broken("blocks-on-hang-up", &["ten-thousand-idle"]),
    ];

    /// `name: Stage, TABLE;` is a test called `name` that grades each broken
    /// server of `TABLE` at `Stage` (see `each_fails_exactly`).
    macro_rules! broken_servers_fail_their_checks {
        ($($name:ident: $stage:ident, $table:ident;)*) => {$(
            python_test! {
                fn $name() {
                    each_fails_exactly(Stage::$stage, &[], $table)
                }
            }
        )*};
    }

    // Each stage's table of broken servers, above, graded with its checks.
    broken_servers_fail_their_checks! {
        each_stage_1_check_catches_its_broken_server: SingleThreaded, STAGE_1;
        each_stage_2_check_catches_its_broken_server: ThreadPerClient, STAGE_2;
        each_stage_3_check_catches_its_broken_server: NotFound, STAGE_3;
        each_stage_4_check_catches_its_broken_server: DaemonJoin, STAGE_4;
        each_stage_5_check_catches_its_broken_server: ThreadPool, STAGE_5;
        each_stage_6_check_catches_its_broken_server: KeepAlive, STAGE_6;
        each_stage_7_check_catches_its_broken_server: Async, STAGE_7;
    }

    /// Every check has a broken server for it in the tables above (`connects`:
    /// in its own test), so a new check needs one too, or this fails. Each
    /// fails its check alone, but for `idle-client`: a server that makes one
    /// silent client hold up another cannot answer four connections in reverse
    /// order either.
    #[test]
    fn every_check_has_a_broken_server_that_fails_it() {
        let tables = [
            STAGE_1, STAGE_2, STAGE_3, STAGE_4, STAGE_5, STAGE_6, STAGE_7, EXTENSIONS,
        ];
        let servers = || tables.iter().flat_map(|table| table.iter());
        for check in grade::CHECKS.iter().filter(|check| check.id != "connects") {
            let Some(server) = servers().find(|server| server.fails[0] == check.id) else {
                panic!("no broken server is shown to fail `{}`", check.id);
            };
            let alone = server.fails.len() == 1;
            assert!(
                alone || check.id == "idle-client",
                "`{}` fails {:?}, not `{}` alone",
                server.defect,
                server.fails,
                check.id
            );
        }
    }
}

/// The `grade` subcommand: exit codes, JSON, `--addr`, one-line errors.
#[cfg(feature = "default")]
mod subcommand {
    use std::process::{Command, Output, Stdio};

    use super::python_servers::python_server;
    use super::*;

    fn grade(args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("grade")
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    }

    fn stdout(output: &Output) -> String {
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    python_test! {
        /// `--with` grades the extensions named, after the stage, each under
        /// its own heading; `{uploads}` missing from the command, the upload
        /// checks are skipped, saying where to put it.
        fn with_grades_the_extensions_it_names() {
            let server = python_server();
            let output = grade(&[
                "--stage", "3", "--with", "ranges,uploads", "--", "python3", &server, "{port}",
                "{root}",
            ]);
            let text = stdout(&output);
            assert_eq!(output.status.code(), Some(1), "{text}");
            assert!(text.contains("\nextension: ranges\n"), "{text}");
            assert!(!text.contains("extension: compression"), "{text}");
            assert!(text.contains("put {uploads} in the command"), "{text}");
            assert!(
                text.ends_with("\nstage 3 (not-found) with ranges, uploads: 17/20 checks passed, 3 skipped\n"),
                "{text}"
            );
        }
    }

    /// A name `--with` does not know is a one-line error that lists the
    /// names it knows, and no grading.
    #[test]
    fn with_refuses_an_extension_it_does_not_know() {
        let output = grade(&[
            "--stage",
            "3",
            "--with",
            "ranges,etags",
            "--",
            "x",
            "{port}",
            "{root}",
        ]);
        assert_eq!(output.status.code(), Some(2));
        let error = String::from_utf8_lossy(&output.stderr);
        assert_eq!(error.trim().lines().count(), 1, "{error}");
        assert!(
            error.contains(
                "no extension is called `etags`; there are validators, ranges, compression, uploads"
            ),
            "{error}"
        );
    }

    python_test! {
        /// Exit status 0 and the score line when every check passes; 1 and the
        /// failure, in full, when one does not.
        fn the_exit_status_says_whether_every_check_passed() {
            let server = python_server();
            let passing = grade(&["--stage", "1", "--", "python3", &server, "{port}", "{root}"]);
            assert_eq!(passing.status.code(), Some(0), "{}", stdout(&passing));
            assert!(stdout(&passing).ends_with("\nstage 1 (single-threaded): 11/11 checks passed\n"));

            let failing = grade(&[
                "--stage",
                "single-threaded",
                "--",
                "python3",
                &server,
                "{port}",
                "{root}",
                "--defect",
                "html-for-everything",
            ]);
            assert_eq!(failing.status.code(), Some(1));
            let text = stdout(&failing);
            assert!(
                text.ends_with("\nstage 1 (single-threaded): 10/11 checks passed\n"),
                "{text}"
            );
            for field in [
                "1 fault:\n  content-type: GET /style.css: Content-Type is `text/html`; expected text/css",
                "  ✗ Content-Type matches",
                "problem:",
                "sent:     GET /",
                "received: HTTP/1.1 200 OK",
                "hint:",
            ] {
                assert!(text.contains(field), "{field:?} missing from\n{text}");
            }
        }
    }

    python_test! {
        /// `--json` prints one valid JSON object with the documented keys (Python's
        /// `json` module is the judge of validity).
        fn json_output_is_valid_and_documented() {
            let output = grade(&[
                "--stage",
                "2",
                "--json",
                "--",
                "python3",
                &python_server(),
                "{port}",
                "{root}",
                "--defect",
                "html-for-everything",
            ]);
            assert_eq!(output.status.code(), Some(1));
            let script = "import json, sys\n\
                r = json.load(sys.stdin)\n\
                assert r['format'] == 'multithreaded-server-grade/1'\n\
                assert r['stage'] == {'number': 2, 'name': 'thread-per-client'}\n\
                assert (r['passed'], r['failed'], r['skipped'], r['total']) == (12, 1, 0, 13)\n\
                assert r['not_judged'] == 0 and r['restarts'] == [] and r['extensions'] == []\n\
                assert r['success'] is False and r['server_exit'] is None\n\
                keys = {'id', 'stage', 'title', 'result', 'millis', 'problem', 'sent', 'received', 'hint', 'reason', 'notes', 'extension'}\n\
                assert all(c['extension'] is None for c in r['checks'])\n\
                assert all(set(c) == keys for c in r['checks'])\n\
                failed = [c for c in r['checks'] if c['result'] == 'fail']\n\
                assert [c['id'] for c in failed] == ['content-type']\n\
                assert failed[0]['sent'].startswith('GET /')\n\
                print('ok')";
            let mut python = Command::new("python3")
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut python.stdin.take().unwrap(), &output.stdout).unwrap();
            let checked = python.wait_with_output().unwrap();
            assert_eq!(
                stdout(&checked).trim(),
                "ok",
                "{}\n{}",
                String::from_utf8_lossy(&checked.stderr),
                stdout(&output)
            );
        }
    }

    /// Runs a Python script on `input`; its stdout, which should be "ok".
    fn python_judges(script: &str, input: &[u8]) -> String {
        let mut python = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut python.stdin.take().unwrap(), input).unwrap();
        let checked = python.wait_with_output().unwrap();
        format!(
            "{}{}",
            stdout(&checked).trim(),
            String::from_utf8_lossy(&checked.stderr)
        )
    }

    python_test! {
        /// A server that listens on another port than the one it was given is not
        /// waited on in silence. On Linux, where the grader reads the server's own
        /// sockets, it says within seconds where the server listens; elsewhere,
        /// after 10 s, it says what it waits for.
        fn a_server_on_another_port_is_told_so() {
            let script = "import socket, time\n\
                s = socket.create_server(('127.0.0.1', 0))\n\
                time.sleep(100)\n";
            let started = std::time::Instant::now();
            let output = grade(&[
                "--stage",
                "1",
                "--startup-timeout",
                if cfg!(target_os = "linux") {
                    "90s"
                } else {
                    "12s"
                },
                "--",
                "python3",
                "-c",
                script,
                "{port}",
                "{root}",
            ]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let text = stdout(&output);
            assert_eq!(output.status.code(), Some(1), "{stderr}");
            if cfg!(target_os = "linux") {
                assert!(
                    text.contains("problem:  the server listens on 127.0.0.1:")
                        && text.contains(", not on port "),
                    "{text}"
                );
                // Well before the startup timeout: it did not wait it out.
                assert!(started.elapsed() < std::time::Duration::from_secs(60));
            } else {
                assert!(
                    stderr.contains(
                        "still waiting after 10 s: nothing accepts connections on 127.0.0.1:"
                    ),
                    "{stderr}"
                );
            }
        }
    }

    python_test! {
        /// `--format junit` is well-formed XML (Python's parser is the judge), with
        /// a test case per check, and the failure counted and described.
        fn junit_output_is_well_formed_and_counts_failures() {
            let output = grade(&[
                "--stage",
                "2",
                "--format",
                "junit",
                "--",
                "python3",
                &python_server(),
                "{port}",
                "{root}",
                "--defect",
                "html-for-everything",
            ]);
            assert_eq!(output.status.code(), Some(1));
            let script = "import sys, xml.etree.ElementTree as ET\n\
                root = ET.fromstring(sys.stdin.buffer.read())\n\
                assert root.tag == 'testsuites', root.tag\n\
                assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('13', '1', '0'), root.attrib\n\
                suites = root.findall('testsuite')\n\
                assert [s.get('name') for s in suites] == ['stage 1: single-threaded', 'stage 2: thread-per-client']\n\
                cases = root.iter('testcase')\n\
                failed = [c for c in root.iter('testcase') if c.find('failure') is not None]\n\
                assert [c.get('name').split(':')[0] for c in failed] == ['content-type']\n\
                failure = failed[0].find('failure')\n\
                assert 'Content-Type is' in failure.get('message')\n\
                assert 'hint: ' in failure.text and 'sent: GET /' in failure.text\n\
                print('ok')";
            assert_eq!(
                python_judges(script, &output.stdout),
                "ok",
                "{}",
                stdout(&output)
            );
        }
    }

    python_test! {
        /// `--format gradescope` is Gradescope's results.json: a score, and a test
        /// per check with name, score, max_score, status and output, its points
        /// from `--points` (TOML here; JSON works too) or 1 each.
        fn gradescope_output_has_the_schema_and_the_points() {
            let dir = std::env::temp_dir().join(format!("grade-points-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let points = dir.join("points.toml");
            std::fs::write(&points, "content-type = 4\nno-traversal = 2.5\n").unwrap();
            let output = grade(&[
                "--stage",
                "1",
                "--format",
                "gradescope",
                "--points",
                &points.to_string_lossy(),
                "--",
                "python3",
                &python_server(),
                "{port}",
                "{root}",
                "--defect",
                "html-for-everything",
            ]);
            let bad = dir.join("bad.json");
            std::fs::write(&bad, "{\"no-such-check\": 1}").unwrap();
            let refused = grade(&[
                "--stage",
                "1",
                "--format",
                "gradescope",
                "--points",
                &bad.to_string_lossy(),
                "--",
                "python3",
                "s.py",
                "{port}",
                "{root}",
            ]);
            let _ = std::fs::remove_dir_all(&dir);
            assert_eq!(output.status.code(), Some(1));
            let script = "import json, sys\n\
                r = json.load(sys.stdin)\n\
                tests = r['tests']\n\
                assert len(tests) == 11, len(tests)\n\
                assert all(set(t) == {'name', 'score', 'max_score', 'status', 'output'} for t in tests)\n\
                by_id = {t['name'].split(':')[0]: t for t in tests}\n\
                ct = by_id['content-type']\n\
                assert (ct['score'], ct['max_score'], ct['status']) == (0, 4, 'failed'), ct\n\
                assert 'problem: GET /' in ct['output'] and 'hint: ' in ct['output']\n\
                nt = by_id['no-traversal']\n\
                assert (nt['score'], nt['max_score'], nt['status']) == (2.5, 2.5, 'passed'), nt\n\
                assert r['score'] == 9 + 2.5, r['score']\n\
                assert isinstance(r['execution_time'], float) and 'checks passed' in r['output']\n\
                print('ok')";
            assert_eq!(
                python_judges(script, &output.stdout),
                "ok",
                "{}",
                stdout(&output)
            );
            let stderr = String::from_utf8_lossy(&refused.stderr);
            assert_eq!(refused.status.code(), Some(2), "{stderr}");
            assert!(
                stderr.contains("`no-such-check`, which is not a check"),
                "{stderr}"
            );
        }
    }

    /// A server already running is graded with `--addr` and `--root`; the checks
    /// that need to start it themselves (to send it Ctrl-C, to count its
    /// threads) are skipped, with the reason, and a skipped check keeps the exit
    /// status from being 0. Its pool's settings are given to `grade`; without
    /// them, the checks that need them say so.
    #[test]
    fn a_running_server_is_graded_without_the_checks_that_start_it() {
        use std::io::{BufRead, BufReader};
        let dir = std::env::temp_dir().join(format!("grading-addr-{}", std::process::id()));
        let root = dir.join("served");
        std::fs::create_dir_all(&root).unwrap();
        let settings = [
            "--threads",
            "4",
            "--queue",
            "16",
            "--keep-alive-timeout",
            "2",
        ];
        let mut server = Command::new(BIN)
            .args(["--stage", "6", "--port", "0", "--quiet"])
            .args(settings)
            .arg("--root")
            .arg(&root)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let addr = ready
            .split("http://")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let root_arg = root.to_string_lossy().into_owned();
        let running = ["--addr", &addr, "--root", &root_arg];

        let stage_3 = grade(&[&["--stage", "3"][..], &running].concat());
        let stage_6 = grade(&[&["--stage", "6"][..], &running, &settings].concat());
        let unsaid = grade(&[&["--stage", "5"][..], &running].concat());
        let leftovers = std::fs::read_dir(&root).unwrap().count();
        let _ = server.kill();
        let _ = server.wait();
        let _ = std::fs::remove_dir_all(&dir);

        assert_eq!(stage_3.status.code(), Some(0), "{}", stdout(&stage_3));
        assert_eq!(stage_6.status.code(), Some(1), "{}", stdout(&stage_6));
        let text = stdout(&stage_6);
        assert!(
            text.ends_with("\nstage 6 (keep-alive): 22/28 checks passed, 6 skipped\n"),
            "{text}"
        );
        for (reason, count) in [
            (
                "skipped: it sends the server Ctrl-C, so it must start the server itself",
                4,
            ),
            ("skipped: it counts the server's threads", 1),
            ("skipped: it sets out to break the server's workers", 1),
        ] {
            assert_eq!(text.matches(reason).count(), count, "{reason}\n{text}");
        }
        let text = stdout(&unsaid);
        assert!(
            text.contains("skipped: it needs the number of workers and the queue's size of the running server: give --threads N and --queue N to `grade`"),
            "{text}"
        );
        assert_eq!(leftovers, 0, "the grader removes the files it wrote");
    }

    /// Mistakes in using `grade` get one line on stderr and exit status 2.
    #[test]
    fn grade_mistakes_are_one_line_errors() {
        let cases: [(&[&str], &str); 7] = [
            (
                &[
                    "--stage",
                    "1",
                    "--",
                    "python3",
                    "server.py",
                    "8080",
                    "{root}",
                ],
                "the server command has no {port}",
            ),
            (
                &[
                    "--stage",
                    "1",
                    "--addr",
                    "127.0.0.1:9",
                    "--root",
                    "/no/such/folder",
                ],
                "is not a folder",
            ),
            (
                &["--stage", "9", "--", "x", "{port}", "{root}"],
                "invalid value '9'",
            ),
            (
                &[
                    "--stage", "1", "--root", "/tmp", "--", "x", "{port}", "{root}",
                ],
                "--root is for a running server",
            ),
            (&["--json"], "not provided: --stage"),
            (
                &[
                    "--stage", "1", "--", "python3", "s.py", "{port}", "{root}", "{thread}",
                ],
                "the server command has `{thread}`, which the grader does not fill in",
            ),
            (
                &[
                    "--stage", "1", "--points", "p.toml", "--", "x", "{port}", "{root}",
                ],
                "--points is for --format gradescope",
            ),
        ];
        for (args, message) in cases {
            let output = grade(args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(message), "{message:?} not in {stderr:?}");
        }
    }

    /// `grade --list` names every check with its stage and time limit.
    #[test]
    fn the_list_names_every_check() {
        let output = grade(&["--list"]);
        assert!(output.status.success());
        let text = stdout(&output);
        for check in grade::CHECKS {
            assert!(
                text.contains(check.id) && text.contains(check.title),
                "{} missing",
                check.id
            );
        }
    }
}

// ---------------------------------------------------------------------------
// A death is blamed on the moment it happened.

#[cfg(feature = "default")]
mod deaths {
    use grade::{Grader, Stage, Verdict};

    /// A server in a few lines of Python, started with its port.
    fn python(script: &str) -> Grader {
        Grader::command(["python3", "-c", script, "{port}", "{root}"])
    }

    python_test! {
        /// A server that exits on the first connection that closes without a
        /// byte, which is what the grader's readiness probe is: `connects` says
        /// so, every time, rather than passing or failing by the timing.
        fn dying_on_the_readiness_probe_is_reported_by_connects() {
            let script = "import socket, sys\n\
                s = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n\
                c, _ = s.accept()\n\
                if not c.recv(1):\n    sys.exit('a client sent nothing')\n";
            let report = python(script)
                .stage(Stage::SingleThreaded)
                .run()
                .expect("grading starts");
            let Some(Verdict::Fail(failure)) = report.verdict("connects") else {
                panic!("connects should fail:\n{report}");
            };
            assert!(
                failure
                    .problem
                    .starts_with("the server exited with status 1 after the grader's readiness probe (a TCP connection opened and closed at once, with nothing sent"),
                "{}",
                failure.problem
            );
            assert!(
                failure
                    .received
                    .as_deref()
                    .unwrap_or("")
                    .contains("a client sent nothing"),
                "{failure:?}"
            );
        }
    }

    /// The Python server, with one defect.
    fn broken(defect: &str) -> Grader {
        let server = super::python_servers::python_server();
        Grader::command(["python3", &server, "{port}", "{root}", "--defect", defect])
    }

    python_test! {
        /// A server that exits on `bad-request`'s first request: that check fails
        /// with the exit, and with the proof that the request alone kills a fresh
        /// server; the checks after it run on a fresh copy, and the report says
        /// how many copies there were.
        fn a_death_is_blamed_where_a_fresh_server_dies_of_it_too() {
            let report = broken("exit-on-bad-request")
                .stage(Stage::NotFound)
                .run()
                .expect("grading starts");
            let Some(Verdict::Fail(failure)) = report.verdict("bad-request") else {
                panic!("bad-request should fail:\n{report}");
            };
            assert!(
                failure.problem.starts_with(
                    "the server exited with status 1 while `bad-request` was at: sending "
                ) && failure
                    .problem
                    .contains("a fresh server dies on this request too"),
                "{}",
                failure.problem
            );
            // survives-bad-clients, run after it on a fresh copy, fails for its
            // own client, not for bad-request's.
            let Some(Verdict::Fail(failure)) = report.verdict("survives-bad-clients") else {
                panic!("survives-bad-clients should fail:\n{report}");
            };
            assert!(
                failure
                    .problem
                    .contains("while `survives-bad-clients` was at: a client that sent binary garbage"),
                "{}",
                failure.problem
            );
            assert_eq!(
                report.failed_ids(),
                ["survives-bad-clients", "bad-request"],
                "\n{report}"
            );
            assert!(report.restarts.len() >= 2, "\n{report}");
            assert!(
                report.to_string().contains("the server was restarted"),
                "\n{report}"
            );
        }
    }

    python_test! {
        /// A server that dies of a request only after another (here, the second
        /// request for one file) is not failed on whichever check made it: the
        /// request alone does not kill a fresh copy, so the check is run again on
        /// one, where it passes, and says why.
        fn a_death_not_reproduced_alone_is_not_blamed_on_the_check() {
            let report = broken("dies-on-second-download")
                .stage(Stage::ThreadPerClient)
                .run()
                .expect("grading starts");
            assert!(report.passed(), "\n{report}");
            assert!(!report.restarts.is_empty(), "\n{report}");
            let noted = report.results.iter().any(|result| {
                result
                    .notes
                    .iter()
                    .any(|note| note.contains("not reproduced alone"))
            });
            assert!(noted, "\n{report}");
        }
    }
}

// ---------------------------------------------------------------------------
// Messages that say what happened.

#[cfg(feature = "default")]
mod messages {
    use grade::{Grader, Stage, Verdict};

    /// A program that is there but may not be run gets a hint about that,
    /// not about the PATH; and the report's header shows the command as it
    /// was run, its placeholders filled in.
    // Unix only: "may not be run" is a missing execute bit, which Windows
    // does not have.
    #[test]
    #[cfg(unix)]
    fn a_program_that_may_not_be_run_is_told_so() {
        let dir = std::env::temp_dir().join(format!("grade-not-executable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("server.py");
        std::fs::write(&script, "print('hello')\n").unwrap();
        let report = Grader::command([script.to_string_lossy().as_ref(), "{port}", "{root}"])
            .stage(Stage::SingleThreaded)
            .run()
            .expect("grading starts");
        let _ = std::fs::remove_dir_all(&dir);
        let Some(Verdict::Fail(failure)) = report.verdict("connects") else {
            panic!("connects should fail:\n{report}");
        };
        let hint = failure.hint.as_deref().unwrap_or("");
        assert!(hint.contains("chmod +x"), "{hint}");
        assert!(!hint.contains("PATH"), "{hint}");
        assert!(!report.server.contains("{port}"), "{}", report.server);
        assert!(!report.server.contains("{root}"), "{}", report.server);
    }

    python_test! {
        /// A server that answers with bare `\n` line ends is read as curl reads
        /// it, and fails `head-syntax` alone (the tables above show that), told
        /// which line and about line ends.
        fn bare_line_feeds_get_their_own_hint() {
            let server = super::python_servers::python_server();
            let report = Grader::command([
                "python3", &server, "{port}", "{root}", "--defect", "bare-lf",
            ])
            .stage(Stage::SingleThreaded)
            .run()
            .expect("grading starts");
            let Some(Verdict::Fail(failure)) = report.verdict("head-syntax") else {
                panic!("head-syntax should fail:\n{report}");
            };
            assert!(
                failure
                    .problem
                    .contains("line 1 of the head (`HTTP/1.1 200 OK`) ends with a bare \\n"),
                "{}",
                failure.problem
            );
            let hint = failure.hint.as_deref().unwrap_or("");
            assert!(hint.contains("not \\n alone"), "{hint}\n{report}");
        }
    }
}
