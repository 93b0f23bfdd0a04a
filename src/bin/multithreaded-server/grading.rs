//! `multithreaded-server grade ...`: the `grade` crate's grader, run from the
//! command line, with its report printed as a checklist or a JSON object.

use grade::{Grader, Stage};

use crate::cli::GradeArgs;

/// `multithreaded-server grade ...`: grades, prints the checklist (or the
/// JSON object), and returns whether every check passed.
pub fn run(args: &GradeArgs) -> anyhow::Result<bool> {
    if args.list {
        print!(
            "{}",
            grade::list(args.stage.unwrap_or(Stage::ALL[Stage::ALL.len() - 1]))
        );
        return Ok(true);
    }
    let stage = args.stage.expect("clap requires --stage unless --list");
    let mut grader = match (args.addr, &args.root) {
        (Some(addr), Some(root)) => Grader::running(addr, root),
        // clap's `requires` on --root is not enforced beside a `last` command,
        // and a --root that is silently ignored would grade the wrong folder.
        (None, Some(_)) => {
            anyhow::bail!(
                "--root is for a running server: give its --addr too, or leave --root out"
            )
        }
        _ => Grader::command(args.command.iter().cloned()),
    };
    if let Some(threads) = args.threads {
        grader = grader.threads(threads);
    }
    if let Some(queue) = args.queue {
        grader = grader.queue(queue);
    }
    if let Some(seconds) = args.keep_alive_timeout {
        grader = grader.keep_alive_timeout(seconds);
    }
    stop_servers_on_interrupt();
    // `ten-thousand-idle` opens 10,000 connections from this process; many
    // shells start it with a soft limit of 1,024 open files.
    let _ = multithreaded_server::net::raise_open_file_limit();
    let report = grader
        .stage(stage)
        .startup_timeout(args.startup_timeout)
        .progress(true)
        .run()?;
    if args.json {
        print!("{}", report.to_json());
    } else {
        // Colour as the request log does: only on a terminal, never with NO_COLOR.
        multithreaded_server::log::init(false);
        print!("{report}");
    }
    Ok(report.passed())
}

/// The servers run in process groups of their own, so a Ctrl-C typed at the
/// grader does not reach them: stop them, and remove the test sites, before
/// the grader goes.
fn stop_servers_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        grade::process::stop_all();
        grade::fixture::remove_temporary();
        std::process::exit(130);
    });
}
