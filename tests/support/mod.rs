//! Helpers shared by the stage tests: a fixture site on disk, the real binary
//! started on `127.0.0.1:0`, and raw-socket clients.
//!
//! Tests talk to the server the way a browser or `curl` would: bytes over a real
//! TCP connection, bytes back. They start the real binary (not a function in the
//! test process) so that signals, exit codes, thread and descriptor counts are
//! those of a server a student would run.
//!
//! This is a thin layer over the grader's own tools, which grade the same
//! binary in `tests/grading.rs`: its site (`grade::fixture`), its process
//! control (`grade::process`), its response reader (`grade::response`), its raw
//! reads (`grade::client`) and its random generator (`grade::random`); and, in
//! `hardening`, the `no-traversal` check's payloads.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod hardening;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use grade::client::{self, End};
use grade::fixture::Fixture;
use grade::process::{Process, Signal};
pub use grade::random::Rng;
pub use grade::response::Reply;

/// Long enough for a loaded CI machine; a test that waits this long has failed.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How many more descriptors a server may hold after a load than before it
/// without having leaked any. None on Unix, where every descriptor is the
/// server's own doing. On Windows the count is of handles of every kind, and
/// Winsock and the system's thread pool open a few dozen on first use and
/// keep them; a leak of one a connection, over the hundreds of connections
/// the tests make, still shows.
pub const HANDLE_SLACK: usize = if cfg!(windows) { 32 } else { 0 };

// ---------------------------------------------------------------------------
// The fixture site

/// The grader's site ([`grade::fixture`]), written fresh for each test: random
/// contents, CRLF and non-ASCII text, binary files with every byte value, a
/// sub-folder, an `error.html`, and a secret (the grader's sentinel) beside
/// the root that no request may ever reach. A test that needs more writes it
/// itself, so that what it relies on is in the test.
pub struct Site {
    /// The folder that holds the root and the secret; removed on drop.
    pub dir: PathBuf,
    pub root: PathBuf,
    /// The sentinel beside the root, and its contents.
    pub secret: PathBuf,
    pub secret_text: String,
    /// What the grader wrote; dropping it removes the whole folder.
    pub fixture: Fixture,
}

impl Site {
    pub fn new() -> Site {
        let fixture = Fixture::temporary(false).expect("the grader's site is written");
        let dir = fixture.root.parent().expect("a folder above the root");
        Site {
            dir: dir.to_path_buf(),
            root: fixture.root.clone(),
            secret: fixture.sentinel.clone(),
            secret_text: fixture.sentinel_text.clone(),
            fixture,
        }
    }

    /// The file name of the secret, for targets that climb to it.
    pub fn secret_name(&self) -> String {
        self.fixture.sentinel_name()
    }

    /// Writes `contents` at `path` under the root, making its folders.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let path = self.root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    pub fn read(&self, path: &str) -> Vec<u8> {
        fs::read(self.root.join(path)).unwrap()
    }

    /// Adds a file of `len` random bytes, for downloads that take a while.
    pub fn add_big_file(&self, name: &str, len: usize) -> Vec<u8> {
        let bytes = Rng::new().bytes(len);
        self.write(name, &bytes);
        bytes
    }
}

/// Makes a symbolic link at `link` to `target` (relative to the link's
/// folder, as a symlink's target is). On Windows a symlink needs Developer
/// Mode or an administrator, and Wine reports success and makes none: there
/// the link may be missing, and a test that would go through it checks only
/// that nothing leaks, which still holds. Says so on stderr when it fails.
pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    let (target, link) = (target.as_ref(), link.as_ref());
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(target, link);
    #[cfg(windows)]
    let made = {
        let resolved = link.parent().unwrap_or(Path::new(".")).join(target);
        if resolved.is_dir() || target == Path::new(".") || target.ends_with("..") {
            std::os::windows::fs::symlink_dir(target, link)
        } else {
            std::os::windows::fs::symlink_file(target, link)
        }
    };
    if let Err(error) = made {
        if cfg!(unix) {
            panic!("cannot make the symlink {}: {error}", link.display());
        }
        eprintln!(
            "note: no symlink {} on this system ({error}); tests through it check only that nothing leaks",
            link.display()
        );
    }
}

// ---------------------------------------------------------------------------
// The server under test

/// The real binary, running one stage on a free port. Killed on drop.
pub struct Server {
    process: Process,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `stage` serving `root`, with extra command-line arguments.
    pub fn start(stage: &str, root: &Path, extra: &[&str]) -> Server {
        // The tests are clients of hundreds of connections at once: past a
        // shell's limit on open files (256 on macOS, often 1,024 on Linux)
        // the test itself would fail to connect, as the server would to
        // accept without its own raise.
        static RAISED: std::sync::Once = std::sync::Once::new();
        RAISED.call_once(|| {
            let _ = multithreaded_server::net::raise_open_file_limit();
        });
        let mut command = Command::new(env!("CARGO_BIN_EXE_multithreaded-server"));
        command
            .args(["--stage", stage, "--port", "0", "--root"])
            .arg(root)
            .args(extra)
            .env("NO_COLOR", "1");
        // Every line is kept: tests count what the log says.
        let process = Process::start(command, usize::MAX).expect("the server binary starts");
        let Some(addr) = process.wait_for_output(ready_address, PATIENCE) else {
            panic!("no ready line; log:\n{}", process.output());
        };
        Server { process, addr }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Everything the server printed so far, stdout and stderr.
    pub fn log(&self) -> String {
        self.process.output()
    }

    /// Waits until the log contains `needle` (log lines may trail the response
    /// they describe by a moment); `false` if it never does.
    pub fn log_contains(&self, needle: &str) -> bool {
        let found = self
            .process
            .wait_for_output(|line| line.contains(needle).then_some(()), PATIENCE);
        found.is_some()
    }

    /// Sends a signal by name (`INT`, `TERM`), as Ctrl-C or `kill` would.
    pub fn signal(&self, name: &str) {
        let signal = match name {
            "INT" => Signal::Interrupt,
            "TERM" => Signal::Terminate,
            _ => panic!("no signal {name} for a test to send"),
        };
        self.process.signal(signal).expect("kill runs");
    }

    /// Waits for the process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.process.wait_exit(timeout)
    }

    /// The number of threads the server has now.
    pub fn threads(&self) -> usize {
        self.process
            .threads()
            .expect("threads counted (/proc, proc_pidinfo, Toolhelp32)")
    }

    /// The names of the server's threads now (`main`'s is the program's name
    /// on Linux, `main` elsewhere).
    pub fn thread_names(&self) -> Vec<String> {
        self.process.thread_names().expect("threads named")
    }

    /// The number of open file descriptors the server has now (on Windows,
    /// handles of every kind: see [`HANDLE_SLACK`]).
    pub fn open_fds(&self) -> usize {
        self.process
            .open_descriptors()
            .expect("descriptors counted (/proc, proc_pidinfo, the handle table)")
    }

    /// Waits until the server has no TCP connections open (its listener not
    /// counted), and returns how many it still had at the end; `None` where
    /// they cannot be counted.
    pub fn settle_connections(&self) -> Option<usize> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let open = self.process.open_connections()?;
            if open == 0 || Instant::now() >= deadline {
                return Some(open);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `measure` is at most `limit`, returning the last measurement.
    pub fn settle(&self, limit: usize, measure: impl Fn(&Server) -> usize) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = measure(self);
            if value <= limit || Instant::now() >= deadline {
                return value;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The address in `Listening on http://127.0.0.1:40123/ (stage ...)`.
pub fn ready_address(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("Listening on http://")?;
    rest.split('/').next()?.parse().ok()
}

// ---------------------------------------------------------------------------
// Clients

/// Connects with a timeout suited to a busy machine.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Sends `request` as is and reads until the server closes. Errors in writing are
/// ignored (a server may rightly close before reading everything); what matters
/// is what comes back.
pub fn send_raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    let _ = stream.write_all(request);
    read_to_close(&mut stream)
}

/// Reads until the server closes the connection (or resets it, or times out).
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    client::read_to_close(stream, Instant::now() + PATIENCE).0
}

/// Reads until the server closes the connection, and returns what came; `None`
/// if it was still open after [`PATIENCE`] (the server never let go).
pub fn wait_for_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    match client::read_to_close(stream, Instant::now() + PATIENCE) {
        (_, End::TimedOut) => None,
        (bytes, _) => Some(bytes),
    }
}

/// `GET path` with `Connection: close`, parsed.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[])
}

/// One request with extra header lines, parsed; panics if no response came.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[&str]) -> Reply {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    let bytes = send_raw(addr, text.as_bytes());
    parse_reply_to(method, &bytes).unwrap_or_else(|| {
        panic!(
            "no response to {method} {path}; got {:?}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

/// Parses one response; `None` if the bytes are not one (nothing at all, say).
/// The body is everything the server sent after the head (decoded, were it
/// chunked): a byte beyond what `Content-Length` promised is a bug the tests
/// must see, so [`Reply::body`] is checked against `Content-Length` by the
/// tests, not trusted.
pub fn parse_reply(bytes: &[u8]) -> Option<Reply> {
    parse_reply_to("GET", bytes)
}

/// [`parse_reply`] for the response to a `method` request.
fn parse_reply_to(method: &str, bytes: &[u8]) -> Option<Reply> {
    let mut reply = Reply::parse(bytes, method, true)?;
    let mut excess = std::mem::take(&mut reply.excess);
    reply.body.append(&mut excess);
    Some(reply)
}

/// Checks a 200 response carrying exactly `expected`, with a true length and type.
pub fn assert_file(reply: &Reply, expected: &[u8], content_type: &str) {
    assert_eq!(reply.head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(reply.header("Content-Type"), Some(content_type));
    assert_eq!(
        reply.header("Content-Length"),
        Some(expected.len().to_string().as_str()),
        "Content-Length counts bytes"
    );
    assert_eq!(reply.header("Connection"), Some("close"));
    assert!(
        reply.body == expected,
        "the body is the file, byte for byte"
    );
}

/// `count` clients at once, each on its own connection, all of which must get
/// `data.bin` byte-exact.
pub fn assert_concurrent_clients(addr: SocketAddr, site: &Site, count: usize) {
    let expected = Arc::new(site.read("data.bin"));
    let clients: Vec<_> = (0..count)
        .map(|_| {
            let expected = Arc::clone(&expected);
            thread::spawn(move || {
                let reply = get(addr, "/data.bin");
                reply.head.status == 200 && reply.body == *expected
            })
        })
        .collect();
    let served = clients
        .into_iter()
        .map(|client| client.join().unwrap_or(false))
        .filter(|served| *served)
        .count();
    assert_eq!(served, count, "every client got the whole file");
}

/// With one client connected and silent, asks for a page on a second connection
/// and returns the response if it came within `window`, keeping the idle client
/// open all the while.
pub fn request_while_idle_client_waits(addr: SocketAddr, window: Duration) -> Option<Reply> {
    let idle = connect(addr);
    let mut other = connect(addr);
    let request = b"GET /index.html HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    let exchange = client::exchange_on(&mut other, request, Instant::now() + window);
    drop(idle);
    parse_reply(&exchange.received)
}

/// Downloads `path` while sending `signal` to the server half-way through, and
/// returns the promised length and the bytes that arrived.
pub fn download_across_signal(server: &Server, path: &str, signal: &str) -> (usize, Vec<u8>) {
    let mut stream = connect(server.addr);
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    let mut bytes = Vec::new();
    let mut chunk = [0; 65536];
    let mut signalled = false;
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
        // Half-way: far more is left than the socket buffers hold, so the
        // server is certainly still sending when the signal lands.
        if !signalled && bytes.len() > 8 * 1024 * 1024 {
            server.signal(signal);
            signalled = true;
        }
    }
    assert!(signalled, "the download was long enough to interrupt");
    let reply = parse_reply(&bytes).expect("a response head");
    let promised = reply.header("Content-Length").unwrap().parse().unwrap();
    (promised, reply.body)
}
