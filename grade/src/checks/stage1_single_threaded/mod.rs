//! Stage 1's checks: the report's six steps, done right. Accept, read the
//! request, find the file under the root (and nowhere else), and send it back
//! byte for byte with a true `Content-Length` and `Content-Type`; write heads
//! as HTTP says; and survive clients that misbehave.
//!
//! This module holds what the stage's checks share; each check is a file.

pub mod binary_files;
pub mod connects;
pub mod content_length;
pub mod content_type;
pub mod head_syntax;
pub mod no_traversal;
pub mod paths;
pub mod split_request;
pub mod sub_folder;
pub mod survives_bad_clients;
pub mod text_files;

use crate::check::Failure;
use crate::checks::common::no_response;
use crate::client;
use crate::fixture;
use crate::probe::Probe;
use crate::response::Reply;

/// Files at the top of the root, for the header checks (so that a server that
/// cannot reach sub-folders fails only the sub-folder check).
pub const TOP_FILES: [&str; 4] = [
    fixture::INDEX,
    fixture::STYLE,
    fixture::IMAGE,
    fixture::DATA,
];

/// `GET` a file of the site and demand `200` with its exact bytes: all the
/// server sent after the head, not only what its `Content-Length` covers (a
/// wrong length is `content-length`'s to catch).
pub fn expect_exact(probe: &Probe, path: &str) -> Result<Reply, Failure> {
    let expected = &probe.site.file(path).bytes;
    let target = Probe::target(path);
    let exchange = probe.get(&target);
    let Some(reply) = exchange.reply() else {
        return Err(no_response(probe, &format!("GET {target}"), &exchange));
    };
    if reply.status() != 200 {
        return Err(Failure::of(
            format!("GET {target} got {} instead of 200", reply.status()),
            &exchange,
        ));
    }
    let body = reply.body_with_excess();
    if body[..] != expected[..] {
        let difference = client::first_difference(expected, &body);
        return Err(Failure::of(
            format!("GET {target}: the body is not the file: {difference}"),
            &exchange,
        ));
    }
    Ok(reply)
}
