//! `multithreaded-server grade ...`: the `grade` crate's grader, run from the
//! command line, with its report printed as a checklist, a JSON object,
//! Gradescope's results.json, GitHub Classroom's results, JUnit XML, or a
//! feedback page.

use anyhow::Context;
use grade::{Grader, Points, Stage};

use crate::cli::{Format, GradeArgs};

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
    let format = if args.json { Format::Json } else { args.format };
    if args.points.is_some() && !format.has_points() {
        anyhow::bail!(
            "--points is for --format gradescope, classroom, markdown or html; the other formats give no points"
        );
    }
    if args.visibility.is_some() && format != Format::Gradescope {
        anyhow::bail!("--visibility is for --format gradescope");
    }
    // Read before grading, so that a mistake in it costs no grading run.
    let points = match &args.points {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the points file {}", path.display()))?;
            Points::parse(&text).with_context(|| path.display().to_string())?
        }
        None => Points::default(),
    }
    .with_default_visibility(args.visibility);
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
        .with(&args.with)
        .startup_timeout(args.startup_timeout)
        .progress(true)
        .run()?;
    match format {
        Format::Text => {
            // Colour as the request log does: only on a terminal, never with NO_COLOR.
            multithreaded_server::log::init(false);
            print!("{report}");
        }
        Format::Json => print!("{}", report.to_json()),
        Format::Gradescope => print!("{}", report.to_gradescope(&points)),
        Format::Classroom => print!("{}", report.to_classroom(&points)),
        Format::Junit => print!("{}", report.to_junit()),
        Format::Markdown => print!("{}", report.to_markdown(&points, "Grading report")),
        Format::Html => print!("{}", report.to_html(&points, "Grading report")),
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
