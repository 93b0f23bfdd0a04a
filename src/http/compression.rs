//! Compression: fewer bytes for text, for clients that say they can undo it.
//!
//! A client lists the codings it accepts, with how much it likes each
//! (`Accept-Encoding: gzip;q=1.0, br;q=0.8, *;q=0`: RFC 9110 §12.5.3). The
//! server picks one it has, says which in `Content-Encoding`, and says in
//! `Vary: Accept-Encoding` that another client may get other bytes for the
//! same URL, so that no cache hands a gzip body to a client that cannot read
//! it.
//!
//! - **What is worth it.** Text (HTML, CSS, JavaScript, JSON, SVG...) shrinks
//!   to a third or less. Pictures, video, fonts and archives are compressed
//!   already, and would cost time to grow a little. So would a file of a few
//!   hundred bytes, about the size of the headers.
//! - **Never a range.** A range is bytes of the file; a range of a gzip body
//!   would be bytes of something else. A request with `Range` gets the file.
//! - **On the fly** with gzip (the `flate2` crate), for text files up to
//!   [`ON_THE_FLY_LIMIT`]: the whole body is compressed in memory, so its
//!   length is known and the response is written as any other.
//! - **Ready-made**, as nginx's `gzip_static` does: `style.css.gz` (or
//!   `style.css.br`, brotli, made with the `brotli` tool) beside
//!   `style.css` is sent as it is, at no cost per request and for files of
//!   any size, to clients that accept it.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

/// Files larger than this are sent as they are unless a compressed copy is
/// ready beside them: compressing in memory would hold a copy of each.
pub const ON_THE_FLY_LIMIT: u64 = 4 * 1024 * 1024;

/// Files smaller than this are not worth compressing: gzip's own header and
/// trailer are 18 bytes, and a small file shrinks by less than its headers.
pub const WORTH_IT: u64 = 256;

/// The codings we can send, best first when a client likes them equally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// Brotli: only from a ready-made `.br` file.
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    /// The name in `Content-Encoding`, and the extension of a ready-made file.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gz",
            Coding::Identity => "",
        }
    }
}

// ANCHOR: worth_compressing
/// Whether a type is text that compresses well.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
                | "image/x-icon"
        )
}
// ANCHOR_END: worth_compressing

// ANCHOR: negotiate
/// How much the client likes `coding`, from 0 (not at all) to 1000 (q=1),
/// by its `Accept-Encoding`. Without the header, any coding is acceptable
/// (RFC 9110 §12.5.3), but we then send none: a client that says nothing
/// may be a tool that would save a gzip file under the page's name.
pub fn quality(accept_encoding: Option<&str>, coding: Coding) -> u16 {
    let Some(list) = accept_encoding else {
        return if coding == Coding::Identity { 1000 } else { 0 };
    };
    let mut star = None;
    for item in list.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        if name.is_empty() {
            continue;
        }
        let q = parts
            .find_map(|param| {
                let (key, value) = param.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| parse_q(value.trim()))
            })
            .unwrap_or(Some(1000));
        let Some(q) = q else { continue }; // a q we cannot read: skip the entry
        if name.eq_ignore_ascii_case(coding.name())
            || (coding == Coding::Gzip && name.eq_ignore_ascii_case("x-gzip"))
        {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    match (star, coding) {
        (Some(q), _) => q,
        // Identity is acceptable unless excluded, but least wanted.
        (None, Coding::Identity) => 1,
        (None, _) => 0,
    }
}

/// The best of `available` codings for this client: the one it likes most,
/// and the first listed when it likes several as much. Identity, always
/// available, is the fallback.
pub fn choose(accept_encoding: Option<&str>, available: &[Coding]) -> Coding {
    let mut best = (quality(accept_encoding, Coding::Identity), Coding::Identity);
    for &coding in available {
        let q = quality(accept_encoding, coding);
        if q > 0 && q >= best.0 && (q > best.0 || best.1 == Coding::Identity) {
            best = (q, coding);
        }
    }
    best.1
}
// ANCHOR_END: negotiate

/// A q-value, `0` to `1` with up to three decimals, in thousandths.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

// ANCHOR: gzip
/// Compresses the first `len` bytes of `file` with gzip, at level 6, zlib's
/// default: nearly the ratio of level 9 at a third of its time.
pub fn gzip(file: impl Read, len: u64) -> io::Result<Vec<u8>> {
    let mut original = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut original)?;
    if original.len() as u64 != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file changed while it was compressed",
        ));
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(original.len() / 3), Compression::new(6));
    encoder.write_all(&original)?;
    encoder.finish()
}
// ANCHOR_END: gzip

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    #[test]
    fn q_values_are_read_to_the_thousandth() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.001"), Some(1));
        assert_eq!(parse_q("0"), Some(0));
        for bad in ["1.5", "2", "0.0001", "-1", "", "x", "0.5x"] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_client_gets_what_it_likes_best_of_what_there_is() {
        let both = [Coding::Brotli, Coding::Gzip];
        let gzip = [Coding::Gzip];
        assert_eq!(
            choose(Some("gzip, deflate, br, zstd"), &both),
            Coding::Brotli
        );
        assert_eq!(choose(Some("gzip, deflate, br, zstd"), &gzip), Coding::Gzip);
        assert_eq!(choose(Some("gzip;q=1, br;q=0.5"), &both), Coding::Gzip);
        assert_eq!(choose(Some("GZIP"), &gzip), Coding::Gzip);
        assert_eq!(choose(Some("x-gzip"), &gzip), Coding::Gzip);
        assert_eq!(choose(Some("*"), &gzip), Coding::Gzip);
        assert_eq!(choose(Some("deflate"), &gzip), Coding::Identity);
        assert_eq!(choose(Some("gzip;q=0"), &gzip), Coding::Identity);
        assert_eq!(choose(Some("*;q=0, identity"), &gzip), Coding::Identity);
        assert_eq!(
            choose(Some("identity;q=1, gzip;q=0.5"), &gzip),
            Coding::Identity
        );
        assert_eq!(choose(Some("gzip;q=nonsense"), &gzip), Coding::Identity);
        assert_eq!(choose(Some(""), &gzip), Coding::Identity);
        assert_eq!(choose(None, &gzip), Coding::Identity);
    }

    #[test]
    fn text_is_worth_compressing_and_pictures_are_not() {
        assert!(is_compressible("text/html; charset=utf-8"));
        assert!(is_compressible("image/svg+xml; charset=utf-8"));
        assert!(is_compressible("application/json; charset=utf-8"));
        for kind in ["image/png", "video/mp4", "application/gzip", "font/woff2"] {
            assert!(!is_compressible(kind), "{kind}");
        }
    }

    #[test]
    fn gzip_gives_back_the_exact_bytes() {
        let text = "<p>hello, world</p>\n".repeat(100);
        let compressed = gzip(text.as_bytes(), text.len() as u64).unwrap();
        assert!(compressed.len() < text.len() / 10, "{}", compressed.len());
        let mut back = String::new();
        GzDecoder::new(&compressed[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(gzip(&b"short"[..], 10).is_err(), "a file that shrank");
    }
}
