//! Reading a request body, framed by `Content-Length` or in chunks.
//!
//! A body has no end of its own: the head says how to find it (RFC 9112 §6).
//! `Content-Length: 5` means the next five bytes; `Transfer-Encoding: chunked`
//! means chunks, each a size in hex on a line of its own and that many bytes,
//! until a chunk of size 0 and an optional trailer section:
//!
//! ```text
//! 5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n
//! ```
//!
//! Getting this wrong is not a matter of one request: the next request on the
//! connection starts where this body ends, and a server that reads the end in
//! a different place from the proxy in front of it answers a request that the
//! proxy never saw (request smuggling). So the reader is strict: a size that
//! is not hex, that overflows, or that takes the body past its limit, a bare
//! LF, or a chunk not followed by CRLF, all end the connection with `400` or
//! `413`.
//!
//! Like the head parser, [`BodyReader`] never reads a socket: it is given the
//! bytes that have arrived, takes what belongs to the body, and says how many
//! it took. It keeps the body (an upload) or throws it away as it goes.

use super::Error;

/// How long a chunk-size line may be, extensions included, and how many bytes
/// the trailer section may have: no client has a reason to send more.
pub const LINE_LIMIT: usize = 4096;

/// How the head said the body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No `Content-Length` and no `Transfer-Encoding`: no body at all.
    None,
    /// `Content-Length`: exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Where a chunked body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk's size: `size` so far, and whether a digit has come.
    Size {
        size: u64,
        digits: usize,
    },
    /// Whitespace after the size: a `;` or the line's end must follow.
    SizeSpace {
        size: u64,
    },
    /// In a chunk extension (`;name=value`), which we ignore, up to CR.
    Extension {
        size: u64,
    },
    /// After a size line's CR: an LF must follow.
    SizeLf {
        size: u64,
    },
    /// In a chunk's data, with this many bytes to go.
    Data {
        left: u64,
    },
    /// After a chunk's data: CR, then LF.
    DataCr,
    DataLf,
    /// In the trailer section: at the start of a line, inside one, or after
    /// a CR (`empty` when that line had nothing on it: the end).
    TrailerLine {
        empty: bool,
    },
    TrailerLf {
        empty: bool,
    },
}

// ANCHOR: body_reader
/// Takes a body's bytes out of what arrives, within a limit.
#[derive(Debug)]
pub struct BodyReader {
    /// What is left to read: a length, or where in the chunks we are;
    /// `None` once the body has ended.
    state: Option<State>,
    /// Keep the bytes (an upload), or throw them away.
    keep: bool,
    kept: Vec<u8>,
    /// How many bytes of content have come, and how many may.
    total: u64,
    limit: u64,
    /// Bytes of the size line or the trailer section so far.
    line: usize,
}
// ANCHOR_END: body_reader

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Length { left: u64 },
    Chunked(Chunk),
}

impl BodyReader {
    /// A reader for a body framed so, keeping it or not, of at most `limit`
    /// bytes of content (more: [`Error::BodyTooLarge`]).
    pub fn new(framing: Framing, keep: bool, limit: u64) -> Result<BodyReader, Error> {
        let state = match framing {
            Framing::None | Framing::Length(0) => None,
            Framing::Length(len) if len > limit => return Err(Error::BodyTooLarge),
            Framing::Length(len) => Some(State::Length { left: len }),
            Framing::Chunked => Some(State::Chunked(Chunk::Size { size: 0, digits: 0 })),
        };
        Ok(BodyReader {
            state,
            keep,
            kept: Vec::new(),
            total: 0,
            limit,
            line: 0,
        })
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state.is_none()
    }

    /// The body, once read (empty if it was thrown away).
    pub fn into_body(self) -> Vec<u8> {
        self.kept
    }

    /// Takes the body's bytes from the front of `input`, and returns how many
    /// it took: all of them, or fewer if the body ended inside `input` (the
    /// rest is the next request's). An error means the framing is broken or
    /// the body too large, and the connection must close.
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, Error> {
        let mut used = 0;
        while used < input.len() {
            let Some(state) = self.state else { break };
            used += match state {
                State::Length { left } => {
                    let n = take(left, input.len() - used);
                    self.content(&input[used..used + n]);
                    self.state = (left > n as u64).then_some(State::Length {
                        left: left - n as u64,
                    });
                    n
                }
                State::Chunked(Chunk::Data { left }) => {
                    // The fast path: a chunk's bytes, as many at once as came.
                    let n = take(left, input.len() - used);
                    self.content(&input[used..used + n]);
                    let next = match left - n as u64 {
                        0 => Chunk::DataCr,
                        left => Chunk::Data { left },
                    };
                    self.state = Some(State::Chunked(next));
                    n
                }
                State::Chunked(chunk) => {
                    let next = self.chunk_byte(chunk, input[used])?;
                    self.state = next.map(State::Chunked);
                    1
                }
            };
        }
        Ok(used)
    }

    /// Keeps (or drops) bytes of content.
    fn content(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.keep {
            self.kept.extend_from_slice(bytes);
        }
    }

    // ANCHOR: chunk_byte
    /// One byte of the chunked framing (not of a chunk's data): where it
    /// leads, `None` at the end of the body.
    fn chunk_byte(&mut self, chunk: Chunk, byte: u8) -> Result<Option<Chunk>, Error> {
        if matches!(
            chunk,
            Chunk::Size { .. } | Chunk::SizeSpace { .. } | Chunk::Extension { .. }
        ) || is_trailer(chunk)
        {
            self.line += 1;
            if self.line > LINE_LIMIT {
                return Err(Error::Chunked("a chunk-size line or trailer is too long"));
            }
        }
        Ok(Some(match (chunk, byte) {
            (Chunk::Size { size, digits }, _) if byte.is_ascii_hexdigit() => {
                let digit = u64::from((byte as char).to_digit(16).unwrap_or_default());
                // A size that does not fit 64 bits is not a size: refusing
                // it is what keeps `0x1_0000_0000_0000_0005` from being 5.
                let size = size
                    .checked_mul(16)
                    .and_then(|size| size.checked_add(digit))
                    .ok_or(Error::Chunked("a chunk size overflows"))?;
                if self.total.saturating_add(size) > self.limit {
                    return Err(Error::BodyTooLarge);
                }
                Chunk::Size {
                    size,
                    digits: digits + 1,
                }
            }
            (Chunk::Size { digits: 0, .. }, _) => {
                return Err(Error::Chunked("a chunk size is not a hex number"));
            }
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b' ' | b'\t') => {
                Chunk::SizeSpace { size }
            }
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b';') => {
                Chunk::Extension { size }
            }
            (
                Chunk::Size { size, .. } | Chunk::SizeSpace { size } | Chunk::Extension { size },
                b'\r',
            ) => Chunk::SizeLf { size },
            (Chunk::Size { .. } | Chunk::SizeSpace { .. }, _) => {
                return Err(Error::Chunked("a chunk size is not a hex number"));
            }
            // Extensions are allowed, and mean nothing to us: skipped.
            (Chunk::Extension { .. }, b'\n' | 0) => {
                return Err(Error::Chunked("a bare LF or a NUL in a chunk extension"));
            }
            (Chunk::Extension { size }, _) => Chunk::Extension { size },
            (Chunk::SizeLf { size: 0 }, b'\n') => {
                self.line = 0;
                Chunk::TrailerLine { empty: true }
            }
            (Chunk::SizeLf { size }, b'\n') => {
                self.line = 0;
                Chunk::Data { left: size }
            }
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::Size { size: 0, digits: 0 },
            (Chunk::TrailerLine { empty }, b'\r') => Chunk::TrailerLf { empty },
            (Chunk::TrailerLine { .. }, b'\n' | 0) => {
                return Err(Error::Chunked("a bare LF or a NUL in the trailer"));
            }
            (Chunk::TrailerLine { .. }, _) => Chunk::TrailerLine { empty: false },
            (Chunk::TrailerLf { empty: true }, b'\n') => return Ok(None),
            (Chunk::TrailerLf { empty: false }, b'\n') => Chunk::TrailerLine { empty: true },
            _ => return Err(Error::Chunked("a chunk is not followed by CRLF")),
        }))
    }
    // ANCHOR_END: chunk_byte
}

/// Whether the framing is in the trailer section.
fn is_trailer(chunk: Chunk) -> bool {
    matches!(chunk, Chunk::TrailerLine { .. } | Chunk::TrailerLf { .. })
}

/// How many of `available` bytes to take when `left` are wanted.
fn take(left: u64, available: usize) -> usize {
    usize::try_from(left).map_or(available, |left| left.min(available))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` as a kept body, fed in pieces of `piece` bytes; returns
    /// the body and how many bytes of `input` it took.
    fn read(framing: Framing, input: &[u8], piece: usize) -> Result<(Vec<u8>, usize), Error> {
        let mut reader = BodyReader::new(framing, true, 1000)?;
        let mut used = 0;
        for part in input.chunks(piece) {
            let took = reader.feed(part)?;
            used += took;
            if took < part.len() {
                break;
            }
        }
        assert!(reader.is_done(), "the body has not ended");
        Ok((reader.into_body(), used))
    }

    #[test]
    fn a_length_takes_exactly_that_many_bytes() {
        for piece in [1, 3, 100] {
            let (body, used) = read(Framing::Length(5), b"helloGET /", piece).unwrap();
            assert_eq!(
                (&body[..], used),
                (&b"hello"[..], 5),
                "in pieces of {piece}"
            );
        }
        assert!(
            BodyReader::new(Framing::Length(0), true, 10)
                .unwrap()
                .is_done()
        );
        assert!(BodyReader::new(Framing::None, true, 10).unwrap().is_done());
    }

    #[test]
    fn chunks_are_joined_wherever_the_input_is_cut() {
        let input = b"5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nGET /";
        for piece in 1..input.len() {
            let (body, used) = read(Framing::Chunked, input, piece).unwrap();
            assert_eq!(body, b"hello world", "in pieces of {piece}");
            assert_eq!(&input[used..], b"GET /", "in pieces of {piece}");
        }
        let (body, _) = read(Framing::Chunked, b"A\r\n0123456789\r\n0\r\n\r\n", 7).unwrap();
        assert_eq!(body, b"0123456789", "sizes are hex, either case");
    }

    #[test]
    fn broken_chunks_are_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"0\r\nX: 1\n\r\n",
            b"5;ext\n",
            b"-5\r\n",
            b"+5\r\n",
            b"0x5\r\n",
            b"5 6\r\n",
            b"5\0\r\n",
        ] {
            let mut reader = BodyReader::new(Framing::Chunked, false, 1000).unwrap();
            assert!(
                matches!(reader.feed(bad), Err(Error::Chunked(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A size is refused as soon as it overflows or passes the limit: before
    /// a single byte of the chunk is expected.
    #[test]
    fn huge_chunk_sizes_are_refused_at_once() {
        let mut reader = BodyReader::new(Framing::Chunked, false, 1000).unwrap();
        assert_eq!(reader.feed(b"3e9"), Err(Error::BodyTooLarge));
        let mut reader = BodyReader::new(Framing::Chunked, false, u64::MAX).unwrap();
        let overflow = b"10000000000000005\r\n";
        assert_eq!(
            reader.feed(overflow),
            Err(Error::Chunked("a chunk size overflows"))
        );
        // Leading zeros are digits, not size: they may not go on for ever.
        let mut reader = BodyReader::new(Framing::Chunked, false, 1000).unwrap();
        let zeros = vec![b'0'; LINE_LIMIT + 1];
        assert!(matches!(reader.feed(&zeros), Err(Error::Chunked(_))));
        // Chunks that add up past the limit, each one small.
        let mut reader = BodyReader::new(Framing::Chunked, false, 8).unwrap();
        assert_eq!(
            reader.feed(b"5\r\nhello\r\n5\r\n"),
            Err(Error::BodyTooLarge)
        );
    }

    #[test]
    fn a_length_past_the_limit_is_refused_before_any_byte() {
        assert!(matches!(
            BodyReader::new(Framing::Length(1001), true, 1000),
            Err(Error::BodyTooLarge)
        ));
    }

    #[test]
    fn a_discarded_body_keeps_nothing() {
        let mut reader = BodyReader::new(Framing::Chunked, false, 1000).unwrap();
        reader.feed(b"5\r\nhello\r\n0\r\n\r\n").unwrap();
        assert!(reader.is_done());
        assert!(reader.into_body().is_empty());
    }
}
