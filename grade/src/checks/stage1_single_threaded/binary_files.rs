//! `binary-files`: binary files come back byte for byte.
//!
//! A PNG signature and random bytes, and a file holding every byte value: a
//! server that reads files as UTF-8 text mangles them, and fails this check
//! (other checks recognise files by their token, which survives).

use std::time::Duration;

use super::expect_exact;
use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

pub static CHECK: Check = Check {
    id: "binary-files",
    stage: Stage::SingleThreaded,
    title: "binary files (PNG, arbitrary bytes) come back with 200, byte for byte",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "Read files in binary mode and send the bytes unchanged; decoding them as text mangles anything that is not text.",
    run,
};

fn run(probe: &Probe) -> Result<(), Failure> {
    for path in [fixture::IMAGE, fixture::DATA] {
        expect_exact(probe, path)?;
    }
    Ok(())
}
