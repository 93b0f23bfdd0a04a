//! The request log: one line per request, each thread in its own colour.
//!
//! ```text
//! 08:49:37.042 client-3   127.0.0.1:53412  "GET /style.css HTTP/1.1" 200 1302 bytes 0.3 ms
//! ```
//!
//! The thread's name is the point of the log in this course: run a stage, open a
//! page, and you can watch which thread answered which request, and how requests
//! from several browsers interleave. Colour goes only to a terminal, and never when
//! `NO_COLOR` is set (<https://no-color.org>).

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use colored::{Color, Colorize};

use crate::http::{Error, StatusCode};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Chooses colour or plain text for standard output, and whether to print a line
/// per request (`quiet` keeps only errors and notices, for benchmarks).
pub fn init(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    colored::control::set_override(use_color());
}

/// Colour when stdout is a terminal and `NO_COLOR` is not set, or when
/// `CLICOLOR_FORCE` asks for it (the book's coloured transcripts use that).
fn use_color() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if set("CLICOLOR_FORCE") {
        return true;
    }
    std::io::stdout().is_terminal() && !set("NO_COLOR")
}

/// Whether a line is printed for every request (not with `--quiet`).
pub fn requests_shown() -> bool {
    !QUIET.load(Ordering::Relaxed)
}

/// A request that got a response.
fn exchange(peer: SocketAddr, line: &str, status: StatusCode, bytes: u64, took: Duration) {
    if QUIET.load(Ordering::Relaxed) {
        return;
    }
    let code = status.as_u16().to_string();
    let code = match status.as_u16() {
        200..=299 => code.green(),
        300..=399 => code.cyan(),
        400..=499 => code.yellow(),
        _ => code.red(),
    };
    print_line(format_args!(
        "{} \"{line}\" {code} {bytes} bytes {}",
        prefix(peer),
        millis(took)
    ));
}

/// A response, sent in full (`Ok`, with its length) or not. `peer` is only
/// asked for when a line is printed.
pub fn sent(
    peer: impl FnOnce() -> SocketAddr,
    line: &str,
    status: StatusCode,
    written: &std::io::Result<u64>,
    took: Duration,
) {
    crate::status::count_response(status, written);
    match written {
        Ok(_) if !requests_shown() => {}
        Ok(bytes) => exchange(peer(), line, status, *bytes, took),
        Err(error) => send_failed(peer(), line, status, error, took),
    }
}

/// A request dropped without an answer: the `single-threaded` and
/// `thread-per-client` stages on any error, every stage when the client is gone.
pub fn dropped(peer: SocketAddr, line: &str, error: &Error, took: Duration) {
    crate::status::count_dropped();
    let what = format!("dropped: {error}");
    print_line(format_args!(
        "{} \"{line}\" {} {}",
        prefix(peer),
        what.red(),
        millis(took)
    ));
}

/// A response that could not be sent in full.
fn send_failed(
    peer: SocketAddr,
    line: &str,
    status: StatusCode,
    error: &std::io::Error,
    took: Duration,
) {
    let what = format!("{} not sent: {error}", status.as_u16());
    print_line(format_args!(
        "{} \"{line}\" {} {}",
        prefix(peer),
        what.red(),
        millis(took)
    ));
}

/// A notice from the server itself (shutting down, waiting for clients...).
pub fn info(message: impl Display) {
    print_line(format_args!("{} {message}", head()));
}

/// Something went wrong that the server will survive.
pub fn error(message: impl Display) {
    let message = message.to_string();
    print_line(format_args!("{} {}", head(), message.red()));
}

/// Time and thread: the start of every line.
fn head() -> String {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    format!(
        "{} {}",
        clock(SystemTime::now()).dimmed(),
        format!("{name:<10}").color(thread_color(name))
    )
}

/// The time of day in UTC as `HH:MM:SS.mmm`.
fn clock(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let rest = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

fn prefix(peer: SocketAddr) -> String {
    format!("{} {:<21}", head(), peer.to_string())
}

/// Each thread name gets a colour of its own, the same one every time. Red is
/// left out: it means an error. A numbered name (`client-17`, `worker-3`) is
/// coloured by its number, so that neighbours, which are the threads most
/// often seen together, never share a colour; any other name by a hash.
fn thread_color(name: &str) -> Color {
    const PALETTE: [Color; 10] = [
        Color::Cyan,
        Color::Magenta,
        Color::Yellow,
        Color::Blue,
        Color::Green,
        Color::BrightCyan,
        Color::BrightMagenta,
        Color::BrightYellow,
        Color::BrightBlue,
        Color::BrightGreen,
    ];
    if name == "main" {
        return Color::White;
    }
    if let Some((_, number)) = name.rsplit_once('-')
        && let Ok(number) = number.parse::<usize>()
    {
        return PALETTE[number % PALETTE.len()];
    }
    // FNV-1a: tiny, and the same on every run (std's hasher is seeded randomly).
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    PALETTE[(hash % PALETTE.len() as u64) as usize]
}

fn millis(took: Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}

/// One line, written whole: lines from many threads never mix.
fn print_line(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (the reader went away) must not stop the server.
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    use super::{clock, thread_color};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn clock_shows_utc_time_of_day_with_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(784_111_777_042);
        assert_eq!(clock(time), "08:49:37.042");
    }

    /// Ten threads in a row, as a burst of clients or a pool's workers are
    /// named, get ten different colours.
    #[test]
    fn consecutive_threads_differ_in_colour() {
        for prefix in ["client", "worker"] {
            let colours: Vec<_> = (0..10)
                .map(|n| thread_color(&format!("{prefix}-{n}")))
                .collect();
            for (n, colour) in colours.iter().enumerate() {
                assert!(
                    !colours[..n].contains(colour),
                    "{prefix}-{n} has the colour of an earlier one: {colours:?}"
                );
            }
        }
    }
}
