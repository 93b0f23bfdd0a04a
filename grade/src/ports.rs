//! Ports for the servers the grader starts: one that nobody listens on, and
//! that no other grader running at the same time hands out too.
//!
//! A port is chosen below the kernel's range for outgoing connections, in
//! slots that each grading process locks (see [`free_port`]).

use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::random::Rng;

/// A port nobody is listening on, for the server to bind.
///
/// The port is chosen below the kernel's range for outgoing connections
/// (`ip_local_port_range`), not with `bind(0)`: ports in that range are handed
/// to every client socket on the machine, the grader's own included, and one of
/// them could take the port in the moment between our check and the server's
/// `bind`. Below the range, only another server could.
///
/// Nor may another grader: an instructor grading many submissions at once, or
/// tests run side by side, would otherwise let two graders pick the same port
/// before either server is bound, and one grader would grade the other's
/// server. So the ports below the range are dealt out in [`SLOTS`] slots (by
/// the port's remainder), and a process hands out ports only from slots whose
/// lock file it holds (see [`Ports::claim_slot`]); the lock ends with the
/// process, however it ends. Within a process, a port is never handed out
/// twice, so graders started together cannot pick the same one either.
pub fn free_port() -> io::Result<u16> {
    static PORTS: Mutex<Ports> = Mutex::new(Ports {
        slots: Vec::new(),
        handed_out: Vec::new(),
    });
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if low > 12_000 {
        let mut rng = Rng::new();
        let mut ports = lock(&PORTS);
        if let Some(port) = ports.pick(&mut rng, FIRST_PORT..low) {
            return Ok(port);
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The lowest port [`free_port`] hands out: above the ports well-known
/// services register (the grader's servers must not stand in for them).
const FIRST_PORT: u16 = 10_000;

/// How many slots the ports are dealt out in: as many graders can run at once
/// with ports of their own (more still run, as before, with a small chance of
/// a clash), and each slot has a few hundred ports.
pub const SLOTS: u16 = 64;

/// The ports this process has handed out, and the slots it holds.
struct Ports {
    /// Each slot held, with its locked file (the lock lasts while it is open).
    slots: Vec<(u16, fs::File)>,
    handed_out: Vec<u16>,
}

impl Ports {
    /// A free port in `range` from a slot this process holds, claiming one
    /// more slot when those it holds have nothing free; or any free port in
    /// `range` when no slot can be claimed.
    fn pick(&mut self, rng: &mut Rng, range: std::ops::Range<u16>) -> Option<u16> {
        for attempt in 0..100 {
            if self.slots.is_empty() || attempt % 20 == 19 {
                // Claiming fails only when every slot is taken or the lock
                // files cannot be made: then ports come from anywhere.
                if let Some(slot) = self.claim_slot(rng) {
                    self.slots.push(slot);
                }
            }
            let span = u32::from(range.end - range.start);
            let port = match self.slots.len() {
                0 => range.start + rng.below(span as usize) as u16,
                held => {
                    let slot = self.slots[rng.below(held)].0;
                    // The ports p in range with p % SLOTS == slot.
                    let first = range.start + (slot + SLOTS - range.start % SLOTS) % SLOTS;
                    let count =
                        u32::from(range.end.saturating_sub(first)).div_ceil(u32::from(SLOTS));
                    if count == 0 {
                        continue;
                    }
                    first + SLOTS * rng.below(count as usize) as u16
                }
            };
            if !self.handed_out.contains(&port)
                && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
            {
                self.handed_out.push(port);
                return Some(port);
            }
        }
        None
    }

    /// Locks the file of a slot that no process holds (trying them in a
    /// random order), and returns the slot with its open file; `None` if every
    /// slot is held or the files cannot be made. The files live in the system's
    /// temporary folder, one per slot, and are left there empty for the next
    /// grader: deleting one another process may be about to lock would let two
    /// processes hold the same slot.
    fn claim_slot(&self, rng: &mut Rng) -> Option<(u16, fs::File)> {
        let folder = std::env::temp_dir().join("multithreaded-server-grade-ports");
        fs::create_dir_all(&folder).ok()?;
        let start = rng.below(usize::from(SLOTS)) as u16;
        (0..SLOTS)
            .map(|n| (start + n) % SLOTS)
            .filter(|slot| !self.slots.iter().any(|(held, _)| held == slot))
            .find_map(|slot| {
                let file = fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(folder.join(format!("slot-{slot}.lock")))
                    .ok()?;
                file.try_lock().ok()?;
                Some((slot, file))
            })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each change to the ports is made in one step, so a panic elsewhere
    // leaves them consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    #[test]
    fn free_ports_are_free() {
        let port = free_port().unwrap();
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }

    /// Claims every slot no process holds, for as long as the result lives.
    fn claim_every_free_slot() -> Ports {
        let mut ports = Ports {
            slots: Vec::new(),
            handed_out: Vec::new(),
        };
        let mut rng = Rng::new();
        while let Some(slot) = ports.claim_slot(&mut rng) {
            ports.slots.push(slot);
        }
        ports
    }

    fn slots_of(ports: &Ports) -> Vec<u16> {
        ports.slots.iter().map(|(slot, _)| *slot).collect()
    }

    /// Two graders at once never hold the same slot, so never hand out the
    /// same port: the slots another process (this test binary run again, as
    /// a child) holds cannot be claimed here, and can once it has exited.
    #[test]
    fn a_slot_is_held_by_one_process_at_a_time() {
        if std::env::var_os("GRADE_TEST_HOLD_SLOTS").is_some() {
            // The child: claim every free slot, say which, and hold them
            // until the parent has tried to claim them too.
            let held = claim_every_free_slot();
            println!("slots: {:?}", slots_of(&held));
            let _ = io::stdin().read_line(&mut String::new());
            return;
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "ports::tests::a_slot_is_held_by_one_process_at_a_time",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env("GRADE_TEST_HOLD_SLOTS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let theirs: Vec<u16> = loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the child said nothing"
            );
            // The harness may have begun the line with the test's name.
            if let Some((_, list)) = line.trim().split_once("slots: ") {
                let list = list.trim_matches(['[', ']']);
                break list
                    .split(", ")
                    .filter_map(|slot| slot.parse().ok())
                    .collect();
            }
        };
        assert!(!theirs.is_empty(), "the child claimed no slot");
        let ours = slots_of(&claim_every_free_slot());
        drop(child.stdin.take());
        child.wait().unwrap();
        for slot in &ours {
            assert!(
                !theirs.contains(slot),
                "slot {slot} was claimed by both processes"
            );
        }
        let after = slots_of(&claim_every_free_slot());
        assert!(
            theirs.iter().any(|slot| after.contains(slot)),
            "none of the child's slots {theirs:?} came free when it exited"
        );
    }
}
