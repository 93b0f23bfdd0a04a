//! Load and slow clients, against every stage compiled in.
//!
//! The Rust Book's final server stops answering once four clients connect and
//! say nothing; the first test shows that the stages which give every
//! connection a thread of its own (`thread-per-client`, `not-found`,
//! `daemon-join`) do not. The stages with a fixed pool of threads have their
//! own tests for that: there, idle clients do hold the pool, and that is the
//! point of their chapter. The other tests hold for every stage: what a crowd
//! of clients takes (threads, file descriptors) is all given back, and a client
//! that sends or reads too slowly is cut off by a deadline instead of holding a
//! thread for ever. Fifty clients at once are all served, on every stage.
//!
//! Descriptor counts stay well under the usual soft limit of 1024 per process:
//! at most 300 connections are open at once, and each costs one descriptor in
//! this process and one in the server.

#![cfg(feature = "single-threaded")]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::hardening::*;
use crate::support::*;
use multithreaded_server::Stage;

/// The thread-per-client stages that this build has.
fn thread_per_client_stages() -> Vec<Stage> {
    compiled_stages()
        .into_iter()
        .filter(|stage| {
            matches!(
                stage,
                Stage::ThreadPerClient | Stage::NotFound | Stage::DaemonJoin
            )
        })
        .collect()
}

/// Waits until `measure` reaches at least `target`; the last value.
fn wait_until_at_least(server: &Server, target: usize, measure: fn(&Server) -> usize) -> usize {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = measure(server);
        if value >= target || Instant::now() >= deadline {
            return value;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The threads and descriptors the server has with no client, once it has
/// served one. A stage with a pool starts its workers (and `keep-alive` its
/// poller) after the ready line, before its first `accept`: by the time a
/// response has come, they are all there. The client's connection and thread
/// are then waited out: a thread for a client is named `client-N`.
fn idle_baseline(server: &Server, site: &Site) -> (usize, usize) {
    assert_still_serves(server, site, "start-up");
    // Counted in /proc on Linux, from the TCP table on Windows; macOS, and
    // Wine (which leaves the table's owners out), cannot count them, and the
    // wait is left out there (see .ci/wine/README.md).
    match server.settle_connections() {
        Some(open) => assert_eq!(open, 0, "connections still open"),
        None if cfg!(target_os = "linux") => panic!("connections are counted on Linux"),
        None => {}
    }
    let threads = server
        .thread_names()
        .iter()
        .filter(|name| !name.starts_with("client-"))
        .count();
    // Windows starts threads of its own in a process (for its loader and its
    // thread pool), and so does Wine, and ends them when it likes: one may
    // end meanwhile, and the baseline is what is left once the clients' are
    // gone.
    let threads = server.settle(threads, Server::threads);
    (threads, server.open_fds())
}

/// Waits for the server to be back to at most `threads` threads, and fails
/// if it keeps more. Fewer is no leak (see `idle_baseline`).
fn assert_threads_back_to(server: &Server, threads: usize, what: &str) {
    let left = server.settle(threads, Server::threads);
    assert!(left <= threads, "{what}: threads {threads} -> {left}");
}

/// Three hundred clients connect and send nothing. A normal client is served
/// all the same, byte-exact, because each idle client holds only its own
/// thread; when the idle clients leave, their threads end.
#[test]
fn three_hundred_idle_connections_do_not_block_a_client() {
    const IDLE: usize = 300;
    let site = Site::new();
    for stage in thread_per_client_stages() {
        let server = Server::start(stage.name(), &site.root, &["--read-timeout", "60s"]);
        let (threads, _) = idle_baseline(&server, &site);
        let idle: Vec<_> = (0..IDLE).map(|_| connect(server.addr)).collect();
        let busy = wait_until_at_least(&server, threads + IDLE, Server::threads);
        assert!(busy >= threads + IDLE, "{stage}: only {busy} threads");

        assert_still_serves(&server, &site, "300 idle connections");

        drop(idle);
        assert_threads_back_to(
            &server,
            threads,
            &format!("{stage}, after the idle clients"),
        );
        assert_no_panic(&server);
    }
}

/// What one client of the crowd does.
#[derive(Clone, Copy)]
enum Client {
    /// Asks for a page and reads all of it.
    Complete,
    /// Connects and leaves without a word.
    Silent,
    /// Asks for a big file and hangs up after the first bytes: the server is
    /// cut off in the middle of sending.
    HangsUpMidResponse,
    /// Sends half a request and leaves.
    HalfRequest,
    /// Sends garbage and reads the answer.
    Garbage,
}

impl Client {
    fn run(self, addr: SocketAddr, page: &[u8]) {
        let mut stream = connect(addr);
        match self {
            Client::Complete => {
                stream
                    .write_all(b"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let reply = parse_reply(&read_to_close(&mut stream)).expect("a response");
                assert!(
                    reply.head.status == 200 && reply.body == page,
                    "a whole page"
                );
            }
            Client::Silent => {}
            Client::HangsUpMidResponse => {
                stream
                    .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut first = [0; 4096];
                let _ = stream.read(&mut first);
            }
            Client::HalfRequest => {
                let _ = stream.write_all(b"GET /index.html HTTP/1.1\r\nHo");
                let _ = stream.shutdown(Shutdown::Write);
            }
            Client::Garbage => {
                let _ = stream.write_all(&fixed_bytes(99, 2048));
                let _ = read_to_close(&mut stream);
            }
        }
    }
}

/// Two thousand connections, fifty at a time, many of them cut off in the
/// middle of a 16 MiB response, others silent, half-sent or garbage. Once they
/// are gone the server has exactly the descriptors and threads it had before:
/// a leak of one per connection would show as thousands. Every client says
/// `Connection: close` or closes first, so `keep-alive` keeps none of them.
#[test]
fn two_thousand_connections_leave_no_descriptor_or_thread_behind() {
    const CONNECTIONS: usize = 2000;
    const AT_ONCE: usize = 50;
    let site = Site::new();
    site.add_big_file("big.bin", 16 * 1024 * 1024);
    let page = Arc::new(site.read("index.html"));
    let kinds = [
        Client::Complete,
        Client::HangsUpMidResponse,
        Client::Silent,
        Client::HangsUpMidResponse,
        Client::HalfRequest,
        Client::Garbage,
    ];
    for stage in compiled_stages() {
        // Quiet, but errors (a panic, a failed accept) are still logged.
        let server = Server::start(stage.name(), &site.root, &["--quiet"]);
        let (threads, fds) = idle_baseline(&server, &site);

        let workers: Vec<_> = (0..AT_ONCE)
            .map(|worker| {
                let (addr, page) = (server.addr, Arc::clone(&page));
                thread::spawn(move || {
                    for n in (worker..CONNECTIONS).step_by(AT_ONCE) {
                        kinds[n % kinds.len()].run(addr, &page);
                    }
                })
            })
            .collect();
        for worker in workers {
            if worker.join().is_err() {
                panic!(
                    "{stage}: a client failed (see above); log:\n{}",
                    server.log()
                );
            }
        }

        let fds_after = server.settle(fds + HANDLE_SLACK, Server::open_fds);
        let threads_after = server.settle(threads, Server::threads);
        // Each hang-up left the server a send it could not finish, logged before
        // the connection was closed. Asking for half of them is enough to show
        // that the server really was cut off mid-response.
        let hangups = (0..CONNECTIONS)
            .filter(|n| matches!(kinds[n % kinds.len()], Client::HangsUpMidResponse))
            .count();
        let cut = server.log().matches("200 not sent").count();
        assert!(
            cut >= hangups / 2,
            "{stage}: only {cut} of {hangups} sends cut off"
        );
        eprintln!(
            "{stage}: {CONNECTIONS} connections, {cut} sends cut off: \
             descriptors {fds} -> {fds_after}, threads {threads} -> {threads_after}"
        );
        assert!(
            fds_after <= fds + HANDLE_SLACK,
            "{stage}: descriptors leaked: {fds} -> {fds_after}"
        );
        // Fewer is no leak: `async` starts blocking threads for files as it
        // needs them, and they end after ten idle seconds, the one counted in
        // the baseline among them.
        assert!(
            threads_after <= threads,
            "{stage}: threads left behind: {threads} -> {threads_after}"
        );
        assert_still_serves(&server, &site, "2,000 connections");
        assert_no_panic(&server);
    }
}

/// Fifty clients at once, each on a connection of its own, all get the whole
/// of `data.bin`, byte-exact: one after the other in `single-threaded`, side
/// by side from `thread-per-client` on.
#[test]
fn fifty_concurrent_clients_are_all_served() {
    for stage in compiled_stages() {
        eprintln!("stage {stage}");
        let site = Site::new();
        let server = Server::start(stage.name(), &site.root, &[]);
        assert_concurrent_clients(server.addr, &site, 50);
    }
}

/// A client that connects and says nothing is let go once the read deadline
/// passes: the thread it held, the only one of `single-threaded`, is free
/// again. Before `not-found` the server just closes; from it on, it says why
/// with a `408` first.
#[test]
fn a_silent_client_is_dropped_by_the_read_deadline() {
    for stage in compiled_stages() {
        let site = Site::new();
        let server = Server::start(stage.name(), &site.root, &["--read-timeout", "300ms"]);
        let mut idle = connect(server.addr);
        let bytes = wait_for_close(&mut idle)
            .unwrap_or_else(|| panic!("{stage}: the silent client was never let go"));
        if answers_errors(stage) {
            let reply = parse_reply(&bytes).expect("a response");
            assert_eq!(reply.status(), 408, "{stage}");
        } else {
            assert!(
                bytes.is_empty(),
                "{stage}: closed without a response: {bytes:?}"
            );
        }
        assert_eq!(get(server.addr, "/").status(), 200, "{stage}");
    }
}

/// A client that sends its request a byte at a time, forever, is cut off when
/// the read deadline passes: the deadline is for the whole head, so staying
/// busy does not help. From `not-found` on it is told so with a 408. Then the
/// thread that read from it is free again: the only one in `single-threaded`,
/// the only worker (`--threads 1`) from `thread-pool` on.
#[test]
fn a_dribbler_is_cut_off_by_the_read_deadline() {
    let site = Site::new();
    for stage in compiled_stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--read-timeout", "1s", "--threads", "1"],
        );
        let (threads, _) = idle_baseline(&server, &site);
        let mut stream = connect(server.addr);
        let mut writer = stream.try_clone().unwrap();
        let dribbler = thread::spawn(move || {
            let head = b"GET /index.html HTTP/1.1\r\nHost: t\r\nX-Slow: ";
            for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                if writer.write_all(&[*byte]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        // The read timeout of `connect` is PATIENCE: a server that waited for
        // the dribbler (a timeout per read, not a deadline) would fail here.
        let bytes = wait_for_close(&mut stream)
            .unwrap_or_else(|| panic!("{stage}: the dribbler was never cut off"));
        if answers_errors(stage) {
            let reply = parse_reply(&bytes).expect("a response");
            assert_eq!(
                reply.head.status_line, "HTTP/1.1 408 Request Timeout",
                "{stage}"
            );
        } else {
            assert!(bytes.is_empty(), "{stage}: {bytes:?}");
        }
        drop(stream);
        dribbler.join().unwrap();
        assert_threads_back_to(&server, threads, &format!("{stage}, after a dribbler"));
        assert_still_serves(&server, &site, "a dribbler");
    }
}

/// A client that asks for a big file and then stops reading cannot hold the
/// thread sending it for ever: once the response has not been sent within
/// `--write-timeout`, the server gives up and logs it. The thread is free again while that client
/// is still connected: in the stages with a thread per client it has ended; the
/// only thread of `single-threaded`, and the only worker (`--threads 1`) from
/// `thread-pool` on, serve the next client.
#[test]
fn a_reader_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    for stage in compiled_stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--write-timeout", "1s", "--threads", "1"],
        );
        let (threads, _) = idle_baseline(&server, &site);
        let mut stalled = connect(server.addr);
        stalled
            .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert!(
            server.log_contains("200 not sent"),
            "{stage}: the stalled send was not given up:\n{}",
            server.log()
        );
        assert_threads_back_to(
            &server,
            threads,
            &format!("{stage}: the thread is still held"),
        );
        assert_still_serves(&server, &site, "a stalled reader");
        drop(stalled);
    }
}

/// A client that reads a big file slowly but steadily, 16 KiB every 100 ms,
/// never lets one write wait as long as `--write-timeout`, so a timeout per
/// write would let it hold its thread for as long as the file lasts (here,
/// over three minutes). The whole response is due within the write timeout
/// instead: the server gives up on it, logs it, and the thread that sent it
/// (the only worker, with `--threads 1`) serves the next client.
#[test]
fn a_reader_that_reads_slowly_is_cut_off_by_the_write_deadline() {
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    for stage in compiled_stages() {
        let server = Server::start(
            stage.name(),
            &site.root,
            &["--write-timeout", "2s", "--threads", "1"],
        );
        let mut slow = connect(server.addr);
        slow.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut chunk = vec![0; 16 * 1024];
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if matches!(slow.read(&mut chunk), Ok(0) | Err(_)) {
                        break;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let cut_off = server.log_contains("200 not sent");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap();
        assert!(
            cut_off,
            "{stage}: a slow reader was still being sent to after {PATIENCE:?}:\n{}",
            server.log()
        );
        assert_still_serves(&server, &site, "a slow reader");
    }
}
