//! `reverse-order`: four open connections are answered in the reverse order
//! of opening.
//!
//! Each connection needs a thread of its own (or a free worker) while the
//! ones opened before it stay silent. The files asked for are at the top of
//! the root and recognised by their tokens: this check is about who is
//! served when, so a server that cannot reach sub-folders, or changes line
//! ends, or cannot serve binary files, is not failed here for that.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, expect_token, holds, request_for, waited};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "reverse-order",
    stage: Stage::ThreadPerClient,
    title: "four open connections are answered in the reverse order of opening",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Each open connection needs a thread of its own, or a free worker: a small, fixed set of workers is held by the first, silent connections while the last one is asking.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // Text files at the top of the root, two of them asked twice: which
    // answer is whose is told by their tokens, and binary files, which some
    // servers cannot serve at all, are `binary-files`' to judge.
    let paths = [
        fixture::INDEX,
        fixture::STYLE,
        fixture::ERROR_PAGE,
        fixture::STYLE,
    ];
    // Answered first with nobody else connected, the server is judged on
    // what the silent connections do to it alone (see idle-client); a file
    // it cannot serve even then is `text-files`' fault.
    expect_token(probe, fixture::INDEX)?;
    expect_token(probe, fixture::STYLE)?;
    let mut streams = Vec::new();
    for _ in &paths {
        streams.push(probe.connect()?);
    }
    let count = paths.len();
    for (n, (stream, path)) in streams.iter_mut().zip(paths).enumerate().rev() {
        let exchange = probe.exchange_on(
            stream,
            &request_for(probe, path),
            probe.within(ANSWER_WITHIN),
        );
        let what = format!(
            "connection {} of {} (asking while the {n} opened before it were silent; {})",
            n + 1,
            count,
            waited(&exchange)
        );
        holds(probe, &exchange, path, &what).map_err(Failure::its_own)?;
    }
    Ok(())
}
