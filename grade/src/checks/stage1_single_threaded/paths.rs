//! `paths`: a request's path is read as a browser writes it.
//!
//! A browser asks for `/` when you type the site's address, percent-encodes a
//! space as `%20`, may add a query string (`?v=2`) that a file server
//! ignores, and keeps the case of every letter. A server that serves only
//! `/index.html`, opens `two%20words.html` literally, looks for a file called
//! `style.css?v=2`, or lower-cases paths, breaks real pages. (On a file system
//! that ignores case, macOS's and Windows's by default, a server that
//! lower-cases paths still finds the file, and passes.)

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::holds;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "paths",
    stage: Stage::SingleThreaded,
    title: "paths as browsers send them: / is index.html, %20 is a space, a query string is ignored, case is kept",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Take the path up to any `?`, decode percent-escapes (`%20` is a space), keep its case, and serve a folder's index.html for a path that names the folder (`/`).",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    let query = format!("/{}?v={}", fixture::STYLE, probe.site.token);
    let asks = [
        (
            "/".to_owned(),
            fixture::INDEX,
            "a request for the folder (`/`) should bring its index.html",
        ),
        (
            Probe::target(fixture::SPACED),
            fixture::SPACED,
            "a `%20` in the path is a space in the name",
        ),
        (
            query,
            fixture::STYLE,
            "the query string after `?` is not part of the file's name",
        ),
        (
            Probe::target(fixture::MIXED_CASE),
            fixture::MIXED_CASE,
            "a name's capitals are part of it",
        ),
    ];
    let mut wrong: Vec<Failure> = Vec::new();
    for (target, path, rule) in asks {
        if let Err(failure) = holds(probe, &probe.get(&target), path, &format!("GET {target}")) {
            if failure.blocked.is_some() && wrong.is_empty() {
                // No answer at all: say that, for `connects` to explain.
                return Err(failure);
            }
            let problem = format!("{} ({rule})", failure.problem);
            wrong.push(Failure { problem, ..failure });
        }
    }
    let Some(first) = wrong.first().cloned() else {
        return Ok(());
    };
    let all: Vec<String> = wrong.into_iter().map(|failure| failure.problem).collect();
    Err(Failure {
        problem: all.join("; "),
        blocked: None,
        ..first
    })
}
