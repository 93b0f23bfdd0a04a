//! `no-traversal`: no request reads a file outside the root.
//!
//! The report's `open(filename[1:])` lets `/../secret.txt` out of the
//! folder. A sentinel file lies beside the root, and every well-known way of
//! climbing to it is tried: a leak is any response that holds the sentinel's
//! token. Every request is sent, whatever the server did with the one before:
//! a server that stops answering is started afresh and the climbing goes on,
//! so that no leak hides behind a wedge.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, ANSWERS};
use crate::client::End;
use crate::fixture::Fixture;
use crate::probe::Probe;
use crate::response;
use course::Stage;

pub static CHECK: Check = Check {
    id: "no-traversal",
    stage: Stage::SingleThreaded,
    title: "no request reads a file outside the root (.., encoded .., absolute paths)",
    limit: Duration::from_secs(60),
    mode: Mode::Shared,
    needs: &[],
    hint: "Refuse any path with a `..` segment after decoding, and any absolute path; or resolve the path and check it is still under the root.",
    run,
};

/// How many times the server may be brought back, after climbing requests
/// it did not answer, before the check gives up on sending the rest.
const MOST_RECOVERIES: usize = 3;

/// The ways of climbing out of a folder, each to be followed by a name:
/// plain and nested `..`, percent-encoded (once and twice), backslashes,
/// overlong UTF-8, `;` tricks and the absolute form. The uploads extension
/// climbs out of its folder with the same list.
pub const CLIMBS: &[&str] = &[
    "/../",
    "/../../",
    "/sub/../../",
    "/sub/deeper/../../../",
    "/./../",
    "/%2e%2e/",
    "/%2E%2E/",
    "/.%2e/",
    "/%2e%2e%2f",
    "/..%2f",
    "/..%2F",
    "/sub%2f..%2f..%2f",
    "/%252e%252e/",
    "/%252e%252e%252f",
    "/..%5c",
    "/..\\",
    "/%c0%ae%c0%ae/",
    "/%c0%ae%c0%ae%c0%af",
    "/..%c0%af",
    "//../",
    "/..;/",
    "http://grader/../",
    "http://grader/%2e%2e/",
    "/../../../../../../../../../../../../../../../../",
];

/// Request targets that try to reach the sentinel beside the root, from the
/// well-known families: plain and nested `..`, percent-encoded (once and
/// twice), backslashes, overlong UTF-8, NUL tricks, the absolute form, and the
/// sentinel's absolute path on disk.
pub fn traversal_targets(site: &Fixture) -> Vec<String> {
    let name = site.sentinel_name();
    let absolute = site.sentinel.to_string_lossy().into_owned();
    let mut targets: Vec<String> = CLIMBS
        .iter()
        .map(|climb| format!("{climb}{name}"))
        .collect();
    targets.push(format!("/../{name}%00.html"));
    targets.push(format!("/%2e%2e/{name}%00"));
    targets.push(absolute.clone());
    targets.push(format!("/{absolute}"));
    targets.push(format!("file://{absolute}"));
    // Names Windows reads as more than a name: `..\` with a trailing dot or
    // space or a stream (Windows strips the first two, and `::$DATA` is the
    // file itself), and the absolute path as one segment (`C:\...`, which
    // `Path::push` takes as a new root), with `/`, encoded, or as `\\?\`.
    for tail in [".", "%20", "::$DATA", ".%20."] {
        targets.push(format!("/..%5c{name}{tail}"));
    }
    let forward = absolute.replace('\\', "/");
    let encoded = absolute.replace('\\', "%5C");
    targets.push(format!("/{forward}"));
    targets.push(format!("/{encoded}"));
    targets.push(format!("/%5C%5C%3F%5C{encoded}"));
    targets
}

fn run(probe: &Probe) -> Result<(), Failure> {
    let targets = traversal_targets(&probe.site);
    let mut answered = 0;
    let mut unanswered: Vec<String> = Vec::new();
    for (n, target) in targets.iter().enumerate() {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            probe.addr()
        );
        let exchange = probe.send_within(request.as_bytes(), ANSWER_WITHIN);
        let token = probe.site.sentinel_token.as_bytes();
        if response::find(&exchange.received, token).is_some() {
            return Err(Failure::of(
                format!(
                    "GET {target} sent back the contents of {}, a file outside the root",
                    probe.site.sentinel.display()
                ),
                &exchange,
            ));
        }
        // Evidence that nothing leaked: an answer, or a close.
        let closed = matches!(exchange.end, End::Closed | End::Reset);
        if exchange.reply().is_some() || closed || !exchange.received.is_empty() {
            answered += 1;
            continue;
        }
        unanswered.push(format!("GET {target}"));
        let left = targets.len() - n - 1;
        if left == 0 {
            break;
        }
        let after = format!("after GET {target} got no answer");
        if unanswered.len() > MOST_RECOVERIES || !probe.recover(&after) {
            let problem = if answered == 0 {
                format!(
                    "could not be checked: the server answered none of the climbing requests, and stopped answering at GET {target}; {left} of {} were not sent",
                    targets.len()
                )
            } else {
                format!(
                    "the server stopped answering climbing requests ({}), so {left} of {} were not sent, and may leak",
                    unanswered.join(", "),
                    targets.len()
                )
            };
            return Err(Failure::of(problem, &exchange).unless(ANSWERS, &["connects"]));
        }
    }
    if answered == 0 {
        return Err(Failure::new(format!(
            "could not be checked: none of the {} climbing requests got an answer or a close",
            targets.len()
        ))
        .unless(ANSWERS, &["connects"]));
    }
    if !unanswered.is_empty() {
        probe.note(format!(
            "{} got no answer and no close (the server was brought back after each): nothing came back, so nothing leaked",
            unanswered.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_targets_all_name_the_sentinel() {
        let site = Fixture::temporary(false).unwrap();
        let name = site.sentinel_name();
        for target in traversal_targets(&site) {
            assert!(target.contains(&name), "{target}");
        }
    }
}
