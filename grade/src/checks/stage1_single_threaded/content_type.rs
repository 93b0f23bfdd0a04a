//! `content-type`: the `Content-Type` of each file says what it is.
//!
//! The report's server sent `text/html` for everything, and a browser then
//! refuses the stylesheet and shows the image as text. Only the media type
//! counts (`text/html; charset=utf-8` is `text/html`). A file the server will
//! not serve is the file checks' to fail, and is noted here.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::expect_200;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "content-type",
    stage: Stage::SingleThreaded,
    title: "Content-Type matches the file: text/html, text/css, image/png",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Choose Content-Type from the file's extension; text/html for everything makes browsers refuse stylesheets and images.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let mut judged = 0;
    let mut not_served = Vec::new();
    for path in [fixture::INDEX, fixture::STYLE, fixture::IMAGE] {
        let expected = probe.site.file(path).media_type;
        let (reply, exchange) = match expect_200(probe, path) {
            Ok(served) => served,
            // No answer at all is not a file the server refuses: it is the
            // server failing under this check, which says so.
            Err(failure) if failure.blocked.is_some() => return Err(failure),
            Err(failure) => {
                not_served.push(format!("/{path} ({})", failure.problem));
                continue;
            }
        };
        let got = reply.header("Content-Type").unwrap_or("");
        let media_type = got.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(expected) {
            let problem = if got.is_empty() {
                format!("GET /{path}: no Content-Type header; expected {expected}")
            } else {
                format!("GET /{path}: Content-Type is `{got}`; expected {expected}")
            };
            return Err(Failure::of(problem, &exchange));
        }
        judged += 1;
    }
    if judged == 0 {
        return Err(Failure::new(format!(
            "none of the files came back with 200, so there was no Content-Type to judge: {}",
            not_served.join("; ")
        ))
        .unless(
            "a file served with 200",
            &["connects", "text-files", "binary-files"],
        ));
    }
    if !not_served.is_empty() {
        probe.note(format!(
            "not judged here, as they did not come back with 200 (the file checks judge that): {}",
            not_served.join("; ")
        ));
    }
    Ok(())
}
