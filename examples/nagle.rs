//! Nagle's algorithm meets delayed ACKs: why a response written in two small
//! pieces can take 40 ms, and why `TCP_NODELAY` (or one write) fixes it.
//!
//! ```sh
//! cargo run --release --example nagle
//! ```
//!
//! A tiny server answers 200 requests, one after the other, on one kept-alive
//! connection, writing each response as its head and then its body. With
//! Nagle's algorithm on (the default), the body waits until the head has been
//! acknowledged; the client, which has nothing to send until it has the whole
//! response, delays that acknowledgement (about 40 ms on Linux). The same
//! exchange with `TCP_NODELAY`, or with head and body in one write, runs at full
//! speed. The server in `src/` does both.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const REQUESTS: usize = 200;
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n";
const BODY: &[u8] = b"hello world\n";

#[derive(Clone, Copy)]
enum Writes {
    /// Head, then body: two `write` calls.
    Two,
    /// Head and body together: one `write`.
    One,
}

fn main() -> std::io::Result<()> {
    println!(
        "{REQUESTS} requests on one connection, each answered by a {}-byte head and a {}-byte body\n",
        HEAD.len(),
        BODY.len()
    );
    for (label, writes, nodelay) in [
        ("two writes, Nagle on (the default)", Writes::Two, false),
        ("two writes, TCP_NODELAY", Writes::Two, true),
        ("one write, Nagle on", Writes::One, false),
    ] {
        let took = exchange(writes, nodelay)?;
        let per_second = REQUESTS as f64 / took.as_secs_f64();
        println!(
            "{label:<36} {:>9.3} ms per request {per_second:>9.0} requests/s",
            took.as_secs_f64() * 1000.0 / REQUESTS as f64
        );
    }
    Ok(())
}

/// Runs the server and the client, and returns how long the client took.
fn exchange(writes: Writes, nodelay: bool) -> std::io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_nodelay(nodelay)?;
        let mut request = [0; 1024];
        for _ in 0..REQUESTS {
            read_request(&mut stream, &mut request)?;
            match writes {
                Writes::Two => {
                    stream.write_all(HEAD)?;
                    stream.write_all(BODY)?;
                }
                Writes::One => stream.write_all(&[HEAD, BODY].concat())?,
            }
        }
        Ok(())
    });

    let mut client = TcpStream::connect(address)?;
    let started = Instant::now();
    let mut response = vec![0; HEAD.len() + BODY.len()];
    for _ in 0..REQUESTS {
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
        client.read_exact(&mut response)?;
    }
    let took = started.elapsed();
    server.join().expect("the server thread")?;
    Ok(took)
}

/// Reads one request head (this client's requests are all the same size).
fn read_request(stream: &mut TcpStream, buffer: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while !buffer[..filled].ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut buffer[filled..])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
    }
    Ok(())
}
