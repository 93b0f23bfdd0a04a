//! The live view of a running server (`--status`): every thread and what it is
//! doing, the queue of `thread-pool`, the idle connections of `keep-alive`'s
//! loop, and counters of requests, bytes and errors. Apache's `server-status`
//! scoreboard is the model.
//!
//! Most of the reporting is in the shared code every stage runs: the blocking
//! [`Connection`](crate::http::Connection) says when its thread reads a head,
//! answers or writes; `turn_away` says when a thread answers `503` at once;
//! the log counts every response. The stages that add something of their own
//! report it in a line or two: `thread-pool` shows its queue and whether a
//! worker is idle or at work, and `keep-alive` its idle connections and the
//! worker writing a response. Stage files 1 to 4 and 7 report nothing.
//!
//! The view has a thread and a port of its own. Served by the stage, it would
//! go dark exactly when there is something to see: stage 1 held by one silent
//! client, or a pool whose workers are all busy and whose queue is full.
//!
//! With `--status` off, every report is one relaxed load of a flag that is
//! `false`, and nothing else: no lock, no allocation, no thread.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

use crate::config::Limits;
use crate::http::response::Body;
use crate::http::session::{Event, Session};
use crate::http::{Response, StatusCode};
use crate::{Stage, log};

/// Whether `--status` is on. Set once, before the stage starts.
static ON: AtomicBool = AtomicBool::new(false);

/// What a thread is doing, as the view shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Activity {
    /// Running, but not at anything the view knows of (a thread just started).
    Running,
    /// Waiting in `accept` for the next client.
    Accepting,
    /// Waiting for a client to send its request head.
    Reading,
    /// Finding the file and making the response.
    Answering,
    /// Sending a response, waiting for the client to take it.
    Writing,
    /// Closing: reading what the client still sends, so it sees our answer.
    Closing,
    /// A worker with nothing to do, waiting for the queue.
    Idle,
    /// A worker serving a connection handed to it.
    Working,
    /// The readiness loop, asleep until some connection has bytes.
    Polling,
    /// Answering `503` (or `408`) at once, without reading the request.
    TurningAway,
}

impl Activity {
    const ALL: [Activity; 10] = [
        Activity::Running,
        Activity::Accepting,
        Activity::Reading,
        Activity::Answering,
        Activity::Writing,
        Activity::Closing,
        Activity::Idle,
        Activity::Working,
        Activity::Polling,
        Activity::TurningAway,
    ];

    /// The name scripts see in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Running => "running",
            Activity::Accepting => "accepting",
            Activity::Reading => "reading a head",
            Activity::Answering => "answering",
            Activity::Writing => "writing",
            Activity::Closing => "closing",
            Activity::Idle => "idle in the pool",
            Activity::Working => "working",
            Activity::Polling => "waiting in the readiness loop",
            Activity::TurningAway => "turning away",
        }
    }

    fn from_u8(value: u8) -> Activity {
        Activity::ALL[usize::from(value).min(Activity::ALL.len() - 1)]
    }
}

// ---------------------------------------------------------------------------
// Reporting, from the threads that serve

/// One thread's line on the board. The thread writes it; the view reads it.
struct Slot {
    name: String,
    activity: AtomicU8,
    /// When the activity started, in milliseconds since the board started.
    since: AtomicU64,
    /// Responses this thread has sent.
    served: AtomicU64,
    /// The request line being answered, if any.
    request: Mutex<String>,
}

/// Every thread that ever reported, by a weak reference: a thread that ends
/// drops its slot, and the view stops showing it.
static BOARD: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());
static STARTED: OnceLock<Instant> = OnceLock::new();

thread_local! {
    static SLOT: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics with a lock held; if something did, a list of
    // counters and names would still be sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis() -> u64 {
    let started = STARTED.get_or_init(Instant::now);
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs `report` on this thread's slot, made (and put on the board) the first
/// time the thread reports.
fn with_slot<R>(report: impl FnOnce(&Slot) -> R) -> R {
    SLOT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let slot = slot.get_or_insert_with(|| {
            let name = thread::current().name().unwrap_or("unnamed").to_owned();
            let fresh = Arc::new(Slot {
                name,
                activity: AtomicU8::new(Activity::Running as u8),
                since: AtomicU64::new(millis()),
                served: AtomicU64::new(0),
                request: Mutex::new(String::new()),
            });
            lock(&BOARD).push(Arc::downgrade(&fresh));
            fresh
        });
        report(slot)
    })
}

/// Whether `--status` is on.
#[inline]
pub fn is_on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Says that this thread is now at `activity`, and returns what it was at
/// before (`None` when the view is off).
#[inline]
pub fn set(activity: Activity) -> Option<Activity> {
    if !is_on() {
        return None;
    }
    Some(with_slot(|slot| change(slot, activity)))
}

/// As [`set`], with the request line the thread is working on (`""`: none).
#[inline]
pub fn set_with(activity: Activity, request: &str) -> Option<Activity> {
    if !is_on() {
        return None;
    }
    Some(with_slot(|slot| {
        let mut line = lock(&slot.request);
        line.clear();
        line.push_str(request);
        change(slot, activity)
    }))
}

fn change(slot: &Slot, activity: Activity) -> Activity {
    let before = Activity::from_u8(slot.activity.swap(activity as u8, Ordering::Relaxed));
    if before != activity {
        slot.since.store(millis(), Ordering::Relaxed);
    }
    before
}

/// Says that this thread is now at `activity` until the returned guard is
/// dropped; then it is back at what it was at before.
#[inline]
pub fn enter(activity: Activity) -> Resume {
    Resume(set(activity))
}

/// As [`enter`], with the request line the thread is working on (`""`: none).
#[inline]
pub fn enter_with(activity: Activity, request: &str) -> Resume {
    Resume(set_with(activity, request))
}

/// Puts a thread back at its earlier activity when dropped (see [`enter`]).
#[must_use = "the activity ends when this is dropped"]
#[derive(Debug)]
pub struct Resume(Option<Activity>);

impl Drop for Resume {
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            set_with(before, "");
        }
    }
}

/// The counters, over the life of the server.
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    unavailable: AtomicU64,
    /// Responses that could not be sent whole, and requests given up on.
    failed: AtomicU64,
}

static COUNTERS: Counters = Counters {
    requests: AtomicU64::new(0),
    bytes: AtomicU64::new(0),
    client_errors: AtomicU64::new(0),
    server_errors: AtomicU64::new(0),
    unavailable: AtomicU64::new(0),
    failed: AtomicU64::new(0),
};

/// Counts a response: its status, and its bytes if it was sent whole. The log
/// calls this for every response of every stage.
#[inline]
pub fn count_response(status: StatusCode, written: &io::Result<u64>) {
    if !is_on() {
        return;
    }
    let add = |counter: &AtomicU64, n| counter.fetch_add(n, Ordering::Relaxed);
    add(&COUNTERS.requests, 1);
    match written {
        Ok(bytes) => add(&COUNTERS.bytes, *bytes),
        Err(_) => add(&COUNTERS.failed, 1),
    };
    match status.as_u16() {
        400..=499 => add(&COUNTERS.client_errors, 1),
        503 => add(&COUNTERS.unavailable, 1) + add(&COUNTERS.server_errors, 1),
        500..=599 => add(&COUNTERS.server_errors, 1),
        _ => 0,
    };
    with_slot(|slot| slot.served.fetch_add(1, Ordering::Relaxed));
}

/// Counts a request given up on without an answer.
#[inline]
pub fn count_dropped() {
    if is_on() {
        COUNTERS.requests.fetch_add(1, Ordering::Relaxed);
        COUNTERS.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// A number the view shows, measured when the view is asked for: how many
/// connections wait in a queue or a table.
struct Gauge {
    name: &'static str,
    limit: Option<usize>,
    /// `None` once what it measures is gone.
    measure: Box<dyn Fn() -> Option<usize> + Send>,
}

static GAUGES: Mutex<Vec<Gauge>> = Mutex::new(Vec::new());

/// Shows `measure(of)` in the view, under `name`, for as long as `of` lives.
pub fn gauge<T: Send + Sync + 'static>(
    name: &'static str,
    limit: Option<usize>,
    of: &Arc<T>,
    measure: fn(&T) -> usize,
) {
    if !is_on() {
        return;
    }
    let of = Arc::downgrade(of);
    let measure = Box::new(move || of.upgrade().map(|of| measure(&of)));
    lock(&GAUGES).push(Gauge {
        name,
        limit,
        measure,
    });
}

// ---------------------------------------------------------------------------
// The view

/// What the view shows, at one moment: serialized, the JSON of
/// `/_status?json`, field for field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub stage: &'static str,
    pub uptime_ms: u64,
    pub threads: Vec<ThreadState>,
    pub gauges: Vec<GaugeValue>,
    pub counters: Counts,
}

/// One thread, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThreadState {
    pub name: String,
    #[serde(rename = "doing")]
    pub activity: Activity,
    /// For how long it has been at it.
    pub for_ms: u64,
    pub served: u64,
    pub request: String,
}

/// One gauge, in a [`Snapshot`]: its limit is `null` when it has none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GaugeValue {
    pub name: &'static str,
    pub value: usize,
    pub limit: Option<usize>,
}

/// The counters, in a [`Snapshot`], under the names scripts read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub requests: u64,
    pub bytes: u64,
    #[serde(rename = "4xx")]
    pub client_errors: u64,
    #[serde(rename = "5xx")]
    pub server_errors: u64,
    /// Of the `5xx`, the `503`s.
    #[serde(rename = "503")]
    pub unavailable: u64,
    /// Responses that could not be sent whole, and requests given up on.
    pub failed: u64,
}

/// An activity is written as the name the page and scripts know it by.
impl Serialize for Activity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

static STAGE: OnceLock<Stage> = OnceLock::new();

/// What every thread is doing now, and the gauges and counters.
pub fn snapshot() -> Snapshot {
    let now = millis();
    let mut threads: Vec<ThreadState> = {
        let mut board = lock(&BOARD);
        board.retain(|slot| slot.strong_count() > 0);
        board
            .iter()
            .filter_map(Weak::upgrade)
            .map(|slot| ThreadState {
                name: slot.name.clone(),
                activity: Activity::from_u8(slot.activity.load(Ordering::Relaxed)),
                for_ms: now.saturating_sub(slot.since.load(Ordering::Relaxed)),
                served: slot.served.load(Ordering::Relaxed),
                request: lock(&slot.request).clone(),
            })
            .collect()
    };
    threads.sort_by_key(|thread| sort_key(&thread.name));
    let gauges = {
        let mut gauges = lock(&GAUGES);
        let mut shown = Vec::new();
        gauges.retain(|gauge| match (gauge.measure)() {
            Some(value) => {
                shown.push(GaugeValue {
                    name: gauge.name,
                    value,
                    limit: gauge.limit,
                });
                true
            }
            None => false,
        });
        shown
    };
    let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    Snapshot {
        stage: STAGE.get().map_or("", |stage| stage.name()),
        uptime_ms: now,
        threads,
        gauges,
        counters: Counts {
            requests: get(&COUNTERS.requests),
            bytes: get(&COUNTERS.bytes),
            client_errors: get(&COUNTERS.client_errors),
            server_errors: get(&COUNTERS.server_errors),
            unavailable: get(&COUNTERS.unavailable),
            failed: get(&COUNTERS.failed),
        },
    }
}

/// `main` first, then by name with numbers in order: `worker-2` before `worker-10`.
fn sort_key(name: &str) -> (bool, String, usize) {
    match name.rsplit_once('-') {
        Some((prefix, number)) if number.parse::<usize>().is_ok() => (
            name != "main",
            prefix.to_owned(),
            number.parse().unwrap_or(0),
        ),
        _ => (name != "main", name.to_owned(), 0),
    }
}

impl Snapshot {
    /// The snapshot as one JSON object (what `/_status?json` answers).
    pub fn to_json(&self) -> String {
        // Strings, numbers, lists and maps with string keys: nothing here
        // that serde_json cannot write.
        serde_json::to_string(self).expect("a snapshot is always JSON")
    }
}

// ---------------------------------------------------------------------------
// Serving the view

/// The page: plain HTML and a few lines of JavaScript that ask for the JSON
/// every half second and draw it.
pub const PAGE: &str = include_str!("status.html");

/// The path of the view on its own port (`?json` for the JSON).
pub const PATH: &str = "/_status";

/// How long a client of the view may take to send its request.
const TIMEOUT: Duration = Duration::from_secs(2);
/// At most this many clients of the view at once; more are closed at once.
const MAX_CLIENTS: usize = 8;

/// Turns the view on for `stage`, and serves it on `listener` from a thread of
/// its own, named `status`. Call it on the thread that will run the stage,
/// before the stage starts: that thread is shown accepting (or, in
/// `keep-alive`, waiting in the readiness loop).
pub fn start(listener: TcpListener, stage: Stage) -> io::Result<()> {
    let _ = STAGE.set(stage);
    let _ = STARTED.set(Instant::now());
    ON.store(true, Ordering::Relaxed);
    set(match stage {
        Stage::KeepAlive => Activity::Polling,
        _ => Activity::Accepting,
    });
    thread::Builder::new()
        .name("status".into())
        .spawn(move || serve(&listener))?;
    Ok(())
}

/// Accepts clients of the view, each served on a short-lived thread of its own
/// so that one slow client (a browser's idle pre-connection) never stalls it.
/// These threads never report, so the view does not show itself.
fn serve(listener: &TcpListener) {
    let clients = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if clients.fetch_add(1, Ordering::Relaxed) >= MAX_CLIENTS {
            clients.fetch_sub(1, Ordering::Relaxed);
            continue; // dropped, so closed
        }
        let clients = Arc::clone(&clients);
        let spawned = thread::Builder::new()
            .name("status-client".into())
            .spawn(move || {
                let _ = answer(&stream);
                clients.fetch_sub(1, Ordering::Relaxed);
            });
        if let Err(error) = spawned {
            log::error(format_args!("no thread for the status view: {error}"));
        }
    }
}

/// Reads one request and answers it: the page, the JSON, or `404`.
fn answer(mut stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut session = Session::new(Limits::default());
    let mut chunk = [0; 4096];
    let request = loop {
        match session.next_event() {
            Event::NeedMore => match stream.read(&mut chunk)? {
                0 => session.receive_eof(),
                n => session.receive(&chunk[..n]),
            },
            Event::Request(request) => break Some(request),
            Event::Error(_) | Event::Closed => break None,
        }
    };
    let Some(request) = request else {
        return Ok(());
    };
    let response = match request.target.as_str() {
        PATH => page("text/html; charset=utf-8", PAGE.into()),
        "/_status?json" => page("application/json", snapshot().to_json()),
        _ => Response::page(StatusCode::NOT_FOUND, "The status view is at /_status."),
    };
    let outgoing = session.respond(response)?;
    stream.write_all(&outgoing.bytes)
}

fn page(content_type: &'static str, body: String) -> Response {
    Response {
        status: StatusCode::OK,
        content_type: Some(content_type),
        last_modified: None,
        // A snapshot is stale the moment it is sent.
        extra_headers: vec![("Cache-Control", "no-store".into())],
        body: Body::Bytes(body.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_sort_main_first_then_by_number() {
        let mut names = ["worker-10", "status", "worker-2", "main", "client-1"];
        names.sort_by_key(|name| sort_key(name));
        assert_eq!(
            names,
            ["main", "client-1", "status", "worker-2", "worker-10"]
        );
    }

    #[test]
    fn every_activity_survives_the_round_trip_through_a_byte() {
        for activity in Activity::ALL {
            assert_eq!(Activity::from_u8(activity as u8), activity);
        }
    }

    /// A snapshot's JSON is well formed: numbers bare, names quoted and
    /// escaped, limits `null` when there are none, and the names that
    /// `status.html`, the tests and the book's transcripts read.
    #[test]
    fn a_snapshot_is_written_as_json() {
        let snapshot = Snapshot {
            stage: "thread-pool",
            uptime_ms: 5,
            threads: vec![ThreadState {
                name: "worker-0".into(),
                activity: Activity::Writing,
                for_ms: 7,
                served: 2,
                request: "GET /a\"b\\\u{1} HTTP/1.1".into(),
            }],
            gauges: vec![
                GaugeValue {
                    name: "queued",
                    value: 3,
                    limit: Some(16),
                },
                GaugeValue {
                    name: "idle connections",
                    value: 9,
                    limit: None,
                },
            ],
            counters: Counts {
                requests: 10,
                bytes: 2048,
                client_errors: 1,
                server_errors: 2,
                unavailable: 2,
                failed: 0,
            },
        };
        assert_eq!(
            snapshot.to_json(),
            "{\"stage\":\"thread-pool\",\"uptime_ms\":5,\"threads\":[{\"name\":\"worker-0\",\
             \"doing\":\"writing\",\"for_ms\":7,\"served\":2,\"request\":\"GET /a\\\"b\\\\\\u0001 HTTP/1.1\"}],\
             \"gauges\":[{\"name\":\"queued\",\"value\":3,\"limit\":16},\
             {\"name\":\"idle connections\",\"value\":9,\"limit\":null}],\
             \"counters\":{\"requests\":10,\"bytes\":2048,\"4xx\":1,\"5xx\":2,\"503\":2,\"failed\":0}}"
        );
    }

    /// Every activity is written by its name, as the page colours it.
    #[test]
    fn every_activity_is_written_as_its_name() {
        for activity in Activity::ALL {
            let json = serde_json::to_string(&activity).unwrap();
            assert_eq!(json, format!("\"{}\"", activity.as_str()));
        }
    }
}
