//! `not-found-page`: a missing file gets `404 Not Found`, with the site's
//! own `error.html` (recognised by its token) as the body.

use std::time::Duration;

use crate::check::{Failure, Mode};
use crate::checks::Check;
use crate::checks::common::{no_response, which_file};
use crate::fixture;
use crate::probe::Probe;
use course::Stage;

// ANCHOR: not_found_check
pub static CHECK: Check = Check {
    id: "not-found-page",
    stage: Stage::NotFound,
    title: "a missing file gets 404 with the site's error.html",
    limit: Duration::from_secs(15),
    mode: Mode::Shared,
    needs: &[],
    hint: "When the file does not exist, answer 404 Not Found with the root's error.html as the body.",
    run,
};
// ANCHOR_END: not_found_check

// ANCHOR: not_found_page
fn run(probe: &Probe) -> Result<(), Failure> {
    let path = format!("/missing-{}.html", probe.site.token);
    let exchange = probe.get(&path);
    let Some(reply) = exchange.reply() else {
        return Err(no_response(probe, &format!("GET {path}"), &exchange));
    };
    if reply.status() != 404 {
        return Err(Failure::of(
            format!(
                "GET {path} (no such file) got {} instead of 404",
                reply.status()
            ),
            &exchange,
        ));
    }
    let page = probe.site.file(fixture::ERROR_PAGE);
    let body = reply.body_with_excess();
    if !page.is_in(&body) {
        return Err(Failure::of(
            format!(
                "the 404's body is not the root's error.html: {}",
                which_file(probe, page, &body)
            ),
            &exchange,
        ));
    }
    Ok(())
}
// ANCHOR_END: not_found_page
