//! The grader, graded: the course's own stages pass every check of their stage
//! and fail exactly the checks of the next one; a correct Python server passes
//! too; and for every check there is a deliberately broken server (the Python
//! server in `tests/broken/server.py` with a `--defect`) that fails exactly
//! that check, and no other. A check that no broken server fails could not
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

use multithreaded_server::Stage;
use multithreaded_server::grade::{CHECKS, Grader, Report};

const BIN: &str = env!("CARGO_BIN_EXE_multithreaded-server");

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

/// A stage passes every check of its stage, and so of every stage before it.
fn passes_its_own_checks(stage: Stage) {
    let report = assert_fails_exactly(reference(stage), stage, &[]);
    assert!(report.passed(), "\n{report}");
    assert_eq!(
        report.results.len(),
        CHECKS.iter().filter(|c| c.stage <= stage).count()
    );
}

// Every stage compiled into this build passes its own checks.

#[test]
#[cfg(feature = "single-threaded")]
fn stage_1_passes_its_own_checks() {
    passes_its_own_checks(Stage::SingleThreaded);
}

#[test]
#[cfg(feature = "thread-per-client")]
fn stage_2_passes_its_own_checks() {
    passes_its_own_checks(Stage::ThreadPerClient);
}

#[test]
#[cfg(feature = "not-found")]
fn stage_3_passes_its_own_checks() {
    passes_its_own_checks(Stage::NotFound);
}

#[test]
#[cfg(feature = "daemon-join")]
fn stage_4_passes_its_own_checks() {
    passes_its_own_checks(Stage::DaemonJoin);
}

#[test]
#[cfg(feature = "thread-pool")]
fn stage_5_passes_its_own_checks() {
    passes_its_own_checks(Stage::ThreadPool);
}

#[test]
#[cfg(feature = "keep-alive")]
fn stage_6_passes_its_own_checks() {
    passes_its_own_checks(Stage::KeepAlive);
}

// ---------------------------------------------------------------------------
// Each stage fails exactly the checks of the next one: what its chapter's
// "a slight problem" section says it gets wrong.

/// Stage 1 serves one client at a time, so a silent client holds up the rest.
#[test]
#[cfg(all(feature = "default", feature = "single-threaded"))]
fn stage_1_fails_the_concurrency_checks_of_stage_2() {
    assert_fails_exactly(
        reference(Stage::SingleThreaded),
        Stage::ThreadPerClient,
        &["idle-client", "reverse-order"],
    );
}

/// Stage 2 closes the connection on an error, without an answer.
#[test]
#[cfg(all(feature = "default", feature = "thread-per-client"))]
fn stage_2_fails_the_error_checks_of_stage_3() {
    assert_fails_exactly(
        reference(Stage::ThreadPerClient),
        Stage::NotFound,
        &["not-found-page", "bad-request"],
    );
}

/// Stage 3 dies on Ctrl-C, mid-download, killed by the signal.
#[test]
#[cfg(all(feature = "default", feature = "not-found"))]
fn stage_3_fails_the_ctrl_c_checks_of_stage_4() {
    let report = assert_fails_exactly(
        reference(Stage::NotFound),
        Stage::DaemonJoin,
        &["ctrl-c-finishes-download", "ctrl-c-exits-0"],
    );
    let Some(multithreaded_server::grade::Verdict::Fail(failure)) =
        report.verdict("ctrl-c-exits-0")
    else {
        unreachable!()
    };
    assert!(
        failure.problem.contains("killed by signal 2 (SIGINT)"),
        "{}",
        failure.problem
    );
}

/// Stage 4 starts a thread for every client and never turns one away.
#[test]
#[cfg(all(feature = "default", feature = "daemon-join"))]
fn stage_4_fails_the_pool_checks_of_stage_5() {
    assert_fails_exactly(
        reference(Stage::DaemonJoin),
        Stage::ThreadPool,
        &["threads-bounded", "overload-503"],
    );
}

/// Stage 5 closes every connection after one response, and a silent client
/// holds a worker. It does close when asked to, so it passes that one.
#[test]
#[cfg(all(feature = "default", feature = "thread-pool"))]
fn stage_5_fails_the_keep_alive_checks_of_stage_6() {
    assert_fails_exactly(
        reference(Stage::ThreadPool),
        Stage::KeepAlive,
        &[
            "keep-alive",
            "pipelining",
            "http-1.0",
            "idle-timeout",
            "many-idle-connections",
        ],
    );
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
        ];
        if let Some(defect) = defect {
            command.extend(["--defect".to_owned(), defect.to_owned()]);
        }
        Grader::command(command)
    }

    /// Grades the Python server with `defect` at `stage`, and asserts that exactly
    /// `failing` failed.
    fn defect_fails(defect: &str, stage: Stage, failing: &[&str]) {
        assert_fails_exactly(python(Some(defect)), stage, failing);
    }

    /// A Python server that does the work of every stage (a pool of workers
    /// behind a `selectors` readiness loop) passes stage 6: the grader grades a
    /// server in any language.
    #[test]
    fn a_correct_python_server_passes_stage_6() {
        let report = assert_fails_exactly(python(None), Stage::KeepAlive, &[]);
        assert!(report.passed());
        assert!(
            report.score_line().ends_with(": 25/25 checks passed"),
            "{}",
            report.score_line()
        );
    }

    /// Without `{threads}`, `{queue}` and `{keep_alive_timeout}` in the command,
    /// the checks that need them are skipped, each saying which placeholder
    /// would let it run; the rest still run (the thread count against a looser
    /// limit). A skipped check is not a pass.
    #[test]
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
            Some(multithreaded_server::grade::Verdict::Skip(reason)) => reason.clone(),
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

    /// `connects`: a server that exits before it listens. The other checks are
    /// skipped, not failed: there was nothing to check.
    #[test]
    fn connects_catches_a_server_that_never_listens() {
        let report = python(Some("crash-at-start"))
            .stage(Stage::SingleThreaded)
            .run()
            .unwrap();
        assert_eq!(report.failed_ids(), ["connects"], "\n{report}");
        assert_eq!(report.skipped_count(), report.results.len() - 1);
        let Some(multithreaded_server::grade::Verdict::Fail(failure)) = report.verdict("connects")
        else {
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

    /// `text-files`: CRLF turned into LF by reading in text mode.
    #[test]
    fn text_files_catches_text_mode() {
        defect_fails("text-mode", Stage::SingleThreaded, &["text-files"]);
    }

    /// `binary-files`: binary files decoded as UTF-8 and mangled.
    #[test]
    fn binary_files_catches_binary_read_as_text() {
        defect_fails("binary-as-text", Stage::SingleThreaded, &["binary-files"]);
    }

    /// `content-length`: the length of the text in characters, not bytes.
    #[test]
    fn content_length_catches_a_length_in_characters() {
        defect_fails(
            "length-in-characters",
            Stage::SingleThreaded,
            &["content-length"],
        );
    }

    /// `content-type`: the report's `text/html` for everything.
    #[test]
    fn content_type_catches_html_for_everything() {
        defect_fails(
            "html-for-everything",
            Stage::SingleThreaded,
            &["content-type"],
        );
    }

    /// `sub-folder`: a server that keeps only the file name of the path.
    #[test]
    fn sub_folder_catches_a_flat_root() {
        defect_fails("flat-root", Stage::SingleThreaded, &["sub-folder"]);
    }

    /// `no-traversal`: the report's `open(filename[1:])`, with `..` let through.
    #[test]
    fn no_traversal_catches_a_leak() {
        defect_fails("leak", Stage::SingleThreaded, &["no-traversal"]);
    }

    /// `survives-bad-clients`: a server that exits after a malformed request.
    #[test]
    fn survives_bad_clients_catches_an_exit_on_a_bad_request() {
        defect_fails(
            "exit-on-bad-request",
            Stage::SingleThreaded,
            &["survives-bad-clients"],
        );
    }

    /// `idle-client` (and with it `reverse-order`, which needs the same thing and
    /// more): a server that serves one client at a time.
    #[test]
    fn idle_client_catches_one_client_at_a_time() {
        defect_fails(
            "single-threaded",
            Stage::ThreadPerClient,
            &["idle-client", "reverse-order"],
        );
    }

    /// `reverse-order`: two workers are enough for an idle client and one more,
    /// not for four open connections.
    #[test]
    fn reverse_order_catches_a_pool_of_two() {
        defect_fails("pool-of-two", Stage::ThreadPerClient, &["reverse-order"]);
    }

    /// `not-found-page`: a 404 with a body of its own instead of `error.html`.
    #[test]
    fn not_found_page_catches_a_404_without_the_page() {
        defect_fails("no-404-page", Stage::NotFound, &["not-found-page"]);
    }

    /// `bad-request`: a malformed request met with a silent close.
    #[test]
    fn bad_request_catches_a_silent_close() {
        defect_fails("no-400", Stage::NotFound, &["bad-request"]);
    }

    /// `ctrl-c-finishes-download`: exiting at once, daemon threads and all, as
    /// the report's server did.
    #[test]
    fn ctrl_c_finishes_download_catches_no_join() {
        defect_fails("no-join", Stage::DaemonJoin, &["ctrl-c-finishes-download"]);
    }

    /// `ctrl-c-exits-0`: a server that finishes its work, then lets the
    /// `KeyboardInterrupt` escape and dies of the signal.
    #[test]
    fn ctrl_c_exits_0_catches_a_reraised_interrupt() {
        defect_fails("reraise", Stage::DaemonJoin, &["ctrl-c-exits-0"]);
    }

    /// `idle-client-cannot-hold-shutdown`: a join with no time limit waits for a
    /// client that will never speak.
    #[test]
    fn idle_client_cannot_hold_shutdown_catches_a_join_forever() {
        defect_fails(
            "join-forever",
            Stage::DaemonJoin,
            &["idle-client-cannot-hold-shutdown"],
        );
    }

    /// A server that ignores Ctrl-C fails both checks that expect it to exit.
    #[test]
    fn ignoring_ctrl_c_fails_both_exit_checks() {
        defect_fails(
            "ignore-ctrl-c",
            Stage::DaemonJoin,
            &["ctrl-c-exits-0", "idle-client-cannot-hold-shutdown"],
        );
    }

    /// `threads-bounded`: a thread for every client, up to `{threads}` +
    /// `{queue}` of them, then 503: bounded, but by the wrong number.
    #[test]
    fn threads_bounded_catches_a_thread_per_client() {
        defect_fails(
            "thread-per-client-capped",
            Stage::ThreadPool,
            &["threads-bounded"],
        );
    }

    /// `overload-503`: a pool whose queue has no limit, so a client waits
    /// instead of being told to come back later.
    #[test]
    fn overload_503_catches_an_unbounded_queue() {
        defect_fails("unbounded-queue", Stage::ThreadPool, &["overload-503"]);
    }

    /// `pool-keeps-its-workers`: a worker that dies with its job (here on a
    /// request line that is not UTF-8), as the Rust Book's pool does on a panic.
    #[test]
    fn pool_keeps_its_workers_catches_workers_that_die() {
        defect_fails(
            "worker-dies",
            Stage::ThreadPool,
            &["pool-keeps-its-workers"],
        );
    }

    /// `ctrl-c-with-busy-pool`: a shutdown that serves the whole queue first,
    /// with no time limit, as a pool that queues its stop messages behind the
    /// jobs does.
    #[test]
    fn ctrl_c_with_busy_pool_catches_waiting_for_the_queue() {
        defect_fails(
            "wait-for-queue",
            Stage::ThreadPool,
            &["ctrl-c-with-busy-pool"],
        );
    }

    /// `keep-alive`: a limit on requests per connection (as nginx has), reached
    /// without saying `Connection: close`, so the client's next request is lost.
    #[test]
    fn keep_alive_catches_a_silent_close_after_five_requests() {
        defect_fails("closes-after-five", Stage::KeepAlive, &["keep-alive"]);
    }

    /// `pipelining`: the bytes after the first request head thrown away.
    #[test]
    fn pipelining_catches_dropped_requests() {
        defect_fails("drops-pipelined", Stage::KeepAlive, &["pipelining"]);
    }

    /// `connection-close`: a connection kept open after `Connection: close`.
    #[test]
    fn connection_close_catches_a_server_that_ignores_it() {
        defect_fails(
            "ignores-connection-close",
            Stage::KeepAlive,
            &["connection-close"],
        );
    }

    /// `http-1.0`: HTTP/1.0 treated as HTTP/1.1, kept open by default.
    #[test]
    fn http_10_catches_a_connection_kept_open() {
        defect_fails("http10-kept-open", Stage::KeepAlive, &["http-1.0"]);
    }

    /// `idle-timeout`: idle connections that are never closed.
    #[test]
    fn idle_timeout_catches_a_server_without_one() {
        defect_fails("no-idle-timeout", Stage::KeepAlive, &["idle-timeout"]);
    }

    /// `many-idle-connections`: keep-alive done right on the wire, but every
    /// connection holds a worker while it waits, so the pool runs out. (And
    /// `keep-alive` itself, with the rest of stage 6: stage 5, which closes
    /// every connection, fails it in `stage_5_fails_the_keep_alive_checks_of_stage_6`.)
    #[test]
    fn many_idle_connections_catches_a_worker_per_connection() {
        defect_fails(
            "worker-per-connection",
            Stage::KeepAlive,
            &["many-idle-connections"],
        );
    }

    /// Every check is caught by at least one test above (this list is checked
    /// against the grader's, so a new check needs a broken server too).
    #[test]
    fn every_check_has_a_broken_server_that_fails_it() {
        let caught = [
            "connects",
            "text-files",
            "binary-files",
            "content-length",
            "content-type",
            "sub-folder",
            "no-traversal",
            "survives-bad-clients",
            "idle-client",
            "reverse-order",
            "not-found-page",
            "bad-request",
            "ctrl-c-finishes-download",
            "ctrl-c-exits-0",
            "idle-client-cannot-hold-shutdown",
            "threads-bounded",
            "overload-503",
            "pool-keeps-its-workers",
            "ctrl-c-with-busy-pool",
            "keep-alive",
            "pipelining",
            "connection-close",
            "http-1.0",
            "idle-timeout",
            "many-idle-connections",
        ];
        let ids: Vec<&str> = CHECKS.iter().map(|check| check.id).collect();
        for id in &ids {
            assert!(
                caught.contains(id),
                "no broken server is shown to fail `{id}`"
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

    /// Exit status 0 and the score line when every check passes; 1 and the
    /// failure, in full, when one does not.
    #[test]
    fn the_exit_status_says_whether_every_check_passed() {
        let server = python_server();
        let passing = grade(&["--stage", "1", "--", "python3", &server, "{port}", "{root}"]);
        assert_eq!(passing.status.code(), Some(0), "{}", stdout(&passing));
        assert!(stdout(&passing).ends_with("\nstage 1 (single-threaded): 8/8 checks passed\n"));

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
            text.ends_with("\nstage 1 (single-threaded): 7/8 checks passed\n"),
            "{text}"
        );
        for field in [
            "  ✗ Content-Type matches",
            "problem:",
            "sent:     GET /",
            "received: HTTP/1.1 200 OK",
            "hint:",
        ] {
            assert!(text.contains(field), "{field:?} missing from\n{text}");
        }
    }

    /// `--json` prints one valid JSON object with the documented keys (Python's
    /// `json` module is the judge of validity).
    #[test]
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
            assert (r['passed'], r['failed'], r['skipped'], r['total']) == (9, 1, 0, 10)\n\
            assert r['success'] is False and r['server_exit'] is None\n\
            keys = {'id', 'stage', 'title', 'result', 'millis', 'problem', 'sent', 'received', 'hint', 'reason'}\n\
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
            text.ends_with("\nstage 6 (keep-alive): 19/25 checks passed, 6 skipped\n"),
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
        let cases: [(&[&str], &str); 3] = [
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
        for check in CHECKS {
            assert!(
                text.contains(check.id) && text.contains(check.title),
                "{} missing",
                check.id
            );
        }
    }
}
