//! Stage 5, `thread-pool`: a fixed set of workers and a bounded queue.

#![cfg(feature = "thread-pool")]

mod support;

use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use multithreaded_server::stages::thread_pool::ThreadPool;
use support::*;

const STAGE: &str = "thread-pool";

/// Fifty clients at once are shared among four workers and all get the whole
/// file; and the four workers are four at once: four clients each holding a
/// worker with half a request are answered in the reverse order of opening,
/// which three workers could not do (the last would wait in the queue for a
/// worker that the first three hold). Which worker serves whom is up to the
/// scheduler, so that is not asserted; only that there are no more than four.
#[test]
fn fifty_concurrent_clients_are_all_served_by_four_workers() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--threads", "4"]);
    assert_concurrent_clients(server.addr, &site, 50);

    let mut held: Vec<_> = (0..4)
        .map(|_| {
            let mut stream = connect(server.addr);
            stream
                .write_all(b"GET /index.html HTTP/1.1\r\nHost: te")
                .unwrap();
            stream
        })
        .collect();
    for (n, stream) in held.iter_mut().enumerate().rev() {
        stream
            .write_all(b"st\r\nConnection: close\r\n\r\n")
            .unwrap();
        let reply = parse_reply(&read_to_close(stream));
        assert_eq!(
            reply.map(|reply| reply.head.status),
            Some(200),
            "client {} of 4, finishing first, was not served",
            n + 1
        );
    }
    assert!(
        !server.log().contains("worker-4 "),
        "there are only four workers"
    );
}

/// 500 slow clients at once do not make 500 threads: the workers, the main
/// thread and the signal handler, whatever the crowd. Those that find every
/// worker busy and the queue full are told so with `503`.
#[test]
fn threads_stay_bounded_under_500_slow_clients() {
    let site = Site::new();
    let server = Server::start(
        STAGE,
        &site.root,
        &["--threads", "8", "--queue", "16", "--read-timeout", "60s"],
    );
    let mut clients = Vec::new();
    for _ in 0..500 {
        let mut stream = connect(server.addr);
        // Half a request: the client is still "typing" and holds its worker.
        let _ = stream.write_all(b"GET /index.html HTTP/1.1\r\nHost: te");
        clients.push(stream);
    }
    // Wait until the server has dealt with (nearly) all of them: every client it
    // could not hold has been turned away.
    let turned_away = 500 - 8 - 16;
    let deadline = Instant::now() + PATIENCE;
    while server.log().matches(" 503 ").count() < turned_away && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = server.log().matches(" 503 ").count();
    assert!(
        refused >= turned_away,
        "{refused} turned away:\n{}",
        server.log()
    );
    let threads = server.threads();
    assert!(threads <= 8 + 3, "{threads} threads for 500 clients");
    drop(clients);
    assert_eq!(
        get(server.addr, "/").status(),
        200,
        "still serving afterwards"
    );
}

/// When every worker is busy and the queue is full, a new client gets
/// `503 Service Unavailable` with `Retry-After` at once, instead of waiting.
/// Every client gets an answer: the held ones a `408` when they time out.
#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let site = Site::new();
    let server = Server::start(
        STAGE,
        &site.root,
        &["--threads", "2", "--queue", "2", "--read-timeout", "2s"],
    );
    let mut clients: Vec<_> = (0..20).map(|_| connect(server.addr)).collect();
    let mut statuses = Vec::new();
    for client in &mut clients {
        let bytes = wait_for_close(client).expect("every client gets an answer");
        let reply = parse_reply(&bytes).expect("a response");
        if reply.head.status == 503 {
            assert_eq!(reply.header("Retry-After"), Some("1"));
            assert_eq!(reply.header("Connection"), Some("close"));
        }
        statuses.push(reply.head.status);
    }
    let held = statuses.iter().filter(|&&s| s == 408).count();
    let refused = statuses.iter().filter(|&&s| s == 503).count();
    assert_eq!(held + refused, 20, "{statuses:?}");
    assert!(
        held <= 4,
        "at most 2 workers + 2 queued were held: {statuses:?}"
    );
}

/// The pool's weakness, measured: with as many idle clients as workers, a
/// normal request waits in the queue until the read timeout frees a worker.
#[test]
fn idle_clients_can_hold_every_worker() {
    let site = Site::new();
    let server = Server::start(
        STAGE,
        &site.root,
        &["--threads", "2", "--read-timeout", "2s"],
    );
    // The queue is first in, first out: the two idle clients reach the two
    // workers before the request behind them.
    let _idle = [connect(server.addr), connect(server.addr)];
    let started = Instant::now();
    let reply = get(server.addr, "/index.html");
    let waited = started.elapsed();
    assert_eq!(reply.head.status, 200);
    println!("a request behind 2 idle clients with 2 workers waited {waited:?}");
    assert!(
        waited >= Duration::from_millis(1500),
        "answered after {waited:?}, before the idle clients timed out"
    );
}

/// A job that panics does not shrink the pool: the worker logs it and takes
/// the next job. (The Rust Book's pool loses a worker to every panic.)
#[test]
fn the_pool_survives_panicking_jobs() {
    let (done, finished) = mpsc::channel();
    let pool = ThreadPool::new(2, 64, move |job: u32| {
        if job.is_multiple_of(2) {
            panic!("job {job} fails");
        }
        done.send(job).unwrap();
    })
    .unwrap();
    for job in 0..40 {
        let mut job = job;
        // The queue may be momentarily full; wait for room, as a client would.
        while let Err(back) = pool.try_execute(job) {
            job = back;
            std::thread::yield_now();
        }
    }
    let mut odd: Vec<u32> = (0..20)
        .map(|_| finished.recv_timeout(PATIENCE).unwrap())
        .collect();
    odd.sort();
    assert_eq!(
        odd,
        (0..40u32)
            .filter(|j| !j.is_multiple_of(2))
            .collect::<Vec<_>>()
    );
    assert_eq!(pool.running(), 2, "both workers are still there");
    assert_eq!(pool.shutdown(PATIENCE), 0, "and both are joined");
}

/// `try_execute` never waits: with every worker busy and the queue full, the
/// task comes straight back to the caller.
#[test]
fn try_execute_gives_the_task_back_when_full() {
    let (release, gate) = mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let pool = ThreadPool::new(1, 1, move |_: u32| {
        let _ = gate.lock().unwrap().recv();
    })
    .unwrap();
    assert!(pool.try_execute(1).is_ok());
    // Job 1 may still be in the queue or already with the worker; either way,
    // at most one more fits.
    let results: Vec<_> = (2..5).map(|job| pool.try_execute(job)).collect();
    assert!(
        results.iter().filter(|r| r.is_ok()).count() <= 1,
        "{results:?}"
    );
    assert!(results.contains(&Err(4)), "{results:?}");
    drop(release);
    assert_eq!(pool.shutdown(PATIENCE), 0);
}

/// Ctrl-C lets a download under way finish, joins every worker, and exits 0.
#[test]
fn ctrl_c_finishes_the_download_and_exits_0() {
    let site = Site::new();
    let expected = site.add_big_file("big.bin", 32 * 1024 * 1024);
    let mut server = Server::start(STAGE, &site.root, &["--shutdown-timeout", "60s"]);
    let (promised, body) = download_across_signal(&server, "/big.bin", "INT");
    assert_eq!(promised, expected.len());
    assert!(body == expected, "the whole file arrived");
    let status = server.wait_exit(PATIENCE).expect("the server exited");
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(server.log().contains("all workers done"));
}

/// An idle client holding a worker cannot hold shutdown past its timeout.
#[test]
fn an_idle_client_cannot_hold_shutdown() {
    let site = Site::new();
    let mut server = Server::start(
        STAGE,
        &site.root,
        &["--shutdown-timeout", "1s", "--read-timeout", "120s"],
    );
    let _idle = connect(server.addr);
    assert_eq!(get(server.addr, "/").status(), 200);
    // SIGTERM, which a service manager sends; Windows has none for a console
    // program, and Ctrl-C takes the same way out there.
    server.signal(if cfg!(windows) { "INT" } else { "TERM" });
    let status = server
        .wait_exit(PATIENCE)
        .expect("exited despite the idle client");
    assert_eq!(status.code(), Some(0));
    assert!(
        server.log_contains("gave up on 1 worker"),
        "{}",
        server.log()
    );
}
