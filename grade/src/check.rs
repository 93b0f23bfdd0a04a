//! What a check is: the stage that introduces it, its title and time limit, how
//! it shares the server, what it needs to know, its hint, and how it fails.
//!
//! This is the grader's vocabulary. It imports nothing else of the grader, so
//! every other module can use it: the table of checks (`checks`), the runner,
//! the report.

use std::time::Duration;

use course::Stage;

/// Where the command puts the port the server must listen on.
pub const PORT: &str = "{port}";
/// Where the command puts the folder the server must serve.
pub const ROOT: &str = "{root}";
/// Where the command puts the number of workers ([`Settings::threads`]).
pub const THREADS: &str = "{threads}";
/// Where the command puts the queue's size ([`Settings::queue`]).
pub const QUEUE: &str = "{queue}";
/// Where the command puts the keep-alive timeout ([`Settings::keep_alive_timeout`]).
pub const KEEP_ALIVE_TIMEOUT: &str = "{keep_alive_timeout}";

/// Where the command puts the folder uploads go to: an empty folder beside
/// the root, made for the run. Only the `uploads` extension needs it.
pub const UPLOADS: &str = "{uploads}";

/// HTTP beyond what the stages need, graded only when asked for
/// (`grade --with ranges,compression`), as CodeCrafters grades its
/// extensions: a server of any stage may speak it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Extension {
    /// `ETag` and `If-None-Match`: `304 Not Modified`.
    Validators,
    /// `Range`: `206 Partial Content`, and `416` past the end.
    Ranges,
    /// `Accept-Encoding`: gzip, negotiated.
    Compression,
    /// `PUT /uploads/NAME`: a file written whole, into its folder only.
    Uploads,
}

impl Extension {
    /// Every extension, in the order a report lists them.
    pub const ALL: [Extension; 4] = [
        Extension::Validators,
        Extension::Ranges,
        Extension::Compression,
        Extension::Uploads,
    ];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Extension::Validators => "validators",
            Extension::Ranges => "ranges",
            Extension::Compression => "compression",
            Extension::Uploads => "uploads",
        }
    }

    /// The extension called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Extension> {
        Extension::ALL
            .into_iter()
            .find(|extension| extension.name() == name)
    }

    /// What it is about, in a few words, for `--list`.
    pub fn about(self) -> &'static str {
        match self {
            Extension::Validators => "ETag and If-None-Match",
            Extension::Ranges => "byte ranges: 206 and 416",
            Extension::Compression => "gzip, negotiated by Accept-Encoding",
            Extension::Uploads => "PUT /uploads/NAME into {uploads}",
        }
    }
}

impl std::fmt::Display for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a check uses the server, which decides when it runs. Checks run one
/// at a time, so that whatever happens to the server happens under one check:
/// the shared ones in the order of the table, then the risky ones, then the
/// last, then those that need a server of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Ordinary requests to the one server the checks share.
    Shared,
    /// May bring a broken server down or leave it stuck, so it runs after
    /// the shared checks; the risky checks of later stages run first.
    Risky,
    /// Judges what the other checks saw, so it runs after them all.
    Last,
    /// Gets a server of its own, started from the command, because it sends
    /// the server signals or sets out to break it (the text says which, for
    /// the report). Skipped when grading a server that is already running.
    OwnServer(&'static str),
}

/// What a check must know about the server, or be able to do to it, beyond
/// sending it requests. A check whose needs are not met is skipped, and the
/// report says what would meet them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// How many workers the server runs: `{threads}` in the command.
    Threads,
    /// How many connections may wait for a worker: `{queue}` in the command.
    Queue,
    /// How long an idle kept-alive connection stays open:
    /// `{keep_alive_timeout}` in the command. The check's time limit grows by it.
    KeepAliveTimeout,
    /// The server's threads, counted in `/proc` (Linux, and a server the grader
    /// started itself).
    ThreadCount,
    /// The big file in the site, for downloads that take a while.
    BigFile,
    /// The folder uploads go to: `{uploads}` in the command.
    Uploads,
}

/// What the grader knows of the server's settings. In command mode these are
/// the values it put in the command for `{threads}`, `{queue}` and
/// `{keep_alive_timeout}` (a value is known only if its placeholder is there);
/// with `--addr`, what the instructor said the running server uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub threads: Option<usize>,
    pub queue: Option<usize>,
    /// In whole seconds, as the command receives it.
    pub keep_alive_timeout: Option<u64>,
    /// Whether the command has `{uploads}`; then the folder is the
    /// fixture's [`uploads_folder`](crate::fixture::uploads_folder).
    pub uploads: bool,
}

/// One behaviour a stage must have.
///
/// `P` is what the check is run with: the grader's `checks::Probe`, which
/// knows the server and the site. It is a parameter only so that this module
/// needs nothing else of the grader; `checks::Check` names the one in use.
#[derive(Debug)]
pub struct Check<P: 'static> {
    /// A stable name, for the JSON output and for scripts.
    pub id: &'static str,
    /// The stage that introduces it.
    pub stage: Stage,
    /// What a passing server does, as a checklist line.
    pub title: &'static str,
    pub limit: Duration,
    pub mode: Mode,
    /// What it must know or do beyond sending requests; see [`Need`].
    pub needs: &'static [Need],
    /// What to look at when it fails.
    pub hint: &'static str,
    pub run: fn(&P) -> Result<(), Failure>,
}

/// Why a check failed: what was sent, what came back, and what was wrong.
///
/// `Failure::of`, which takes both sides from one request and its response,
/// is in `client`, beside the exchange it describes.
#[derive(Clone, Debug, Default)]
pub struct Failure {
    pub problem: String,
    pub sent: Option<String>,
    pub received: Option<String>,
    /// Overrides the check's own hint when this failure calls for another.
    pub hint: Option<String>,
    /// Set when the check could not get its evidence for want of something
    /// other checks judge: see [`Failure::unless`].
    pub blocked: Option<Box<Blocked>>,
}

/// What a check needed and did not get, and which checks judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// "a file served with 200", "a server that answers".
    pub needs: String,
    /// The checks whose failure explains the lack, in the order to name them.
    pub by: Vec<&'static str>,
}

impl Failure {
    pub fn new(problem: impl Into<String>) -> Failure {
        Failure {
            problem: problem.into(),
            ..Failure::default()
        }
    }

    pub fn sent(mut self, sent: impl Into<String>) -> Failure {
        self.sent = Some(sent.into());
        self
    }

    pub fn received(mut self, received: impl Into<String>) -> Failure {
        self.received = Some(received.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// This failure is the check's own, whatever other checks found: for a
    /// check that has just seen the server answer, so that no fault judged
    /// elsewhere can explain what it saw next.
    pub fn its_own(mut self) -> Failure {
        self.blocked = None;
        self
    }

    /// This failure is the check's own unless one of `by` failed: then the
    /// check had no way to see what it is about (it `needs` what those
    /// checks found broken), and its verdict is "not judged", which names
    /// them, rather than a second failure for one fault.
    pub fn unless(mut self, needs: impl Into<String>, by: &[&'static str]) -> Failure {
        self.blocked = Some(Box::new(Blocked {
            needs: needs.into(),
            by: by.to_vec(),
        }));
        self
    }
}
