//! Fuzzes the request-body reader (`http::body::BodyReader`) with whatever
//! bytes libFuzzer comes up with, after a head that says how the body is
//! framed: in chunks, or by a `Content-Length`.
//!
//! The first bytes of the input choose the case; the rest is the body:
//!
//! | byte | what it chooses |
//! |---|---|
//! | 0 | bit 0: chunked (1) or `Content-Length` (0); bits 1-3: the limit |
//! | 1 | where the body is cut in two reads |
//! | 2, 3 | the `Content-Length`, big-endian |
//!
//! A crash is any panic: an index out of range, an overflow (the fuzz build
//! checks arithmetic), or one of the assertions below, which state what must
//! hold for every input:
//!
//! - the reader never takes more bytes than it was given, and never keeps
//!   more than its limit (a `Content-Length` past the limit is refused
//!   before a byte is read);
//! - a body framed by its length, once ended, is exactly that many bytes,
//!   the first ones given;
//! - the body read in two pieces ends at the same byte, keeps the same
//!   bytes, or is refused for the same reason, as the body read at once;
//! - a reader that throws the body away ends where one that keeps it does;
//! - a whole connection's session (the head, this body, and what follows
//!   it) never hands an upload a body larger than the upload limit.

#![no_main]

use libfuzzer_sys::fuzz_target;

use multithreaded_server::http::body::{BodyReader, Framing};
use multithreaded_server::http::{Error, Event, Limits, Response, Session, StatusCode, request};

/// The limits a case may have: none at all, tiny, the real ones, and one
/// so large that only the 64-bit overflow check can stop a size.
const LIMITS: [u64; 8] = [0, 1, 5, 16, 100, 4096, 1024 * 1024, u64::MAX];

/// What reading `body` came to: how many bytes were taken, what was kept,
/// and whether the body ended; or why it was refused.
type Outcome = Result<(usize, Vec<u8>, bool), Error>;

/// Reads `body` with a fresh reader, in two pieces cut at `cut`.
fn read(framing: Framing, keep: bool, limit: u64, body: &[u8], cut: usize) -> Outcome {
    let mut reader = BodyReader::new(framing, keep, limit)?;
    let mut used = 0;
    for piece in [&body[..cut], &body[cut..]] {
        let took = reader.feed(piece)?;
        assert!(took <= piece.len(), "took {took} of {} bytes", piece.len());
        used += took;
        if took < piece.len() {
            break; // the body ended inside this piece: the rest is not its
        }
    }
    let done = reader.is_done();
    Ok((used, reader.into_body(), done))
}

fuzz_target!(|data: &[u8]| {
    let [mode, cut, high, low, body @ ..] = data else {
        return;
    };
    let chunked = mode & 1 == 1;
    let limit = LIMITS[usize::from(mode >> 1) & 7];
    let length = u64::from(u16::from_be_bytes([*high, *low]));
    let framing_line = match chunked {
        true => "Transfer-Encoding: chunked".to_owned(),
        false => format!("Content-Length: {length}"),
    };
    let head = format!("PUT /uploads/f HTTP/1.1\r\nHost: h\r\n{framing_line}\r\n\r\n");

    // The framing as the head parser reads it, not as this target assumes.
    let request = request::parse(head.as_bytes(), &Limits::default()).expect("the head parses");
    let framing = request.framing;
    assert_eq!(
        framing,
        match chunked {
            true => Framing::Chunked,
            false => Framing::Length(length),
        }
    );

    let cut = usize::from(*cut) % (body.len() + 1);
    let at_once = read(framing, true, limit, body, body.len());
    let in_two = read(framing, true, limit, body, cut);
    assert_eq!(in_two, at_once, "cut at {cut}");
    match &at_once {
        Ok((used, kept, done)) => {
            assert!(*used <= body.len());
            assert!(kept.len() as u64 <= limit, "kept {} of {limit}", kept.len());
            if let Framing::Length(length) = framing {
                assert_eq!(kept[..], body[..*used], "a length's body is its bytes");
                if *done {
                    assert_eq!(kept.len() as u64, length);
                }
            }
        }
        Err(Error::BodyTooLarge) => {}
        Err(Error::Chunked(_)) => assert!(chunked, "a length cannot be malformed"),
        Err(other) => panic!("a body reader refused with {other:?}"),
    }
    if let (Framing::Length(length), Err(Error::BodyTooLarge)) = (framing, &at_once) {
        assert!(length > limit, "{length} is within {limit}");
    }
    // Thrown away, the same bytes end the body at the same place.
    let dropped = read(framing, false, limit, body, cut);
    match (&dropped, &at_once) {
        (Ok((used, kept, done)), Ok((same_used, _, same_done))) => {
            assert!(kept.is_empty(), "a body thrown away keeps nothing");
            assert_eq!((used, done), (same_used, same_done));
        }
        (dropped, kept) => assert_eq!(dropped, kept),
    }

    // The whole connection: the head, the body, whatever follows (which
    // may be more requests), and the client's close.
    let limits = Limits {
        upload: limit.min(Limits::UPLOAD),
        body: limit,
        ..Limits::default()
    };
    let mut session = Session::new(limits);
    session.receive(&[head.as_bytes(), body].concat());
    session.receive_eof();
    for _ in 0..8 {
        match session.next_event() {
            Event::Request(request) => {
                let kept = request.body.len() as u64;
                assert!(kept <= limits.upload, "an upload of {kept}");
                let _ = session.respond(Response::empty(StatusCode::NO_CONTENT));
            }
            Event::NeedMore | Event::Closed | Event::Error(_) => break,
        }
    }
});
