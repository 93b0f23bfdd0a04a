//! The course's table of contents: its stages, in order.
//!
//! Everything that speaks of the stages agrees on them through this crate: the
//! server (which runs them), the grader (which grades a server stage by stage),
//! the binary's `--stage` option, and the exercises' tests. It holds only what a
//! stage *is* (its number, its name); what a stage does is the server's business,
//! in its `stages` module.
//!
//! | item | job |
//! |---|---|
//! | [`Stage`] | the seven stages, in course order, with [`Stage::ALL`], [`Stage::number`] and [`Stage::name`] |
//! | [`UnknownStage`] | why a name or number is not a stage ([`Stage`]'s `FromStr`) |
//!
//! With the `clap` feature, [`Stage`] is also a `clap::ValueEnum`, one doc line
//! a variant for the help, and each stage's number an alias of its name.

#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

/// The stages of the course, in order. Each builds on the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Stage {
    /// 1: one client at a time, the report's six steps
    #[cfg_attr(feature = "clap", value(alias = "1"))]
    SingleThreaded,
    /// 2: a new thread for every client
    #[cfg_attr(feature = "clap", value(alias = "2"))]
    ThreadPerClient,
    /// 3: errors answered: 404 Not Found, 400, 405
    #[cfg_attr(feature = "clap", value(alias = "3"))]
    NotFound,
    /// 4: keep the threads' handles; on Ctrl-C finish every response, then exit
    #[cfg_attr(feature = "clap", value(alias = "4"))]
    DaemonJoin,
    /// 5: a fixed set of worker threads and a bounded queue; 503 when full
    #[cfg_attr(feature = "clap", value(alias = "5"))]
    ThreadPool,
    /// 6: many requests per connection; idle connections wait in a readiness loop (epoll, kqueue, IOCP), not in threads
    #[cfg_attr(feature = "clap", value(alias = "6"))]
    KeepAlive,
    /// 7: the same server on tokio: every connection a task, no hand-off to a worker
    #[cfg_attr(feature = "clap", value(alias = "7"))]
    Async,
}

impl Stage {
    /// Every stage, in course order.
    pub const ALL: [Stage; 7] = [
        Stage::SingleThreaded,
        Stage::ThreadPerClient,
        Stage::NotFound,
        Stage::DaemonJoin,
        Stage::ThreadPool,
        Stage::KeepAlive,
        Stage::Async,
    ];

    /// Its number in the course, from 1.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// Its name, which is also its Cargo feature and its `--stage` value.
    pub fn name(self) -> &'static str {
        match self {
            Stage::SingleThreaded => "single-threaded",
            Stage::ThreadPerClient => "thread-per-client",
            Stage::NotFound => "not-found",
            Stage::DaemonJoin => "daemon-join",
            Stage::ThreadPool => "thread-pool",
            Stage::KeepAlive => "keep-alive",
            Stage::Async => "async",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stage {
    type Err = UnknownStage;

    /// A stage by its name (`thread-pool`) or its number (`5`).
    fn from_str(text: &str) -> Result<Stage, UnknownStage> {
        Stage::ALL
            .into_iter()
            .find(|stage| text == stage.name() || text == stage.number().to_string())
            .ok_or_else(|| UnknownStage(text.to_owned()))
    }
}

/// A name or number that is no stage of the course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownStage(pub String);

impl fmt::Display for UnknownStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Stage::ALL.iter().map(|stage| stage.name()).collect();
        write!(
            f,
            "`{}` is not a stage: give its name ({}) or its number (1 to {})",
            self.0,
            names.join(", "),
            Stage::ALL.len()
        )
    }
}

impl std::error::Error for UnknownStage {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_numbered_in_course_order() {
        let numbers: Vec<u8> = Stage::ALL.iter().map(|stage| stage.number()).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
        assert!(Stage::ALL.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn a_stage_is_found_by_name_or_number() {
        for stage in Stage::ALL {
            assert_eq!(stage.name().parse(), Ok(stage));
            assert_eq!(stage.number().to_string().parse(), Ok(stage));
            assert_eq!(stage.to_string(), stage.name());
        }
        assert_eq!("not-found".parse(), Ok(Stage::NotFound));
        assert_eq!("5".parse(), Ok(Stage::ThreadPool));
    }

    #[test]
    fn anything_else_is_refused_with_the_choices() {
        for text in ["0", "8", "", "Async", "Keep-Alive", "keep_alive", " 1"] {
            let error = text.parse::<Stage>().unwrap_err();
            assert_eq!(error, UnknownStage(text.to_owned()));
        }
        let message = "9".parse::<Stage>().unwrap_err().to_string();
        assert!(message.starts_with("`9` is not a stage"), "{message}");
        assert!(
            message.contains("single-threaded, thread-per-client"),
            "{message}"
        );
        assert!(message.ends_with("its number (1 to 7)"), "{message}");
    }
}
