//! The command line: `multithreaded-server [--stage NAME|N] [--port P] [--root DIR] ...`
//! serves; `multithreaded-server grade ...` grades a server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use multithreaded_server::config::{Config, RootError, parse_cache_control, parse_duration};
use multithreaded_server::net::DEFAULT_BACKLOG;
use multithreaded_server::stages::{self, Stage};

/// A web server built in stages, from one client at a time to a thread pool.
///
/// With no options it serves the folder `www` on http://127.0.0.1:3000/ with the
/// most complete stage compiled in.
#[derive(Debug, Parser)]
// Serving is the default: `multithreaded-server --stage 2` needs no
// subcommand, and the serve options are refused after one.
#[command(
    name = "multithreaded-server",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade a web server, written in any language, with the checks of a stage
    Grade(GradeArgs),
    /// Fetch a URL and print its headers (stderr) and body (stdout or a file)
    Get(crate::get::GetArgs),
    /// Grade a folder of submissions, in any language, in parallel and
    /// sandboxed, into a CSV file, a gradebook and a feedback page each
    GradeClass(crate::class::ClassArgs),
    /// (internal) Grade one submission inside its sandbox, for grade-class
    #[command(hide = true)]
    GradeInSandbox(crate::class::InsideArgs),
}

/// How to serve.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The stage to run, by name or number [default: the most complete stage compiled in]
    #[arg(long, short, value_enum, value_name = "NAME|N")]
    pub stage: Option<Stage>,

    /// The port to listen on; 0 picks a free one
    #[arg(long, short, default_value_t = 3000)]
    pub port: u16,

    /// The address to listen on; 0.0.0.0 makes the server reachable from other machines
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// How many connections the kernel may hold ready while the server is busy
    #[arg(long, default_value_t = DEFAULT_BACKLOG, value_name = "N")]
    pub backlog: u32,

    /// The folder to serve
    #[arg(long, short, default_value = "www", value_name = "DIR")]
    pub root: PathBuf,

    /// How long a client may take to send a whole request head, e.g. 10s or 500ms
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "TIME")]
    pub read_timeout: Duration,

    /// How long sending a whole response may take, for a client slow to read it
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "TIME")]
    pub write_timeout: Duration,

    /// On Ctrl-C, how long to wait for responses under way (daemon-join and later)
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "TIME")]
    pub shutdown_timeout: Duration,

    /// How many worker threads serve clients (thread-pool and later)
    /// [default: 16 for thread-pool; twice the number of cores, at least 4, for keep-alive]
    #[arg(long, value_parser = parse_threads, value_name = "N")]
    pub threads: Option<usize>,

    /// How many connections may wait for a worker before new ones get 503 (thread-pool and later)
    #[arg(long, default_value_t = Config::DEFAULT_QUEUE, value_name = "N")]
    pub queue: usize,

    /// How long a kept-alive connection may sit idle between requests (keep-alive)
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "TIME")]
    pub keep_alive_timeout: Duration,

    /// Accept uploads: `PUT /uploads/NAME` writes DIR/NAME (and `DELETE` removes it),
    /// `GET /uploads/NAME` reads it back [default: off]
    #[arg(long, value_name = "DIR")]
    pub uploads: Option<PathBuf>,

    /// The Cache-Control header sent with every file, e.g. max-age=3600
    #[arg(long, default_value = Config::DEFAULT_CACHE_CONTROL, value_parser = parse_cache_control, value_name = "VALUE")]
    pub cache_control: String,

    /// Never compress responses, even for clients that accept gzip
    #[arg(long)]
    pub no_compression: bool,

    /// Log only errors and notices, not a line per request
    #[arg(long, short)]
    pub quiet: bool,

    /// Serve a live view of every thread at http://ADDRESS:PORT/_status, on a
    /// port of its own [default PORT: the server's port + 1; 0 picks a free one]
    #[arg(long, value_name = "PORT", num_args = 0..=1)]
    pub status: Option<Option<u16>>,
}

impl ServeArgs {
    /// The settings these arguments ask for `stage`; fails if the root is not a folder.
    pub fn config(&self, stage: Stage) -> Result<Config, RootError> {
        let mut config = Config::new(&self.root)?;
        config.read_timeout = self.read_timeout;
        config.write_timeout = self.write_timeout;
        config.shutdown_timeout = self.shutdown_timeout;
        config.threads = self
            .threads
            .unwrap_or_else(|| stages::default_threads(stage));
        config.queue = self.queue;
        config.keep_alive_timeout = self.keep_alive_timeout;
        config.cache_control = self.cache_control.clone();
        config.compress = !self.no_compression;
        match &self.uploads {
            Some(folder) => config.with_uploads(folder),
            None => Ok(config),
        }
    }

    /// The port of the `--status` view, if it is on: the one given, or the
    /// server's own plus one (any free port when the server's is 0).
    pub fn status_port(&self) -> Option<u16> {
        let given = self.status?;
        Some(given.unwrap_or(match self.port {
            0 => 0,
            port => port.saturating_add(1),
        }))
    }
}

/// A number of worker threads: at least one, and not absurdly many.
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=4096) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of threads from 1 to 4096"
        )),
    }
}

/// How to grade.
#[derive(Clone, Debug, Args)]
#[command(
    group(ArgGroup::new("server").required(true).args(["command", "addr", "list"])),
    after_help = "Examples:
  multithreaded-server grade --stage 2 -- python3 server.py {port} {root}
  multithreaded-server grade --stage 4 -- cargo run -q -p ex04-daemon-join -- --port {port} --root {root}
  multithreaded-server grade --stage 6 -- python3 server.py {port} {root} --threads {threads} --queue {queue} --keep-alive-timeout {keep_alive_timeout}
  multithreaded-server grade --stage 3 --addr 127.0.0.1:8080 --root /tmp/empty-folder

Exit status: 0 when every check passed, 1 when one did not, 2 when grading could not start."
)]
pub struct GradeArgs {
    /// The stage to grade: its checks and those of every stage before it
    #[arg(
        long,
        short,
        value_enum,
        value_name = "NAME|N",
        required_unless_present = "list"
    )]
    pub stage: Option<Stage>,

    /// Grade a server already running at HOST:PORT instead (checks that send Ctrl-C are skipped)
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_address, requires = "root")]
    pub addr: Option<SocketAddr>,

    /// With --addr: the empty folder that server serves; the grader writes its test site there
    #[arg(long, value_name = "DIR", requires = "addr")]
    pub root: Option<PathBuf>,

    /// How long the server may take to accept connections (a first `cargo run` compiles)
    #[arg(long, default_value = "120s", value_parser = parse_duration, value_name = "TIME")]
    pub startup_timeout: Duration,

    /// The number of workers: what {threads} in the command becomes [default: 4];
    /// with --addr, the number the running server has
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// The queue's size: what {queue} in the command becomes [default: 16];
    /// with --addr, the size the running server has
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,

    /// The keep-alive timeout in whole seconds: what {keep_alive_timeout} in the
    /// command becomes [default: 2]; with --addr, the running server's
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub keep_alive_timeout: Option<u64>,

    /// Grade these extensions too, after the stage's checks: any of
    /// validators, ranges, compression and uploads, separated by commas
    #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = parse_extension)]
    pub with: Vec<grade::Extension>,

    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    pub format: Format,

    /// Print the result as one JSON object: the same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Points per check for --format gradescope, classroom, markdown or html: a
    /// TOML table or JSON object of check ids and numbers (or tables with
    /// `points` and `visibility`) [default: 1 point for every check]
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,

    /// For --format gradescope: when students see each check the points file
    /// gives no visibility (hidden, after_due_date, after_published, visible)
    #[arg(long, value_name = "WHEN", value_parser = parse_visibility)]
    pub visibility: Option<grade::formats::Visibility>,

    /// List the checks of every stage (up to --stage, if given) and exit
    #[arg(long, conflicts_with_all = ["addr", "command", "json", "format", "points", "visibility", "threads", "queue", "keep_alive_timeout"])]
    pub list: bool,

    /// The command that starts the server; {port} and {root} are replaced by a free
    /// port and the folder of the test site, {threads}, {queue} and
    /// {keep_alive_timeout} (where present) by the values above, and {uploads}
    /// by an empty folder beside the site
    #[arg(last = true, value_name = "CMD", conflicts_with = "addr")]
    pub command: Vec<String>,
}

/// How `grade` prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The checklist, coloured on a terminal
    Text,
    /// One JSON object (format multithreaded-server-grade/1), for scripts
    Json,
    /// Gradescope's autograder results.json, with points from --points
    Gradescope,
    /// The JSON GitHub Classroom's grading reporter reads, with points from --points
    Classroom,
    /// JUnit XML, for GitLab, Jenkins and GitHub test reporters
    Junit,
    /// A feedback page in Markdown, to hand back
    Markdown,
    /// The feedback page in HTML
    Html,
}

impl Format {
    /// Whether the format gives points, so that --points means something.
    pub fn has_points(self) -> bool {
        match self {
            Format::Gradescope | Format::Classroom | Format::Markdown | Format::Html => true,
            Format::Text | Format::Json | Format::Junit => false,
        }
    }
}

/// A Gradescope visibility: hidden, after_due_date, after_published, visible.
fn parse_visibility(text: &str) -> Result<grade::formats::Visibility, String> {
    text.parse()
}

/// Parses an extension's name, for `--with`.
pub fn parse_extension(text: &str) -> Result<grade::Extension, String> {
    grade::Extension::from_name(text.trim()).ok_or_else(|| {
        let names: Vec<&str> = grade::Extension::ALL.iter().map(|e| e.name()).collect();
        format!(
            "no extension is called `{text}`; there are {}",
            names.join(", ")
        )
    })
}

/// Parses `HOST:PORT`, looking the host up (`localhost:8080` is fine).
fn parse_address(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|error| format!("`{text}` is not HOST:PORT ({error})"))?
        .next()
        .ok_or_else(|| format!("`{text}` has no address"))
}

/// Reports a command-line error in one line on stderr and returns exit code 2.
/// Help and `--version` are printed as clap makes them, with exit code 0.
pub fn report(error: clap::Error) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    eprintln!("{} (see --help)", one_line(&error));
    ExitCode::from(2)
}

/// clap's message is several lines (the error, what it names, tips, usage); one
/// line that keeps all but the usage is easier to read in a script's output.
fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let mut message = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_owned();
    for extra in lines.take_while(|line| !line.starts_with("Usage:")) {
        // "...were not provided:" is followed by the arguments, one a line.
        let joint = if message.ends_with(':') {
            " "
        } else if extra.starts_with("tip:") || extra.starts_with("[possible") {
            "; "
        } else {
            ", "
        };
        message.push_str(joint);
        message.push_str(extra.trim_matches(['[', ']']));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn stages_are_chosen_by_name_or_number() {
        for (args, stage) in [
            (["x", "--stage", "1"], Stage::SingleThreaded),
            (
                ["x", "--stage", "thread-per-client"],
                Stage::ThreadPerClient,
            ),
            (["x", "-s", "3"], Stage::NotFound),
            (["x", "--stage", "daemon-join"], Stage::DaemonJoin),
        ] {
            assert_eq!(Cli::try_parse_from(args).unwrap().serve.stage, Some(stage));
        }
        assert!(Cli::try_parse_from(["x", "--stage", "9"]).is_err());
    }

    #[test]
    fn defaults_are_the_course_defaults() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.serve.port, 3000);
        assert_eq!(cli.serve.bind.to_string(), "127.0.0.1");
        assert_eq!(cli.serve.root, PathBuf::from("www"));
        assert_eq!(cli.serve.read_timeout, Duration::from_secs(10));
        assert_eq!(cli.serve.stage, None);
    }

    #[test]
    fn grade_takes_a_command_after_the_double_dash() {
        let cli = Cli::try_parse_from([
            "x", "grade", "--stage", "4", "--", "cargo", "run", "--", "--port", "{port}",
        ])
        .unwrap();
        let Some(Command::Grade(args)) = cli.command else {
            panic!("not the grade subcommand")
        };
        assert_eq!(args.stage, Some(Stage::DaemonJoin));
        assert_eq!(args.command, ["cargo", "run", "--", "--port", "{port}"]);
        assert_eq!(args.startup_timeout, Duration::from_secs(120));
    }

    #[test]
    fn grade_needs_a_server_and_a_stage() {
        for args in [
            &["x", "grade", "--stage", "2"][..],
            &["x", "grade", "--", "python3", "server.py"],
            &["x", "grade", "--stage", "2", "--addr", "127.0.0.1:8080"],
            &[
                "x",
                "grade",
                "--stage",
                "2",
                "--addr",
                "127.0.0.1:8080",
                "--root",
                "d",
                "--",
                "x",
            ],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} was accepted");
        }
        let cli = Cli::try_parse_from([
            "x",
            "grade",
            "-s",
            "3",
            "--addr",
            "localhost:8080",
            "--root",
            "d",
        ]);
        assert!(cli.is_ok(), "{cli:?}");
        assert!(Cli::try_parse_from(["x", "grade", "--list"]).is_ok());
    }

    /// `--status` is off unless given; given alone, it takes the next port.
    #[test]
    fn the_status_view_takes_the_next_port_unless_told() {
        let port = |args: &[&str]| Cli::try_parse_from(args).unwrap().serve.status_port();
        assert_eq!(port(&["x"]), None);
        assert_eq!(port(&["x", "--status"]), Some(3001));
        assert_eq!(port(&["x", "--port", "8000", "--status"]), Some(8001));
        assert_eq!(port(&["x", "--port", "0", "--status"]), Some(0));
        assert_eq!(port(&["x", "--status=9000"]), Some(9000));
        assert_eq!(port(&["x", "--status", "9000", "--port", "80"]), Some(9000));
        assert!(Cli::try_parse_from(["x", "--status=web"]).is_err());
    }

    #[test]
    fn serving_needs_no_subcommand_and_takes_no_grade_options() {
        let cli = Cli::try_parse_from(["x", "--stage", "2", "--port", "0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.port, 0);
        assert!(Cli::try_parse_from(["x", "--port", "0", "grade", "--stage", "2"]).is_err());
    }

    #[test]
    fn a_command_line_error_is_one_line_that_names_what_is_missing() {
        let error = Cli::try_parse_from(["x", "grade", "--json"]).unwrap_err();
        let line = one_line(&error);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("not provided: --stage <NAME|N>"), "{line}");
        let error = Cli::try_parse_from(["x", "--stage", "seven"]).unwrap_err();
        let line = one_line(&error);
        assert!(line.contains("possible values: single-threaded"), "{line}");
    }
}
