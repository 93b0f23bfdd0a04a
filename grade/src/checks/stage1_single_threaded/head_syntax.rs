//! `head-syntax`: every response's head is written as RFC 9112 says.
//!
//! The other checks read responses as curl and browsers do, forgiving bare
//! `\n` line ends, a missing reason phrase, folded lines, a status line with
//! rubbish where the version should be; so a server that writes its heads
//! badly is failed for that here, once, and judged on what it meant
//! everywhere else. This check runs last, and judges the head of every
//! response the checks before it received, error pages included: a C server
//! that prints `(null) 400 Bad Request` does so only for a malformed request.
//! An answer whose head never ends (no empty line before the close) is no
//! HTTP at all to the other checks; it is named here.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::ANSWERS;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use crate::response::HeadSyntax;
use course::Stage;

pub static CHECK: Check = Check {
    id: "head-syntax",
    stage: Stage::SingleThreaded,
    title: "every response's status line and headers are well formed, each line ending in \\r\\n",
    limit: Duration::from_secs(15),
    mode: Mode::Last,
    needs: &[],
    hint: "Write the status line as `HTTP/1.1 200 OK` (the version, a space, the three-digit code, a space, the reason), each header as `Name: value` with no space before the colon, end every line with \\r\\n, and end the head with an empty line (\\r\\n).",
    run,
};

/// The hint for a head whose lines end in a bare `\n`.
pub const BARE_LF_HINT: &str = "End the status line and every header line with \\r\\n (CR LF), not \\n alone, and end the head with an empty line, \\r\\n. Browsers and curl forgive a bare \\n, but HTTP asks for CR LF, and a proxy or a strict client may not read the response at all.";

fn run(probe: &Probe) -> Result<(), Failure> {
    // Requests of its own, so that there is something to judge even when
    // the checks before it were skipped: a file, and a file that is not there.
    let _ = probe.get(&Probe::target(fixture::INDEX));
    let _ = probe.get(&format!("/missing-{}.html", probe.site.token));
    let heads = probe.heads.all();
    let unended = probe.heads.unended();
    if heads.is_empty() && unended.is_empty() {
        return Err(
            Failure::new("no response came back, so there was no head to judge")
                .unless(ANSWERS, &["connects"]),
        );
    }
    for (request, head) in &heads {
        if let Err(problem) = head.syntax() {
            let hint = match problem {
                HeadSyntax::BareLineFeed { .. } => Some(BARE_LF_HINT),
                _ => None,
            };
            let failure = Failure::new(format!("the response to `{request}`: {problem}"))
                .sent(request.clone())
                .received(client::escape(&head.raw, 600));
            return Err(match hint {
                Some(hint) => failure.hint(hint),
                None => failure,
            });
        }
    }
    if let Some((request, received)) = unended.first() {
        return Err(Failure::new(format!(
            "the response to `{request}` has a head that never ends: {} bytes came back, then the close, with no empty line (\\r\\n\\r\\n) after the status line and headers, so no client can tell its head from its body",
            received.len()
        ))
        .sent(request.clone())
        .received(client::escape(received, 600)));
    }
    probe.note(format!(
        "{} response heads judged, from every check before this one",
        heads.len()
    ));
    Ok(())
}
