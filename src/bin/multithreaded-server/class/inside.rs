//! `multithreaded-server grade-in-sandbox`: the grader's side of one
//! submission's grading, run inside the submission's sandbox (so that its
//! connections to the server are the sandbox's own loopback), and reporting
//! back to `grade-class` outside.
//!
//! The submission shares the sandbox, so what comes back must be what the
//! grader wrote and nothing the submission forged: `grade-class` writes a
//! random token on this process's stdin, which it reads before it starts
//! anything, and every part of the answer is framed by it. A submission can
//! write to the pipe (through `/proc/1/fd/1`, bubblewrap's own copy), but it
//! cannot know the token, so it can spoil its own answer, never forge one.
//! This process also makes itself undumpable, so that the submission can
//! neither trace it nor read its memory, its environment or its descriptors.
//!
//! While the checks run, a thread samples the processes of the sandbox but
//! this one (in `/proc`, every 250 ms): their tasks and their memory, at the
//! most, and how many were left once the grader had stopped the server. A
//! submission that hits its process limit, or leaves helpers running, is so
//! reported.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use clap::Args;
use grade::{Grader, Stage};

use multithreaded_server::config::parse_duration;

/// What `grade-class` tells the grader inside the sandbox.
#[derive(Clone, Debug, Args)]
pub struct InsideArgs {
    #[arg(long, value_enum)]
    pub stage: Stage,
    #[arg(long, value_delimiter = ',', value_parser = crate::cli::parse_extension)]
    pub with: Vec<grade::Extension>,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub queue: Option<usize>,
    #[arg(long)]
    pub keep_alive_timeout: Option<u64>,
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub startup_timeout: Duration,
    /// The server's command, with the grader's placeholders.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// The most the sandbox's other processes held at once, sampled.
#[derive(Default)]
struct Peaks {
    tasks: AtomicU64,
    memory: AtomicU64,
}

/// The sandbox's processes but pid 1 (bubblewrap's) and this one: their
/// ids, from `/proc` (empty where there is none).
fn others() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| *pid != 1 && *pid != me)
                .collect()
        })
        .unwrap_or_default()
}

/// Tasks (threads) and resident bytes of `pids`, as `/proc` has them now.
fn usage(pids: &[u32]) -> (u64, u64) {
    let mut tasks = 0;
    let mut memory = 0;
    for pid in pids {
        tasks += std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|t| t.count() as u64)
            .unwrap_or(0);
        memory += std::fs::read_to_string(format!("/proc/{pid}/statm"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * 4096);
    }
    (tasks, memory)
}

pub fn run(args: &InsideArgs) -> anyhow::Result<()> {
    let mut token = String::new();
    std::io::stdin().lock().read_line(&mut token)?;
    let token = token.trim().to_owned();
    anyhow::ensure!(
        token.len() >= 16,
        "grade-in-sandbox is run by grade-class, which gives it a token on stdin"
    );
    forbid_tracing();
    let _ = ctrlc::set_handler(|| {
        grade::process::stop_all();
        grade::fixture::remove_temporary();
        std::process::exit(130);
    });
    let _ = multithreaded_server::net::raise_open_file_limit();

    let peaks = Arc::new(Peaks::default());
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peaks, done) = (Arc::clone(&peaks), Arc::clone(&done));
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let (tasks, memory) = usage(&others());
                peaks.tasks.fetch_max(tasks, Ordering::Relaxed);
                peaks.memory.fetch_max(memory, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(250));
            }
        })
    };
    let mut grader = Grader::command(args.command.iter().cloned())
        .stage(args.stage)
        .with(&args.with)
        .startup_timeout(args.startup_timeout)
        .progress(true);
    if let Some(threads) = args.threads {
        grader = grader.threads(threads);
    }
    if let Some(queue) = args.queue {
        grader = grader.queue(queue);
    }
    if let Some(seconds) = args.keep_alive_timeout {
        grader = grader.keep_alive_timeout(seconds);
    }
    let report = grader.run()?;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    // The grader has stopped the server's group: what is still here got out
    // of it (a daemon, a fork bomb's children); the sandbox's end ends them.
    let left = others();
    let extra = serde_json::json!({
        "server_output": report.server_output,
        "peak_tasks": peaks.tasks.load(Ordering::Relaxed),
        "peak_memory": peaks.memory.load(Ordering::Relaxed),
        "left_running": left.len(),
    });
    let answer = format!(
        "{token} report\n{}{token} extra\n{extra}\n{token} end\n",
        report.to_json()
    );
    let mut out = std::io::stdout().lock();
    out.write_all(answer.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Makes this process undumpable: no process of the same user may trace it,
/// or open its `/proc` files (memory, environment, descriptors).
fn forbid_tracing() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// The grader's answer, taken out of what came back on the pipe: the report's
/// JSON and the extra object, if both are there, framed by `token`.
pub fn unframe(output: &str, token: &str) -> Option<(String, serde_json::Value)> {
    let begin = format!("{token} report\n");
    let middle = format!("{token} extra\n");
    let end = format!("{token} end\n");
    let start = output.find(&begin)? + begin.len();
    let rest = &output[start..];
    let split = rest.find(&middle)?;
    let report = rest[..split].to_owned();
    let rest = &rest[split + middle.len()..];
    let extra = &rest[..rest.find(&end)?];
    Some((report, serde_json::from_str(extra.trim()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text around the frame, or a frame with another token, is ignored.
    #[test]
    fn only_the_framed_answer_counts() {
        let token = "0123456789abcdef";
        let forged = "x report\n{\"passed\": 99}\nx extra\n{}\nx end\n";
        let real = format!(
            "{token} report\n{{\"a\": 1}}\n{token} extra\n{{\"left_running\": 0}}\n{token} end\n"
        );
        let (report, extra) = unframe(&format!("{forged}noise{real}more"), token).unwrap();
        assert_eq!(report, "{\"a\": 1}\n");
        assert_eq!(extra["left_running"], 0);
        assert!(unframe(forged, token).is_none());
    }
}
