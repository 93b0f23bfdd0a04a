//! Malformed and hostile requests, against every stage compiled in.
//!
//! Each input has the one status it must get from `not-found` on; the stages
//! before it must close the connection without sending a byte. Whatever the
//! input, the connection must end (no hang), the server must go on serving, and
//! nothing may panic. The inputs are what scanners, broken clients and attackers
//! really send: binary noise, TLS on a plain port, huge or endless heads, the
//! ambiguities that request smuggling is built on, chunk sizes built to
//! overflow, and `Range` headers no server need honour.

use std::io::Write;
use std::net::Shutdown;

use crate::support::hardening::*;
use crate::support::*;
use multithreaded_server::Stage;

/// What an input must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// This status from `not-found` on; a close without a byte before it.
    Status(u16),
    /// A close without a byte, in every stage: there is no request to answer.
    Close,
    /// This status in every stage: hostile, but valid HTTP (`200` is checked
    /// to carry `index.html`).
    Answered(u16),
    /// A request whose body never all arrives: a close without a byte in the
    /// stages that wait for the body before answering; `200` and a close from
    /// `keep-alive` on, whose workers (and tasks) answer without waiting for a body (the
    /// request is a GET, whose body means nothing) and leave the loop to read
    /// and throw away what comes of it.
    ShortBody,
}

/// What the client does after sending its bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Then {
    /// Waits for the answer with its sending side still open.
    Wait,
    /// Says it has finished sending (half-close), then waits.
    HalfClose,
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    then: Then,
    expect: Expect,
}

fn case(name: &'static str, bytes: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        bytes: bytes.into(),
        then: Then::Wait,
        expect,
    }
}

/// A request for `/` with these header lines after `Host` and `Connection`.
fn with_headers(lines: &str) -> Vec<u8> {
    // `Connection: close`, so that `keep-alive` too closes after a valid answer
    // and the test reads to the close instead of the idle timeout.
    format!("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{lines}\r\n").into_bytes()
}

/// [`with_headers`], then `body`.
fn with_body(lines: &str, body: &str) -> Vec<u8> {
    [with_headers(lines), body.as_bytes().to_vec()].concat()
}

/// The opening of a TLS 1.2/1.3 ClientHello for `localhost`, as a browser sends
/// it to an `https://` address: what arrives when someone types https by mistake.
fn tls_client_hello() -> Vec<u8> {
    let mut hello = vec![0x03, 0x03]; // client version: TLS 1.2
    hello.extend(fixed_bytes(7, 32)); // client random
    hello.push(32); // session id
    hello.extend(fixed_bytes(8, 32));
    hello.extend([0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]); // cipher suites
    hello.extend([0x01, 0x00]); // no compression
    let host = b"localhost";
    let mut sni = vec![0x00, 0x00]; // extension: server_name
    let list_len = host.len() + 3;
    sni.extend([0x00, (list_len + 2) as u8, 0x00, list_len as u8, 0x00]);
    sni.extend([0x00, host.len() as u8]);
    sni.extend(host);
    hello.extend([0x00, sni.len() as u8]);
    hello.extend(sni);
    let mut handshake = vec![0x01, 0x00, 0x00, hello.len() as u8]; // ClientHello
    handshake.extend(hello);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, handshake.len() as u8];
    record.extend(handshake);
    record
}

fn cases() -> Vec<Case> {
    use Expect::*;
    let many_headers = |count: usize| {
        let lines: String = (0..count).map(|i| format!("X-{i}: {i}\r\n")).collect();
        with_headers(&lines)
    };
    vec![
        // Not HTTP at all.
        case("random binary", fixed_bytes(336, 64 * 1024), Status(400)),
        case("a TLS ClientHello", tls_client_hello(), Status(400)),
        case(
            "an HTTP/2 connection preface",
            &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
            Status(505),
        ),
        Case {
            then: Then::HalfClose,
            ..case("an empty connection", &b""[..], Close)
        },
        // Too big: refused as soon as a limit is passed, not read to the end.
        case(
            "a 100 KB header line",
            with_headers(&format!("X-Big: {}\r\n", "a".repeat(100_000))),
            Status(431),
        ),
        case(
            "a 100 KB request line",
            format!(
                "GET /{} HTTP/1.1\r\nHost: test\r\n\r\n",
                "a".repeat(100_000)
            ),
            Status(414),
        ),
        case(
            "a request line just over 8 KiB",
            format!(
                "GET /{} HTTP/1.1\r\nHost: test\r\n\r\n",
                "a".repeat(8 * 1024)
            ),
            Status(414),
        ),
        case(
            "a 9 KiB method without a line end",
            "A".repeat(9 * 1024),
            Status(414),
        ),
        case("5,000 headers", many_headers(5_000), Status(431)),
        case("101 header lines", many_headers(100), Status(431)),
        case(
            "a 20 KiB header block",
            with_headers(&format!("X-A: {0}\r\nX-B: {0}\r\n", "b".repeat(10_000))),
            Status(431),
        ),
        case("9 KiB of blank lines", "\r\n".repeat(4_608), Status(414)),
        // Line ends and bytes that have no place in a head.
        case(
            "bare LF line ends",
            &b"GET / HTTP/1.1\nHost: test\n\n"[..],
            Status(400),
        ),
        case(
            "a bare LF on the last line only",
            &b"GET / HTTP/1.1\r\nHost: test\r\n\n"[..],
            Status(400),
        ),
        case(
            "a bare CR in the request line",
            &b"GET / HTTP/1.1\rX: y\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "a NUL byte in the target",
            &b"GET /index.html\0 HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "a NUL byte in a header value",
            with_headers("X-A: a\0b\r\n"),
            Status(400),
        ),
        case(
            "an encoded NUL in the target",
            &b"GET /index.html%00.txt HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "a control character in a header value",
            with_headers("X-A: a\x1bb\r\n"),
            Status(400),
        ),
        // The request line.
        case(
            "two spaces in the request line",
            &b"GET  / HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case("an HTTP/0.9 request", &b"GET /\r\n\r\n"[..], Status(400)),
        case(
            "raw UTF-8 in the target",
            "GET /café HTTP/1.1\r\nHost: test\r\n\r\n",
            Status(400),
        ),
        case(
            "a bad percent-escape",
            &b"GET /%zz HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "a target that is not a path",
            &b"GET index.html HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "HTTP/2.0 in the request line",
            &b"GET / HTTP/2.0\r\nHost: test\r\n\r\n"[..],
            Status(505),
        ),
        case(
            "a method in lower case",
            &b"get / HTTP/1.1\r\nHost: test\r\n\r\n"[..],
            Status(405),
        ),
        // Header lines.
        case(
            "a space before the colon",
            with_headers("X-A : 1\r\n"),
            Status(400),
        ),
        case(
            "a folded header line",
            with_headers("X-A: 1\r\n  2\r\n"),
            Status(400),
        ),
        case(
            "a header line without a colon",
            with_headers("X-A 1\r\n"),
            Status(400),
        ),
        case(
            "a header with an empty name",
            with_headers(": 1\r\n"),
            Status(400),
        ),
        case(
            "HTTP/1.1 without Host",
            &b"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n"[..],
            Status(400),
        ),
        case(
            "two different Hosts",
            with_headers("Host: other\r\n"),
            Status(400),
        ),
        // Framing: the ambiguities request smuggling is made of.
        case(
            "conflicting Content-Lengths",
            with_headers("Content-Length: 0\r\nContent-Length: 5\r\n"),
            Status(400),
        ),
        case(
            "a Content-Length list that disagrees",
            with_headers("Content-Length: 3, 4\r\n"),
            Status(400),
        ),
        case(
            "a negative Content-Length",
            with_headers("Content-Length: -1\r\n"),
            Status(400),
        ),
        case(
            "a Content-Length past the body limit",
            with_headers("Content-Length: 1000000000\r\n"),
            Status(413),
        ),
        case(
            "a chunked body, read past",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                "4;x=y\r\nbody\r\n0\r\nA: b\r\n\r\n",
            ),
            Answered(200),
        ),
        case(
            "Transfer-Encoding and Content-Length together",
            with_body(
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            Status(400),
        ),
        case(
            "chunked twice",
            with_body("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
            Status(400),
        ),
        case(
            "a coding before chunked, which we cannot undo",
            with_body("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
            Status(501),
        ),
        case(
            "a chunk size that is not hex",
            with_body("Transfer-Encoding: chunked\r\n", "zz\r\n"),
            Status(400),
        ),
        case(
            "a chunk without its CRLF",
            with_body("Transfer-Encoding: chunked\r\n", "3\r\nabcX\r\n0\r\n\r\n"),
            Status(400),
        ),
        case(
            "a huge chunk size",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                "ffffffffffffffffffffffff\r\n",
            ),
            Status(413),
        ),
        case(
            "a chunk size of i64::MAX",
            with_body("Transfer-Encoding: chunked\r\n", "7fffffffffffffff\r\n"),
            Status(413),
        ),
        // 2^64 + 5: a reader that wraps its sum reads a 5-byte chunk, and
        // the bytes after it as another request.
        case(
            "a chunk size that wraps 64 bits to 5",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                "10000000000000005\r\nhello\r\n0\r\n\r\n",
            ),
            Status(413),
        ),
        // Leading zeros are digits that add nothing: a size may have some,
        // up to the 4 KiB a chunk-size line may have.
        case(
            "a chunk size with 100 leading zeros",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                &format!("{}5\r\nhello\r\n0\r\n\r\n", "0".repeat(100)),
            ),
            Answered(200),
        ),
        case(
            "a chunk size with 5,000 leading zeros",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                &format!("{}5\r\nhello\r\n0\r\n\r\n", "0".repeat(5_000)),
            ),
            Status(400),
        ),
        case(
            "a 4,000-byte chunk extension",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                &format!("5;x={}\r\nhello\r\n0\r\n\r\n", "a".repeat(4_000)),
            ),
            Answered(200),
        ),
        // Past the line limit by a little, so that the whole request still
        // comes in one read and every stage sees the fault before it answers.
        case(
            "a chunk extension past the 4 KiB line limit",
            with_body(
                "Transfer-Encoding: chunked\r\n",
                &format!("5;x={}\r\nhello\r\n0\r\n\r\n", "a".repeat(4_200)),
            ),
            Status(400),
        ),
        // Ranges. RFC 9110 §14.1.2 lets a server ignore a `Range` it cannot
        // read, and §14.2 one in another unit or with several ranges: all of
        // these get the whole file with 200, once (several ranges that
        // overlap are how Apache was made to send a file many times over,
        // CVE-2011-3192). A range that starts past the end gets 416.
        case(
            "a range whose last byte comes before its first",
            with_headers("Range: bytes=5-2\r\n"),
            Answered(200),
        ),
        case(
            "a range that is not numbers",
            with_headers("Range: bytes=abc\r\n"),
            Answered(200),
        ),
        case(
            "a range of two dashes",
            with_headers("Range: bytes=--1\r\n"),
            Answered(200),
        ),
        case(
            "a range in another unit",
            with_headers("Range: items=0-1\r\n"),
            Answered(200),
        ),
        case(
            "a range that ends past 2^64",
            with_headers("Range: bytes=0-99999999999999999999999\r\n"),
            Answered(200),
        ),
        case(
            "a range that starts past 2^64",
            with_headers("Range: bytes=99999999999999999999999-\r\n"),
            Answered(200),
        ),
        case(
            "1,000 ranges",
            with_headers(&format!(
                "Range: bytes={}\r\n",
                (0..1000)
                    .map(|i| format!("{i}-{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            Answered(200),
        ),
        case(
            "the whole file 1,000 times over",
            with_headers(&format!("Range: bytes={}\r\n", vec!["0-"; 1000].join(","))),
            Answered(200),
        ),
        case(
            "a range past the end",
            with_headers("Range: bytes=999999999-\r\n"),
            Status(416),
        ),
        case(
            "a suffix range of no bytes",
            with_headers("Range: bytes=-0\r\n"),
            Status(416),
        ),
        case(
            "an expectation no server meets",
            with_headers("Expect: a-pony\r\n"),
            Status(417),
        ),
        Case {
            then: Then::HalfClose,
            ..case(
                "a chunked body cut short",
                with_body("Transfer-Encoding: chunked\r\n", "5\r\nab"),
                ShortBody,
            )
        },
        // Heads that never end.
        Case {
            then: Then::HalfClose,
            ..case(
                "half a head, then the client stops sending",
                &b"GET / HTTP/1.1\r\nHost: te"[..],
                Close,
            )
        },
        case(
            "half a head, then silence",
            &b"GET / HTTP/1.1\r\nHost: te"[..],
            Status(408),
        ),
        Case {
            then: Then::HalfClose,
            ..case(
                "a body shorter than its Content-Length",
                with_headers("Content-Length: 10\r\n")
                    .into_iter()
                    .chain(*b"abc")
                    .collect::<Vec<u8>>(),
                ShortBody,
            )
        },
        // Valid, but built to break date parsing. RFC 9110 lets a date in the
        // future stand, so the year 9999 means "not modified".
        case(
            "an If-Modified-Since in the year 10^17",
            with_headers("If-Modified-Since: Sun Nov  6 08:49:37 99999999999999999\r\n"),
            Answered(200),
        ),
        case(
            "an If-Modified-Since in the year 9999",
            with_headers("If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n"),
            Answered(304),
        ),
        case(
            "an If-Modified-Since that is all digits",
            with_headers(&format!("If-Modified-Since: {}\r\n", "9".repeat(4000))),
            Answered(200),
        ),
    ]
}

/// Sends one input and returns everything the server sent before closing.
fn send(server: &Server, case: &Case) -> Vec<u8> {
    let mut stream = connect(server.addr);
    // The server may rightly stop reading and close before we finish writing.
    let _ = stream.write_all(&case.bytes);
    if case.then == Then::HalfClose {
        let _ = stream.shutdown(Shutdown::Write);
    }
    wait_for_close(&mut stream)
        .unwrap_or_else(|| panic!("{}: the connection was never closed", case.name))
}

/// Every input gets exactly its status from `not-found` on, or a bare close
/// before, and after each one the server still serves a page. The read timeout
/// is short so that an input the server wrongly waits on shows up as a 408.
#[test]
fn every_malformed_input_gets_its_status_and_the_server_goes_on() {
    let cases = cases();
    assert!(cases.len() >= 25);
    let site = Site::new();
    // The stages run side by side: most of the time goes in waiting for timeouts.
    let (site, cases) = (&site, &cases);
    std::thread::scope(|scope| {
        for stage in compiled_stages() {
            scope.spawn(move || check_stage(stage, site, cases));
        }
    });
}

/// Runs every case against one stage, in order, on one server.
fn check_stage(stage: Stage, site: &Site, cases: &[Case]) {
    let server = Server::start(stage.name(), &site.root, &["--read-timeout", "2s"]);
    for case in cases {
        let bytes = send(&server, case);
        let reply = parse_reply(&bytes);
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        match case.expect {
            Expect::Status(status) if answers_errors(stage) => {
                let reply = reply
                    .unwrap_or_else(|| panic!("{stage}: {}: no response: {shown:?}", case.name));
                assert_eq!(reply.head.status, status, "{stage}: {}: {shown}", case.name);
                assert_eq!(reply.header("Connection"), Some("close"), "{}", case.name);
                assert_eq!(
                    reply.header("Content-Length"),
                    Some(reply.body.len().to_string().as_str()),
                    "{stage}: {}: the error page is all there",
                    case.name
                );
            }
            Expect::ShortBody if stage >= Stage::KeepAlive => {
                let reply = reply
                    .unwrap_or_else(|| panic!("{stage}: {}: no response: {shown:?}", case.name));
                assert_eq!(reply.head.status, 200, "{stage}: {}: {shown}", case.name);
                assert_eq!(reply.header("Connection"), Some("close"), "{}", case.name);
                assert_file(&reply, &site.read("index.html"), "text/html; charset=utf-8");
            }
            Expect::Status(_) | Expect::Close | Expect::ShortBody => {
                assert!(bytes.is_empty(), "{stage}: {}: got {shown:?}", case.name);
            }
            Expect::Answered(status) => {
                let reply = reply
                    .unwrap_or_else(|| panic!("{stage}: {}: no response: {shown:?}", case.name));
                assert_eq!(reply.head.status, status, "{stage}: {}: {shown}", case.name);
                if status == 200 {
                    let html = "text/html; charset=utf-8";
                    assert_file(&reply, &site.read("index.html"), html);
                }
            }
        }
        assert_still_serves(&server, site, case.name);
    }
    assert_no_panic(&server);
}
