//! Who was doing what to the server, so that a server that dies is blamed on
//! the right moment, and the request that came just before its death can be
//! sent again, alone, to a fresh server.
//!
//! Checks run one at a time, and each says which step it is at (every request
//! a [`Probe`](crate::probe::Probe) sends is a step, with the bytes to send
//! again). A thread watches the server's process: the first moment it is seen
//! gone, the check and step under way then are kept with its exit, and the
//! report of the death names them. A check that finds the server gone itself
//! reports the same first sighting.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::process::{Process, describe_exit};

/// How often the watching thread looks at the server.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// What a check is doing to the server at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// "sending GET /../x HTTP/1.1", "a client that sent half a request".
    pub what: String,
    /// How to do it again to another server, if it can be done alone.
    pub replay: Option<Replay>,
}

/// A step that can be done again on a new connection: these bytes, then
/// either the answer read (and the connection closed) or, with `hang_up`, a
/// close at once, as the client that did it first hung up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    pub bytes: Vec<u8>,
    pub hang_up: bool,
}

/// The check running on one server, and the server's death, once seen.
#[derive(Debug, Default)]
pub struct Watch {
    state: Mutex<State>,
    done: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// The check running now, with the step it is at.
    running: Option<(&'static str, Step)>,
    death: Option<Death>,
}

/// How the server ended, and what was under way when that was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Death {
    /// "exited with status 1", "was killed by signal 13 (SIGPIPE: ...)".
    pub exit: String,
    /// The check running then, and its step; `None` between checks.
    pub during: Option<(&'static str, Step)>,
}

impl Death {
    /// "while `no-traversal` was at: sending GET /../x HTTP/1.1", or
    /// "between checks".
    pub fn moment(&self) -> String {
        match &self.during {
            None => "between checks, with none running".to_owned(),
            Some((check, step)) if step.what.is_empty() => {
                format!("while `{check}` was running (at its start)")
            }
            Some((check, step)) => format!("while `{check}` was at: {}", step.what),
        }
    }

    /// Whether `check` was running when the death was seen.
    pub fn during(&self, check: &str) -> bool {
        matches!(&self.during, Some((id, _)) if *id == check)
    }

    /// The step under way, if it can be done again alone.
    pub fn replay(&self) -> Option<&Replay> {
        self.during.as_ref()?.1.replay.as_ref()
    }
}

impl Watch {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `check` has started.
    pub fn begin(&self, check: &'static str) {
        self.state().running = Some((check, Step::default()));
    }

    /// `check` is now at `step`.
    pub fn step(&self, check: &'static str, step: Step) {
        if let Some((id, at)) = &mut self.state().running
            && *id == check
        {
            *at = step;
        }
    }

    /// `check` has ended.
    pub fn end(&self, check: &'static str) {
        let mut state = self.state();
        if matches!(&state.running, Some((id, _)) if *id == check) {
            state.running = None;
        }
    }

    /// The server has been seen gone with `exit`: the death, as first seen.
    pub fn died(&self, exit: String) -> Death {
        let mut state = self.state();
        let during = state.running.clone();
        state.death.get_or_insert(Death { exit, during }).clone()
    }

    /// The death, if it has been seen.
    pub fn death(&self) -> Option<Death> {
        self.state().death.clone()
    }

    /// Watches `server` on a thread of its own until [`Watch::stop`].
    pub fn start(self: &Arc<Watch>, server: &Arc<Process>) {
        let (watch, server) = (Arc::clone(self), Arc::clone(server));
        let _ = thread::Builder::new()
            .name("watch the server".to_owned())
            .spawn(move || {
                while !watch.done.load(Ordering::SeqCst) {
                    if let Some(status) = server.exit_status() {
                        watch.died(describe_exit(status));
                        return;
                    }
                    thread::sleep(LOOK_EVERY);
                }
            });
    }

    /// Ends the watching thread.
    pub fn stop(&self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_death_keeps_the_step_under_way_when_it_was_first_seen() {
        let watch = Watch::default();
        watch.begin("no-traversal");
        let step = Step {
            what: "sending GET /../x HTTP/1.1".to_owned(),
            replay: Some(Replay {
                bytes: b"GET /../x HTTP/1.1\r\n\r\n".to_vec(),
                hang_up: false,
            }),
        };
        watch.step("no-traversal", step.clone());
        let death = watch.died("exited with status 1".to_owned());
        watch.end("no-traversal");
        // Seen again later: the first sighting stands.
        assert_eq!(watch.died("other".to_owned()), death);
        assert_eq!(
            death.moment(),
            "while `no-traversal` was at: sending GET /../x HTTP/1.1"
        );
        assert!(death.during("no-traversal") && !death.during("text-files"));
        assert_eq!(death.replay(), step.replay.as_ref());
        assert_eq!(
            Watch::default().died("x".to_owned()).moment(),
            "between checks, with none running"
        );
    }
}
