//! # Stage 5: `thread-pool`
//!
//! Stages 2 to 4 start a thread for every connection: a thousand clients are a
//! thousand threads, and every connection pays for creating one. This stage
//! starts a fixed number of workers once (`--threads`) and hands them
//! connections through a bounded queue (`--queue`):
//!
//! 1. the accept loop puts each connection in the queue, without waiting;
//! 2. a worker takes the next connection, serves it, and goes back for another;
//! 3. when every worker is busy and the queue is full, the accept loop answers
//!    `503 Service Unavailable` with `Retry-After` itself and closes: neither
//!    threads nor memory grow with the crowd;
//! 4. a worker whose job panics logs it and carries on, so the pool never
//!    shrinks (the Rust Book's pool loses a worker for each panic);
//! 5. Ctrl-C shuts down as in `daemon-join`: stop accepting, finish what is
//!    queued and under way, join every worker.
//!
//! **What it still gets wrong.** A worker is held for the whole life of a
//! connection, including the time the client spends sending nothing. With as
//! many idle clients as workers, everyone else waits in the queue until the read
//! timeout frees a worker. The `keep-alive` stage keeps idle connections in a
//! readiness loop instead, where they cost no thread.
//!
//! Chapter: "Stage 5: a pool of threads".

use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::not_found;
use crate::config::Config;
use crate::http::connection::turn_away;
use crate::http::{Error, Response};
use crate::log;
use crate::shutdown::{InFlight, Shutdown};
use crate::status::{self, Activity};

// ANCHOR: run
/// Serves clients with a fixed pool of workers until `shutdown` is requested.
pub fn run(listener: TcpListener, config: Arc<Config>, shutdown: Shutdown) -> io::Result<()> {
    shutdown.watch(&listener)?;
    let handler_config = Arc::clone(&config);
    let pool = ThreadPool::new(config.threads, config.queue, move |stream: TcpStream| {
        not_found::handle_connection(stream, &handler_config);
    })?;

    for stream in listener.incoming() {
        if shutdown.is_requested() {
            break;
        }
        let Some(stream) = super::accepted(stream) else {
            continue;
        };
        // `try_execute` never waits: if the queue is full it hands the
        // connection back, and we answer it ourselves, at once.
        if let Err(stream) = pool.try_execute(stream) {
            turn_away(stream, overloaded(&config));
        }
    }
    // ANCHOR_END: run

    // ANCHOR: after_loop
    drop(listener);
    log::info("waiting for the workers to finish");
    let stalled = pool.shutdown(config.shutdown_timeout);
    super::log_stopped(stalled, "worker", config.shutdown_timeout);
    Ok(())
    // ANCHOR_END: after_loop
}

/// The answer for a client that arrives when every worker is busy and the queue
/// is full: `503 Service Unavailable`, with `Retry-After`.
pub fn overloaded(config: &Config) -> Response {
    Response::error(&config.root, &Error::Overloaded).expect("503 is a response")
}

// ANCHOR: pool
/// A fixed set of worker threads that run `handler` on each task they are given.
///
/// Generic over the task so that `keep-alive` can reuse it with a different job.
// ANCHOR: new
pub struct ThreadPool<T> {
    queue: Arc<Queue<T>>,
    workers: Vec<JoinHandle<()>>,
    /// How many workers have not returned yet.
    running: InFlight,
}

impl<T: Send + 'static> ThreadPool<T> {
    /// Starts `size` workers sharing one queue of at most `capacity` waiting tasks.
    pub fn new<F>(size: usize, capacity: usize, handler: F) -> io::Result<ThreadPool<T>>
    where
        F: Fn(T) + Send + Sync + 'static,
    {
        let queue = Arc::new(Queue::new(capacity));
        status::gauge("queued", Some(capacity), &queue, Queue::len);
        let handler = Arc::new(handler);
        let running = InFlight::new();
        let mut workers = Vec::with_capacity(size);
        for id in 0..size {
            let queue = Arc::clone(&queue);
            let handler = Arc::clone(&handler);
            let alive = running.enter();
            let worker = thread::Builder::new()
                .name(format!("worker-{id}"))
                .spawn(move || {
                    work(&queue, &*handler);
                    drop(alive);
                })?;
            workers.push(worker);
        }
        Ok(ThreadPool {
            queue,
            workers,
            running,
        })
    }
    // ANCHOR_END: new

    /// Hands `task` to the next free worker, or gives it back at once if every
    /// worker is busy and the queue is full. It never waits.
    // ANCHOR: execute
    pub fn try_execute(&self, task: T) -> Result<(), T> {
        self.queue.try_push(task)
    }

    /// Closes the queue, lets the workers finish every task already in it, and
    /// joins them. Waits no longer than `timeout`, and returns how many workers
    /// were still busy then (those are left to end with the process).
    pub fn shutdown(mut self, timeout: Duration) -> usize {
        self.queue.close();
        let stalled = self.running.wait_until_idle(timeout);
        for worker in self.workers.drain(..) {
            if stalled == 0 || worker.is_finished() {
                // A worker never panics (see `work`), so join cannot fail.
                let _ = worker.join();
            }
        }
        stalled
    }
    // ANCHOR_END: execute

    /// How many workers have not returned. Only a closed queue makes one return.
    pub fn running(&self) -> usize {
        self.running.count()
    }
}

impl<T> Drop for ThreadPool<T> {
    /// A pool dropped without `shutdown` (on an error) still lets its workers go.
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// A worker's life: take a task, run it, repeat until the queue is closed.
// ANCHOR: work
fn work<T>(queue: &Queue<T>, handler: &(dyn Fn(T) + Send + Sync)) {
    while let Some(task) = queue.pop() {
        // A panic in the handler unwinds to here, dropping the task (and so
        // closing the client's connection), and the worker carries on.
        if panic::catch_unwind(AssertUnwindSafe(|| handler(task))).is_err() {
            log::error("a job panicked; its connection was closed and the worker carries on");
        }
    }
}
// ANCHOR_END: work

/// The tasks waiting for a worker: a list behind a lock, and a condition
/// variable the workers sleep on until there is something to take.
///
/// The Rust Book's pool shares an `mpsc::Receiver` behind a `Mutex` instead.
/// That works, and made bounded (`sync_channel`, with `try_send` handing a job
/// back when the channel is full) it can decide "queue it or 503" too. But a
/// task may then wake two threads, the worker that takes it and the next in
/// line for the lock; and a channel cannot say how many workers are asleep,
/// which `--queue` counts beyond: here it means "waiting for a worker", not
/// "sent and not yet taken".
// ANCHOR: queue
struct Queue<T> {
    state: Mutex<QueueState<T>>,
    /// Signalled when a task arrives or the queue closes.
    ready: Condvar,
    /// How many tasks may wait when no worker is free.
    capacity: usize,
}

struct QueueState<T> {
    tasks: VecDeque<T>,
    /// Workers asleep in `pop`, each about to take a task.
    waiting: usize,
    open: bool,
}
// ANCHOR_END: queue

impl<T> Queue<T> {
    fn new(capacity: usize) -> Queue<T> {
        Queue {
            state: Mutex::new(QueueState {
                tasks: VecDeque::new(),
                waiting: 0,
                open: true,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        // A worker never panics while holding the lock, but if one did, the
        // list itself would still be sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a task if a worker is waiting for one or the queue has room.
    // ANCHOR: push_pop
    fn try_push(&self, task: T) -> Result<(), T> {
        let mut state = self.lock();
        if !state.open || state.tasks.len() >= state.waiting + self.capacity {
            return Err(task);
        }
        state.tasks.push_back(task);
        // Waking a worker is a system call; a busy pool has no one asleep, and
        // its workers take the task when they come back for the next one.
        let someone_asleep = state.waiting > 0;
        drop(state);
        if someone_asleep {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// The next task, waiting for one if need be; `None` once the queue is
    /// closed and empty.
    fn pop(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(task) = state.tasks.pop_front() {
                status::set(Activity::Working);
                return Some(task);
            }
            if !state.open {
                return None;
            }
            // For `--status`: asleep here is what "idle in the pool" means.
            status::set_with(Activity::Idle, "");
            state.waiting += 1;
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
    }
    // ANCHOR_END: push_pop

    /// How many tasks are waiting for a worker now.
    fn len(&self) -> usize {
        self.lock().tasks.len()
    }

    /// No more tasks: workers finish what is queued, then `pop` returns `None`.
    fn close(&self) {
        self.lock().open = false;
        self.ready.notify_all();
    }
}
// ANCHOR_END: pool
