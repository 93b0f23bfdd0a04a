//! Sockets: what every stage and every test does, and what stage 6 does with mio.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::{Context, Seen, differs, ensure, works};

const LOCALHOST: &str = "127.0.0.1:0";

/// A connected pair over loopback: (client, server).
fn pair() -> Result<(TcpStream, TcpStream), String> {
    let listener = TcpListener::bind(LOCALHOST).context("bind")?;
    let client =
        TcpStream::connect(listener.local_addr().context("local_addr")?).context("connect")?;
    let (server, _) = listener.accept().context("accept")?;
    Ok((client, server))
}

/// An error's kind and the OS's own code for it, which differ between Windows
/// (WSAETIMEDOUT, 10060) and Linux (EAGAIN, 11) for the same event.
fn describe(error: &io::Error) -> String {
    format!("{:?} (os error {:?})", error.kind(), error.raw_os_error())
}

pub fn loopback() -> Seen {
    let listener = TcpListener::bind(LOCALHOST).context("bind")?;
    let address = listener.local_addr().context("local_addr")?;
    ensure(address.port() != 0, || "port 0 was not replaced".into())?;
    let mut client = TcpStream::connect(address).context("connect")?;
    let (mut server, peer) = listener.accept().context("accept")?;
    ensure(
        peer == client.local_addr().context("client address")?,
        || format!("accept saw {peer}, the client is elsewhere"),
    )?;
    client.write_all(b"ping").context("client write")?;
    let mut buf = [0; 4];
    server.read_exact(&mut buf).context("server read")?;
    server.write_all(b"pong").context("server write")?;
    let mut back = [0; 4];
    client.read_exact(&mut back).context("client read")?;
    ensure(&buf == b"ping" && &back == b"pong", || {
        "the bytes changed".into()
    })?;
    works(format!("listening on {address}, bytes went both ways"))
}

pub fn read_timeout() -> Seen {
    let (_client, mut server) = pair()?;
    server
        .set_read_timeout(Some(Duration::from_millis(200)))
        .context("set_read_timeout")?;
    let started = Instant::now();
    let error = match server.read(&mut [0; 1]) {
        Ok(n) => return Err(format!("read returned {n} bytes from a silent client")),
        Err(error) => error,
    };
    let waited = started.elapsed();
    ensure(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(10),
        || format!("gave up after {waited:?}, not about 200 ms"),
    )?;
    ensure(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        || format!("gave up with {}", describe(&error)),
    )?;
    // Windows says TimedOut where Linux says WouldBlock: code that matches
    // only one of them works on one system only.
    works(format!(
        "gave up after {} ms with {}",
        waited.as_millis(),
        describe(&error)
    ))
}

pub fn write_timeout() -> Seen {
    // The server never reads: once the buffers on both sides are full, a
    // write must wait, and give up after the timeout.
    let (mut client, _server) = pair()?;
    client
        .set_write_timeout(Some(Duration::from_millis(200)))
        .context("set_write_timeout")?;
    let chunk = vec![b'x'; 64 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    let error = loop {
        match client.write(&chunk) {
            Ok(n) => sent += n,
            Err(error) => break error,
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "sent {sent} bytes in 20 s to a client that never reads"
            ));
        }
    };
    ensure(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        || format!("after {sent} bytes: {}", describe(&error)),
    )?;
    works(format!(
        "{} KiB went into the buffers, then the write gave up with {}",
        sent / 1024,
        describe(&error)
    ))
}

pub fn shutdown_write() -> Seen {
    let (mut client, mut server) = pair()?;
    client.write_all(b"request").context("write")?;
    client.shutdown(Shutdown::Write).context("shutdown")?;
    let mut request = Vec::new();
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .context("set_read_timeout")?;
    server
        .read_to_end(&mut request)
        .context("read to the end")?;
    ensure(request == b"request", || format!("read {request:?}"))?;
    // The other direction is still open.
    server.write_all(b"response").context("write back")?;
    drop(server);
    let mut response = Vec::new();
    client
        .read_to_end(&mut response)
        .context("read the response")?;
    ensure(response == b"response", || {
        format!("read back {response:?}")
    })?;
    works("the server read to the end, and could still answer".into())
}

pub fn nonblocking() -> Seen {
    let listener = TcpListener::bind(LOCALHOST).context("bind")?;
    listener.set_nonblocking(true).context("set_nonblocking")?;
    let accepted = listener.accept().map(|_| ());
    let Err(error) = accepted else {
        return Err("accept returned a connection nobody made".into());
    };
    ensure(error.kind() == ErrorKind::WouldBlock, || {
        format!("accept: {}", describe(&error))
    })?;
    let (_client, mut server) = pair()?;
    server.set_nonblocking(true).context("set_nonblocking")?;
    let Err(read) = server.read(&mut [0; 1]) else {
        return Err("read returned from a silent client".into());
    };
    ensure(read.kind() == ErrorKind::WouldBlock, || {
        format!("read: {}", describe(&read))
    })?;
    works("accept and read say WouldBlock".into())
}

pub fn many_connections() -> Seen {
    const N: usize = 1000;
    let listener = TcpListener::bind(LOCALHOST).context("bind")?;
    let address = listener.local_addr().context("local_addr")?;
    let mut pairs = Vec::with_capacity(N);
    for i in 0..N {
        let client = TcpStream::connect(address).context(&format!("connect #{i}"))?;
        let (server, _) = listener.accept().context(&format!("accept #{i}"))?;
        pairs.push((client, server));
    }
    // Every one of them is a live connection, not just a handle.
    for (i, (client, server)) in pairs.iter_mut().enumerate() {
        client.write_all(&[i as u8]).context("write")?;
        let mut byte = [0];
        server.read_exact(&mut byte).context("read")?;
        ensure(byte[0] == i as u8, || format!("connection {i} mixed up"))?;
    }
    works(format!("{N} pairs open at once, each carried a byte"))
}

pub fn connect_refused() -> Seen {
    let address = TcpListener::bind(LOCALHOST)
        .context("bind")?
        .local_addr()
        .context("local_addr")?;
    // The listener is gone: nothing listens on the port.
    let started = Instant::now();
    let result = TcpStream::connect_timeout(&address, Duration::from_secs(5));
    let waited = started.elapsed().as_millis();
    match result {
        Ok(_) => Err("connected to a port nobody listens on".into()),
        Err(error) if error.kind() == ErrorKind::ConnectionRefused => {
            // Windows tries a refused connection again before it gives up,
            // about 2 s even on loopback, where Linux answers at once: a
            // readiness poll that connects in a loop is slower on Windows
            // than under Wine.
            differs(format!(
                "refused after {waited} ms (Windows takes about 2 s: it retries)"
            ))
        }
        Err(error) => Err(format!("after {waited} ms: {}", describe(&error))),
    }
}

pub fn reuse_address() -> Seen {
    use socket2::{Domain, Protocol, Socket, Type};
    let listen = |address: SocketAddr| -> io::Result<Socket> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&address.into())?;
        socket.listen(5)?;
        Ok(socket)
    };
    let first = listen(LOCALHOST.parse().unwrap()).context("first listener")?;
    let address = first
        .local_addr()
        .context("local_addr")?
        .as_socket()
        .ok_or("not an IP address")?;
    // Windows lets a second socket with SO_REUSEADDR bind a port that another
    // is listening on (SO_EXCLUSIVEADDRUSE is what prevents it); Linux does not.
    match listen(address) {
        Err(error) => differs(format!(
            "the second bind is refused with {}; on Windows it succeeds",
            describe(&error)
        )),
        Ok(_) => works("the second bind succeeds, as on Windows".into()),
    }
}

const LISTENER: mio::Token = mio::Token(0);

pub fn mio_echo() -> Seen {
    use mio::{Events, Interest, Poll, Token};
    use std::collections::HashMap;
    const CLIENTS: usize = 50;

    let mut poll = Poll::new().context("Poll::new")?;
    let mut listener = mio::net::TcpListener::bind(LOCALHOST.parse().unwrap()).context("bind")?;
    let address = listener.local_addr().context("local_addr")?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .context("register the listener")?;

    // The clients are plain blocking sockets on a thread of their own.
    let clients = std::thread::spawn(move || -> Result<usize, String> {
        let mut echoed = 0;
        let mut streams = Vec::new();
        for i in 0..CLIENTS {
            let mut stream = TcpStream::connect(address).context("connect")?;
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .context("set_read_timeout")?;
            stream
                .write_all(format!("{i:04}").as_bytes())
                .context("write")?;
            streams.push((i, stream));
        }
        for (i, stream) in &mut streams {
            let mut back = [0; 4];
            stream.read_exact(&mut back).context("read the echo")?;
            if back == format!("{i:04}").as_bytes() {
                echoed += 1;
            }
        }
        Ok(echoed)
    });

    let mut connections = HashMap::new();
    let mut events = Events::with_capacity(64);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut next = 1;
    while !clients.is_finished() {
        ensure(Instant::now() < deadline, || {
            format!("{} connections after 30 s", connections.len())
        })?;
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .context("poll")?;
        for event in &events {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let token = Token(next);
                            next += 1;
                            poll.registry()
                                .register(&mut stream, token, Interest::READABLE)
                                .context("register a connection")?;
                            connections.insert(token, stream);
                        }
                        Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                        Err(error) => return Err(format!("accept: {error}")),
                    }
                }
            } else if let Some(stream) = connections.get_mut(&event.token()) {
                let mut buf = [0; 64];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => break,
                        // Four bytes fit any socket buffer: one write is enough.
                        Ok(n) => stream.write_all(&buf[..n]).context("echo")?,
                        Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                        Err(error) => return Err(format!("read: {error}")),
                    }
                }
            }
        }
    }
    let echoed = clients.join().map_err(|_| "the clients panicked")??;
    ensure(echoed == CLIENTS, || {
        format!("{echoed} of {CLIENTS} echoed")
    })?;
    works(format!(
        "{CLIENTS} clients accepted and echoed by one thread"
    ))
}

pub fn mio_waker() -> Seen {
    use mio::{Events, Poll, Token, Waker};
    let mut poll = Poll::new().context("Poll::new")?;
    let waker = std::sync::Arc::new(Waker::new(poll.registry(), Token(7)).context("Waker::new")?);
    let started = Instant::now();
    let from = std::sync::Arc::clone(&waker);
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        from.wake()
    });
    let mut events = Events::with_capacity(4);
    poll.poll(&mut events, Some(Duration::from_secs(20)))
        .context("poll")?;
    thread
        .join()
        .map_err(|_| "the waking thread panicked")?
        .context("wake")?;
    ensure(events.iter().any(|event| event.token() == Token(7)), || {
        format!(
            "poll returned after {:?} without the waker",
            started.elapsed()
        )
    })?;
    works(format!("woken after {} ms", started.elapsed().as_millis()))
}

/// Stage 6's pattern: an idle connection waits in the poller; when it becomes
/// readable, it is taken out and served by a worker with blocking calls, then
/// put back. On Linux the stage registers the descriptor itself (mio's
/// `SourceFd`, Unix only); on Windows it has to go through mio's own
/// `TcpStream`, and this is the round trip that needs.
pub fn mio_park() -> Seen {
    use mio::{Events, Interest, Poll, Token};
    let (mut client, server) = pair()?;
    let mut poll = Poll::new().context("Poll::new")?;
    let mut events = Events::with_capacity(4);
    let mut server = Some(server);
    for round in ["one", "two", "three"] {
        let std_stream = server.take().expect("put back each round");
        std_stream
            .set_nonblocking(true)
            .context("set_nonblocking")?;
        let mut parked = mio::net::TcpStream::from_std(std_stream);
        poll.registry()
            .register(&mut parked, Token(1), Interest::READABLE)
            .context("register")?;
        client.write_all(round.as_bytes()).context("client write")?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            poll.poll(&mut events, Some(Duration::from_millis(500)))
                .context("poll")?;
            if events.iter().any(|event| event.token() == Token(1)) {
                break;
            }
            ensure(Instant::now() < deadline, || {
                format!("round {round}: never readable")
            })?;
        }
        poll.registry()
            .deregister(&mut parked)
            .context("deregister")?;
        let mut stream = TcpStream::from(parked);
        stream
            .set_nonblocking(false)
            .context("set_nonblocking(false)")?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .context("set_read_timeout")?;
        let mut buf = vec![0; round.len()];
        stream.read_exact(&mut buf).context("blocking read")?;
        ensure(buf == round.as_bytes(), || format!("read {buf:?}"))?;
        stream.write_all(b"ok").context("blocking write")?;
        let mut ok = [0; 2];
        client.read_exact(&mut ok).context("client read")?;
        server = Some(stream);
    }
    works("parked, woken, served blocking and parked again, three times".into())
}
