//! `multithreaded-server`: parse the command line, start the chosen stage (or
//! grade a server, or fetch a URL), and print any error once, in one line.
//!
//! The command line is this binary's alone, as in mini-redis: the server
//! library knows nothing of clap, and the grader is a crate of its own.
//!
//! | module | job |
//! |---|---|
//! | `cli` | the arguments, parsed by clap, and one-line errors |
//! | `get` | `get URL`: a small HTTP client |
//! | `grading` | `grade`: runs the grader, prints its report, cleans up on Ctrl-C |
//! | `class` | `grade-class`: a folder of submissions, built and graded in sandboxes, into a gradebook |

#![forbid(unsafe_code)]

mod class;
mod cli;
mod get;
mod grading;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, ServeArgs};
use multithreaded_server::shutdown::Shutdown;
use multithreaded_server::stages::{self, StageError};
use multithreaded_server::{log, net, status};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return cli::report(error),
    };
    let result = match &cli.command {
        None => serve(&cli.serve).map(|()| ExitCode::SUCCESS),
        Some(Command::Grade(args)) => grading::run(args).map(|passed| {
            // 1 is "graded, and a check did not pass"; errors below are 2.
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
        // 0 once every submission has a row, whatever it scored.
        Some(Command::GradeClass(args)) => class::run(args).map(|()| ExitCode::SUCCESS),
        Some(Command::GradeInSandbox(args)) => class::inside::run(args).map(|()| ExitCode::SUCCESS),
        Some(Command::Get(args)) => {
            // A response of any status is a success, as with curl; failing to
            // get a whole response is not (exit 1).
            return match get::run(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            // A stage missing from the build is a usage error, like a bad flag;
            // so is anything that keeps grading from starting.
            match error.downcast_ref::<StageError>() {
                Some(StageError::NotCompiled(_) | StageError::NoneCompiled) => ExitCode::from(2),
                _ if cli.command.is_some() => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let stage = match args.stage.or_else(stages::highest_compiled) {
        Some(stage) if stages::is_compiled(stage) => stage,
        Some(stage) => return Err(StageError::NotCompiled(stage).into()),
        None => return Err(StageError::NoneCompiled.into()),
    };
    let config = args.config(stage)?;
    // Not being able to raise it is no reason not to serve.
    let _ = net::raise_open_file_limit();
    let address = SocketAddr::new(args.bind, args.port);
    let listener = net::listen(address, args.backlog)
        .with_context(|| format!("cannot listen on {address}"))?;
    let address = listener.local_addr()?;

    log::init(args.quiet);
    // A panic in a client's thread ends that thread only; say so in the log, in
    // one line, rather than a backtrace in the middle of it.
    std::panic::set_hook(Box::new(|info| log::error(format_args!("panic: {info}"))));

    let shutdown = Shutdown::new();
    if stages::handles_signals(stage) {
        #[cfg(feature = "daemon-join")]
        multithreaded_server::shutdown::on_signals(shutdown.clone())
            .context("cannot handle Ctrl-C")?;
    }

    // Before the ready line, so that whoever waits for that has this one too.
    if let Some(port) = args.status_port() {
        let at = SocketAddr::new(args.bind, port);
        let status = net::listen(at, args.backlog)
            .with_context(|| format!("cannot listen on {at} for --status"))?;
        let at = status.local_addr()?;
        status::start(status, stage).context("cannot start the status view")?;
        println!("Status view on http://{at}{}", status::PATH);
    }

    // The ready line: scripts and tests wait for it, then read the port from it.
    println!(
        "Listening on http://{address}/ (stage {}: {stage})",
        stage.number()
    );
    std::io::stdout().flush()?;

    stages::run(stage, listener, Arc::new(config), shutdown)?;
    Ok(())
}
