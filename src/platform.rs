//! What differs from one operating system to another, in one place.
//!
//! The standard library keeps its per-OS code behind one interface (`sys/`), and
//! so does mio (`src/sys/`); this module does the same for the few things the
//! server needs beyond them, so that no stage file carries a `#[cfg]`:
//!
//! | | Linux | macOS and other Unix | Windows |
//! |---|---|---|---|
//! | [`raise_open_file_limit`] | soft limit up to the hard one | the same, at most `OPEN_MAX` on macOS | nothing to raise: no per-process socket limit |
//! | [`send_file`] | `sendfile(2)`: the kernel copies | read into a buffer, write it out | read into a buffer, write it out |
//! | [`is_out_of_descriptors`] | `EMFILE`, `ENFILE` | `EMFILE`, `ENFILE` | `WSAEMFILE`, `WSAENOBUFS` |
//! | [`reuse_address`] | `SO_REUSEADDR` | `SO_REUSEADDR` | not set: there it would let another process take the port |
//! | [`SHORT_READ_DRAINS`] | yes: epoll reports each arrival | yes: kqueue does too | no: mio re-arms its poll only after `WouldBlock` |
//!
//! What this module does not need to cover: the readiness API of `keep-alive`
//! (epoll, kqueue, or AFD on Windows) is mio's job, and Ctrl-C (SIGINT and
//! SIGTERM, or the console's Ctrl-C event) is the `ctrlc` crate's.

use std::fs::File;
use std::io;
use std::net::TcpStream;

use socket2::Socket;

/// Raises this process's soft limit on open files as far as it may go.
///
/// Every connection costs a descriptor. Many systems start a process with a
/// soft limit of 1024, and macOS shells with 256, fewer than the thousand idle
/// connections the `keep-alive` stage is built to hold; past it, `accept` fails
/// with "too many open files". A process may raise its own soft limit up to the
/// hard one: Go's runtime does so for every program, nginx with
/// `worker_rlimit_nofile`.
#[cfg(unix)]
pub fn raise_open_file_limit() -> io::Result<()> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return Ok(());
    }
    limit.current = limit.maximum;
    // macOS refuses a soft limit above `kern.maxfilesperproc` (and so an
    // unlimited one), and its man page says to use at most `OPEN_MAX`
    // instead. (Go reads `kern.maxfilesperproc` with `sysctl`, a call std and
    // rustix do not wrap.)
    if cfg!(target_os = "macos") && setrlimit(Resource::Nofile, limit).is_err() {
        const OPEN_MAX: u64 = 10_240;
        limit.current = Some(limit.maximum.map_or(OPEN_MAX, |max| max.min(OPEN_MAX)));
    }
    Ok(setrlimit(Resource::Nofile, limit)?)
}

/// Windows has no per-process limit on sockets to raise.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> io::Result<()> {
    Ok(())
}

/// Whether a read from a non-blocking socket that returned fewer bytes than
/// it asked for may be taken to mean the socket is drained, so that the next
/// read is made only once the poller says more has come, as nginx does.
///
/// mio registers sockets edge-triggered, with epoll on Linux and kqueue on
/// macOS and the BSDs: every new arrival is reported, whether the socket was
/// read to `WouldBlock` or not. On Windows mio polls through AFD, and asks
/// again only when a read or write of its own has seen `WouldBlock`: a socket
/// taken for drained without one would never be reported again.
pub const SHORT_READ_DRAINS: bool = cfg!(unix);

/// Whether `accept` failed because the process or the system is out of
/// descriptors (or, on Windows, of socket buffers). The connection then stays
/// queued, and an accept loop that retried at once would spin.
pub fn is_out_of_descriptors(error: &io::Error) -> bool {
    #[cfg(unix)]
    let codes = [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE].map(|e| e.raw_os_error());
    // Winsock's codes, from `winerror.h`.
    #[cfg(windows)]
    let codes = [10024 /* WSAEMFILE */, 10055 /* WSAENOBUFS */];
    #[cfg(not(any(unix, windows)))]
    let codes: [i32; 0] = [];
    error
        .raw_os_error()
        .is_some_and(|code| codes.contains(&code))
}

/// Lets a restarted server bind its port at once, without waiting for old
/// connections' `TIME_WAIT` to pass, as the standard library's `bind` does.
/// On Windows `SO_REUSEADDR` means something else, binding a port another
/// socket is listening on, so there (as in std) it is left off.
pub fn reuse_address(socket: &Socket) -> io::Result<()> {
    if cfg!(windows) {
        Ok(())
    } else {
        socket.set_reuse_address(true)
    }
}

// ANCHOR: send_file
/// Sends `len` bytes of `file` to `socket`, calling `before_each` before every
/// call that may wait for the client (the blocking connection uses it to keep
/// the whole response within its deadline). Returns how many bytes were sent:
/// fewer only if the file is shorter than that now.
///
/// On Linux, `sendfile(2)`: the kernel copies from the file's pages to the
/// socket itself. Without it, a 1 MiB file costs 128 `read`s and 128 `write`s
/// of 8 KiB, and every byte is copied into this process and out again (that is
/// what `io::copy` from a `File` to a `TcpStream` does, as `strace` shows with
/// Rust 1.95).
///
/// A piece is 64 KiB because that is how much the kernel moves at a time
/// inside one `sendfile` call, and the socket's write timeout starts afresh for
/// each such move: one call for a whole large file could wait far longer than
/// the timeout, for a client that reads a little now and then.
#[cfg(target_os = "linux")]
pub fn send_file(
    socket: &TcpStream,
    file: &File,
    len: u64,
    mut before_each: impl FnMut() -> io::Result<()>,
) -> io::Result<u64> {
    let mut sent = 0;
    while sent < len {
        before_each()?;
        let piece = (len - sent).min(PIECE as u64) as usize;
        match rustix::fs::sendfile(socket, file, None, piece) {
            Ok(0) => break, // the file is shorter than it was
            Ok(n) => sent += n as u64,
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(sent)
}
// ANCHOR_END: send_file

/// Elsewhere, through a buffer (macOS has a `sendfile` of its own, with other
/// arguments; Windows has `TransmitFile`; neither is wrapped by a safe crate).
#[cfg(not(target_os = "linux"))]
pub fn send_file(
    socket: &TcpStream,
    file: &File,
    len: u64,
    before_each: impl FnMut() -> io::Result<()>,
) -> io::Result<u64> {
    copy_through_buffer(socket, file, len, before_each)
}

/// How much of a file is read, or handed to `sendfile`, at a time.
const PIECE: usize = 64 * 1024;

/// [`send_file`] for systems without `sendfile`: read a piece, write it out.
/// Built everywhere, so that its test runs on Linux too.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn copy_through_buffer(
    mut socket: &TcpStream,
    mut file: &File,
    len: u64,
    mut before_each: impl FnMut() -> io::Result<()>,
) -> io::Result<u64> {
    use std::io::{Read, Write};
    let mut buffer = vec![0; PIECE];
    let mut sent = 0;
    while sent < len {
        let want = (len - sent).min(PIECE as u64) as usize;
        let read = match file.read(&mut buffer[..want]) {
            Ok(0) => break, // the file is shorter than it was
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let mut written = 0;
        while written < read {
            before_each()?;
            match socket.write(&buffer[written..read]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        sent += read as u64;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// A file of `len` bytes, every byte value in turn; removed once open.
    fn file_of(len: usize) -> (File, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let path = std::env::temp_dir().join(format!("platform-{}-{len}.bin", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (file, bytes)
    }

    /// A way to send a file: [`send_file`] or [`copy_through_buffer`].
    type Send = fn(&TcpStream, &File, u64) -> io::Result<u64>;

    /// Sends with `send`, and returns what the client received, the count
    /// `send` returned, and the file's bytes.
    fn over_a_socket(len: usize, promised: u64, send: Send) -> (Vec<u8>, u64, Vec<u8>) {
        let (file, bytes) = file_of(len);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let sender = std::thread::spawn(move || send(&server, &file, promised).unwrap());
        let mut received = Vec::new();
        client.read_to_end(&mut received).unwrap();
        (received, sender.join().unwrap(), bytes)
    }

    /// Both ways of sending a file send it whole, a byte count that is not a
    /// multiple of a piece included, and stop early at the end of a file that
    /// is shorter than promised.
    #[test]
    fn a_file_is_sent_whole_by_sendfile_and_through_a_buffer() {
        let ways: [Send; 2] = [
            |socket, file, len| send_file(socket, file, len, || Ok(())),
            |socket, file, len| copy_through_buffer(socket, file, len, || Ok(())),
        ];
        for send in ways {
            let len = 3 * PIECE + 123;
            let (received, sent, bytes) = over_a_socket(len, len as u64, send);
            assert_eq!(sent, len as u64);
            assert!(received == bytes, "the bytes arrive as they are");

            let (received, sent, _) = over_a_socket(1000, 5000, send);
            assert_eq!((sent, received.len()), (1000, 1000));
        }
    }

    /// `before_each` can stop a transfer (it is how a deadline does).
    #[test]
    fn before_each_can_end_the_transfer() {
        let (file, _) = file_of(PIECE * 2);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut calls = 0;
        let stop = || {
            calls += 1;
            Err(io::ErrorKind::TimedOut.into())
        };
        let error = send_file(&server, &file, PIECE as u64 * 2, stop).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(calls, 1, "nothing is sent after the first refusal");
    }

    #[test]
    fn running_out_of_descriptors_is_told_apart() {
        #[cfg(unix)]
        let (out, other) = (
            rustix::io::Errno::MFILE.raw_os_error(),
            rustix::io::Errno::CONNABORTED.raw_os_error(),
        );
        #[cfg(windows)]
        let (out, other) = (10024, 10053);
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(out)));
        assert!(!is_out_of_descriptors(&io::Error::from_raw_os_error(other)));
        assert!(!is_out_of_descriptors(&io::ErrorKind::WouldBlock.into()));
    }

    /// On Unix, the soft limit ends at the hard one (the keep-alive tests
    /// start the server with a soft limit of 64 and check it is raised).
    #[cfg(unix)]
    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        use rustix::process::{Resource, getrlimit};
        raise_open_file_limit().unwrap();
        let limit = getrlimit(Resource::Nofile);
        if !cfg!(target_os = "macos") {
            assert_eq!(limit.current, limit.maximum);
        }
    }
}
