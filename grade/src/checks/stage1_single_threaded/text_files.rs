//! `text-files`: text files come back byte for byte.
//!
//! With `binary-files`, one of the two checks that judge a file's exact
//! bytes. Every other check recognises a file by its token, so that a server
//! that changes line ends fails this check and no other.

use std::time::Duration;

use super::expect_exact;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "text-files",
    stage: Stage::SingleThreaded,
    title: "text files come back with 200, byte for byte",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Send the file's bytes exactly as they are on disk: read it as bytes, not as text, which can change line ends.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    // index.html has CRLF line ends and style.css LF ones, and both hold
    // characters outside ASCII; notes.txt is plain text, of a type a server
    // that knows only its pages' types leaves out.
    for path in [fixture::INDEX, fixture::STYLE, fixture::NOTES] {
        expect_exact(probe, path)?;
    }
    Ok(())
}
