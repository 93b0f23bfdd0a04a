//! What sending a file one byte at a time costs, as the report's server did
//! (`for i in range(0, len(outputdata)): connectionSocket.send(outputdata[i])`).
//!
//! ```sh
//! cargo run --release --example byte_at_a_time
//! ```
//!
//! A server sends the same 1 MiB four ways to a client that reads it all: one
//! `write` per byte, `write_all` of the whole buffer, `std::io::copy` from the
//! file (8 KiB read, 8 KiB written, 128 times), and the server's own
//! `platform::send_file`, which on Linux is `sendfile`: the kernel copies the file to
//! the socket and the bytes never pass through the program. Each `write` is a
//! system call, and a system call costs far more than copying one byte.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use multithreaded_server::platform;

const SIZE: usize = 1024 * 1024;

#[derive(Clone, Copy)]
enum Send {
    ByteAtATime,
    WriteAll,
    Copy,
    Sendfile,
}

fn main() -> std::io::Result<()> {
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
    let path = std::env::temp_dir().join(format!("byte-at-a-time-{}.bin", std::process::id()));
    std::fs::write(&path, &data)?;
    println!("sending 1 MiB over loopback, four ways\n");
    for (label, how) in [
        ("one write per byte (the report's loop)", Send::ByteAtATime),
        ("write_all of the whole buffer", Send::WriteAll),
        ("io::copy from the file", Send::Copy),
        ("sendfile, as the server does", Send::Sendfile),
    ] {
        let took = transfer(how, &data, &path)?;
        println!(
            "{label:<40} {:>9.1} ms {:>9.2} MiB/s",
            took.as_secs_f64() * 1000.0,
            1.0 / took.as_secs_f64()
        );
    }
    std::fs::remove_file(&path)?;
    Ok(())
}

fn transfer(how: Send, data: &[u8], path: &std::path::Path) -> std::io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let data = data.to_vec();
    let path = path.to_path_buf();
    let started = Instant::now();
    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        match how {
            Send::ByteAtATime => {
                for byte in &data {
                    stream.write_all(std::slice::from_ref(byte))?;
                }
            }
            Send::WriteAll => stream.write_all(&data)?,
            Send::Copy => {
                std::io::copy(&mut File::open(&path)?, &mut stream)?;
            }
            Send::Sendfile => {
                platform::send_file(&stream, &File::open(&path)?, SIZE as u64, || Ok(()))?;
            }
        }
        Ok(())
    });
    let mut client = TcpStream::connect(address)?;
    let mut received = Vec::with_capacity(SIZE);
    client.read_to_end(&mut received)?;
    let took = started.elapsed();
    server.join().expect("the server thread")?;
    assert_eq!(received.len(), SIZE, "every byte arrived");
    Ok(took)
}
