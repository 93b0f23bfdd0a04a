//! Content types by file extension.
//!
//! The report's server sent `text/html` for every file, so a browser asked for a
//! stylesheet or a picture got told it was a web page. Browsers refuse a stylesheet
//! with the wrong type (`X-Content-Type-Options` aside, Chrome and Firefox both do in
//! standards mode), so a wrong type is a visible bug, not a detail.

use std::path::Path;

/// What we send when we do not know: "some bytes", which browsers offer to download
/// rather than try to show.
pub const UNKNOWN: &str = "application/octet-stream";

// ANCHOR: content_type
/// The `Content-Type` for a file, from its extension, with `charset=utf-8` for text.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("txt" | "rs" | "py" | "toml") => "text/plain; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("svg") => "image/svg+xml; charset=utf-8",
        Some("png") => "image/png",
        // ANCHOR_END: content_type
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("avif") => "image/avif",
        Some("woff") => "font/woff",
        Some("woff2") => "font/woff2",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some("pdf") => "application/pdf",
        Some("wasm") => "application/wasm",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        // ANCHOR: content_type_end
        _ => UNKNOWN,
    }
}
// ANCHOR_END: content_type_end

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_carry_a_charset_and_binary_types_do_not() {
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("style.CSS")),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("logo.png")), "image/png");
        assert_eq!(content_type(Path::new("a/b.tar.gz")), "application/gzip");
    }

    #[test]
    fn unknown_and_missing_extensions_are_octet_streams() {
        assert_eq!(content_type(Path::new("data.bin")), UNKNOWN);
        assert_eq!(content_type(Path::new("Makefile")), UNKNOWN);
        assert_eq!(content_type(Path::new(".html")), UNKNOWN);
    }
}
