//! Stopping a server cleanly: a shared "please stop" flag that can wake a thread
//! blocked in `accept`, a count of the clients still being served, and (with the
//! `daemon-join` feature) the Ctrl-C and SIGTERM handler that pulls the flag.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A request to stop, shared by the signal handler and the accept loop.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

#[derive(Debug, Default)]
struct ShutdownInner {
    requested: AtomicBool,
    /// Addresses of listeners to wake when a stop is requested.
    listeners: Mutex<Vec<SocketAddr>>,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    // ANCHOR: request
    /// Asks every watched accept loop to stop.
    ///
    /// A thread blocked in `accept` does not look at flags, so after setting it we
    /// connect to each watched listener ourselves: `accept` returns that connection,
    /// and the loop sees the flag. (A real server would use a readiness loop, as the
    /// `keep-alive` stage does; this trick needs nothing but `std`.)
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        let listeners = self
            .inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for address in listeners {
            let _ = TcpStream::connect_timeout(&reachable(address), Duration::from_secs(1));
        }
    }
    // ANCHOR_END: request

    /// Registers a listener to be woken by [`Shutdown::request`]. Call it before
    /// the accept loop starts, and check [`Shutdown::is_requested`] after every
    /// `accept`.
    pub fn watch(&self, listener: &TcpListener) -> io::Result<()> {
        let address = listener.local_addr()?;
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(address);
        Ok(())
    }
}

/// A listener bound to "every address" is reached through loopback.
fn reachable(address: SocketAddr) -> SocketAddr {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, address.port())
}

/// Counts clients being served, so that shutdown can wait for the count to reach
/// zero, with a deadline, without polling.
#[derive(Clone, Debug, Default)]
pub struct InFlight {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

/// Held while a client is being served; dropping it (even in a panic) counts the
/// client out.
#[derive(Debug)]
pub struct InFlightGuard {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

impl InFlight {
    pub fn new() -> InFlight {
        InFlight::default()
    }

    /// Counts one more client in.
    pub fn enter(&self) -> InFlightGuard {
        let (count, _) = &*self.inner;
        *count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        InFlightGuard {
            inner: Arc::clone(&self.inner),
        }
    }

    /// How many are in flight now.
    pub fn count(&self) -> usize {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no client is left or `timeout` has passed, and returns how many
    /// are still in flight.
    pub fn wait_until_idle(&self, timeout: Duration) -> usize {
        let (count, changed) = &*self.inner;
        let deadline = Instant::now() + timeout;
        let mut left = count.lock().unwrap_or_else(PoisonError::into_inner);
        while *left > 0 {
            let Some(remaining) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            left = changed
                .wait_timeout(left, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *left
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let (count, changed) = &*self.inner;
        *count.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        changed.notify_all();
    }
}

/// Makes Ctrl-C (SIGINT) and SIGTERM request a graceful stop; a second one
/// exits at once, for when the clients being waited for will never finish.
///
/// Without this, stages 1 to 3 keep the default: the signal kills the process
/// wherever it is, in the middle of a response if one is being sent.
#[cfg(feature = "daemon-join")]
pub fn on_signals(shutdown: Shutdown) -> Result<(), ctrlc::Error> {
    let signals = std::sync::atomic::AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if signals.fetch_add(1, Ordering::SeqCst) == 0 {
            crate::log::info("shutting down: not accepting new clients (Ctrl-C again to quit now)");
            shutdown.request();
        } else {
            crate::log::error("second signal: exiting without waiting");
            std::process::exit(130);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn request_wakes_a_thread_blocked_in_accept() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let shutdown = Shutdown::new();
        shutdown.watch(&listener).unwrap();
        let waiter = {
            let shutdown = shutdown.clone();
            thread::spawn(move || {
                let _ = listener.accept();
                shutdown.is_requested()
            })
        };
        shutdown.request();
        assert!(
            waiter.join().unwrap(),
            "accept returned and the flag was set"
        );
    }

    #[test]
    fn in_flight_counts_down_and_waits_with_a_deadline() {
        let in_flight = InFlight::new();
        let guard = in_flight.enter();
        let stuck = in_flight.enter();
        let worker = thread::spawn(move || drop(guard));
        worker.join().unwrap();
        assert_eq!(in_flight.wait_until_idle(Duration::from_millis(50)), 1);
        drop(stuck);
        assert_eq!(in_flight.wait_until_idle(Duration::from_secs(60)), 0);
    }
}
