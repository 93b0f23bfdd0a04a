//! `sub-folder`: a path names folders under the root, not just a file.
//!
//! The files are recognised by their tokens: this check is about finding
//! them, not about their exact bytes.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::expect_token;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "sub-folder",
    stage: Stage::SingleThreaded,
    title: "files in sub-folders are served",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Map the whole path under the root, folders included, not just the file's name.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::SUB_PAGE, fixture::SUB_NOTES] {
        expect_token(probe, path)?;
    }
    Ok(())
}
