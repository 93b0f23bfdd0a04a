//! Making the listening socket, with a backlog of our choosing.
//!
//! `TcpListener::bind` does socket, bind and listen in one call, with a
//! backlog fixed by the standard library. The backlog is how many connections
//! the kernel will finish accepting on our behalf while the program is busy
//! elsewhere; past it, a new client's handshake is ignored and the client tries
//! again after a second. The report called `listen(5)`, a number from the days
//! of tiny servers, and the book measures what that costs.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

use crate::platform;

/// The backlog when none is given: what most servers use (nginx uses 511).
pub const DEFAULT_BACKLOG: u32 = 128;

/// A listening socket on `address`, with room for `backlog` connections that
/// have completed their handshake but not yet been accepted.
pub fn listen(address: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // As the standard library does: a restarted server can bind its port at
    // once, without waiting for old connections' TIME_WAIT to pass.
    platform::reuse_address(&socket)?;
    socket.bind(&address.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// Raised at start, so that the listener can hand out more connections than
/// a shell's default limit on open files allows (see the function's own docs).
pub use crate::platform::raise_open_file_limit;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens_on_a_free_port() {
        let listener = listen("127.0.0.1:0".parse().unwrap(), 5).unwrap();
        let address = listener.local_addr().unwrap();
        assert_ne!(address.port(), 0);
        assert!(std::net::TcpStream::connect(address).is_ok());
    }

    #[test]
    fn a_port_in_use_is_an_error() {
        let taken = listen("127.0.0.1:0".parse().unwrap(), 5).unwrap();
        let address = taken.local_addr().unwrap();
        assert_eq!(
            listen(address, 5).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
    }
}
