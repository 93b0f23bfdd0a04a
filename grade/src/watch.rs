//! Who was doing what to the server, so that a server that dies is blamed on
//! the right moment.
//!
//! Checks that share a server run at the same time, and a check that finds
//! the server gone is not always the one that killed it: a server may die
//! writing to a connection that an earlier check gave up on. So the runner
//! keeps, for every check running, the step it is at (each request a
//! [`Probe`](crate::checks::Probe) sends is a step), and a thread watches the
//! server's process; the first moment anyone sees it gone, the steps under
//! way then are kept with its exit, and every report of the death names them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::process::{Process, describe_exit};

/// How often the watching thread looks at the server.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// The checks running on one server, and its death, once seen.
#[derive(Debug, Default)]
pub struct Watch {
    state: Mutex<State>,
    done: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// The checks running now, each with the step it is at.
    running: Vec<(&'static str, String)>,
    death: Option<Death>,
}

/// How the server ended, and what was under way when that was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Death {
    /// "exited with status 1", "was killed by signal 13 (SIGPIPE)".
    pub exit: String,
    /// The checks running then, each with its step.
    pub running: Vec<(&'static str, String)>,
}

impl Death {
    /// "while `no-traversal` was at GET /../x HTTP/1.1", or "between checks".
    pub fn moment(&self) -> String {
        if self.running.is_empty() {
            return "between checks, with none running".to_owned();
        }
        let each: Vec<String> = self
            .running
            .iter()
            .map(|(check, step)| {
                if step.is_empty() {
                    format!("`{check}` (at its start)")
                } else {
                    format!("`{check}` (at: {step})")
                }
            })
            .collect();
        match &each[..] {
            [one] => format!("while {one} was running"),
            _ => format!("while these checks were running: {}", each.join(", ")),
        }
    }

    /// Whether `check` was the only check running when the death was seen.
    pub fn only(&self, check: &str) -> bool {
        matches!(&self.running[..], [(id, _)] if *id == check)
    }
}

impl Watch {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `check` has started.
    pub fn begin(&self, check: &'static str) {
        self.state().running.push((check, String::new()));
    }

    /// `check` is now at `step`.
    pub fn step(&self, check: &'static str, step: String) {
        if let Some(entry) = self.state().running.iter_mut().find(|(id, _)| *id == check) {
            entry.1 = step;
        }
    }

    /// `check` has ended.
    pub fn end(&self, check: &'static str) {
        self.state().running.retain(|(id, _)| *id != check);
    }

    /// The server has been seen gone with `exit`: the death, as first seen.
    pub fn died(&self, exit: String) -> Death {
        let mut state = self.state();
        let running = state.running.clone();
        state.death.get_or_insert(Death { exit, running }).clone()
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
    fn a_death_keeps_the_steps_under_way_when_it_was_first_seen() {
        let watch = Watch::default();
        watch.begin("no-traversal");
        watch.step("no-traversal", "GET /../x HTTP/1.1".to_owned());
        watch.begin("text-files");
        let death = watch.died("exited with status 1".to_owned());
        watch.end("text-files");
        // Seen again later: the first sighting stands.
        assert_eq!(watch.died("other".to_owned()), death);
        assert_eq!(
            death.moment(),
            "while these checks were running: `no-traversal` (at: GET /../x HTTP/1.1), `text-files` (at its start)"
        );
        assert!(!death.only("text-files"));
        let alone = Watch::default();
        alone.begin("bad-request");
        assert!(alone.died("x".to_owned()).only("bad-request"));
        assert_eq!(
            Watch::default().died("x".to_owned()).moment(),
            "between checks, with none running"
        );
    }
}
