//! The checks, one file each, in a folder per stage; this module only lists
//! them, in the order a report shows them.
//!
//! Grading stage N runs every check whose stage is N or lower. A check is a
//! [`Check`] (its id, stage, claim, time limit, how it uses the server, what
//! it needs, its hint) and the function that runs it, together in its file,
//! as mini-redis keeps one command in one file. To add one, write its file
//! beside its stage's others, and add it to [`CHECKS`].
//!
//! A check talks to the server through its [`Probe`] and returns `Ok`, or a
//! [`Failure`](crate::check::Failure) saying what was sent, what came back
//! (or did not), and what was wrong. Each judges one behaviour: its requests
//! and files are chosen so that another check's fault cannot decide it (see
//! [`common`]), and a failure that another check's fault explains says so,
//! to be reported as "not judged" rather than as a second fault.
//!
//! | folder | the stage's checks |
//! |---|---|
//! | [`stage1_single_threaded`] | the server answers; files served byte for byte, with true headers, from the root alone, by paths as browsers write them; heads written as HTTP says; bad clients survived |
//! | [`stage2_thread_per_client`] | a silent client holds no one up |
//! | [`stage3_not_found`] | 404 with `error.html`; 400 for what is not HTTP |
//! | [`stage4_daemon_join`] | Ctrl-C: downloads finish, exit 0, in time |
//! | [`stage5_thread_pool`] | a bounded pool, 503 when full, workers that survive their clients |
//! | [`stage6_keep_alive`] | persistent connections, pipelining, idle connections that cost no worker |
//! | [`stage7_async`] | ten thousand idle connections, with fewer than 20 threads |
//!
//! The [`extensions`] are HTTP beyond what the stages need (validators,
//! ranges, compression, uploads): their checks run only when asked for
//! (`grade --with ranges`), after the stage's, and [`EXTENSIONS`] says
//! which are whose.

pub mod common;
pub mod extensions;
pub mod stage1_single_threaded;
pub mod stage2_thread_per_client;
pub mod stage3_not_found;
pub mod stage4_daemon_join;
pub mod stage5_thread_pool;
pub mod stage6_keep_alive;
pub mod stage7_async;

use crate::check::{self, Extension};
use crate::probe::Probe;
use course::Stage;

use extensions as ext;
use stage1_single_threaded as one;
use stage2_thread_per_client as two;
use stage3_not_found as three;
use stage4_daemon_join as four;
use stage5_thread_pool as five;
use stage6_keep_alive as six;
use stage7_async as seven;

/// A check, run with a [`Probe`].
pub type Check = check::Check<Probe>;

/// Every check of every stage, in the order they are listed in a report.
pub static CHECKS: &[&Check] = &[
    // -- Stage 1: the six steps.
    &one::connects::CHECK,
    &one::text_files::CHECK,
    &one::binary_files::CHECK,
    &one::content_length::CHECK,
    &one::content_type::CHECK,
    &one::sub_folder::CHECK,
    &one::paths::CHECK,
    &one::no_traversal::CHECK,
    &one::split_request::CHECK,
    &one::survives_bad_clients::CHECK,
    &one::head_syntax::CHECK,
    // -- Stage 2: a thread per client.
    &two::idle_client::CHECK,
    &two::reverse_order::CHECK,
    // -- Stage 3: errors get answers.
    &three::not_found_page::CHECK,
    &three::bad_request::CHECK,
    // -- Stage 4: Ctrl-C finishes what is under way.
    &four::ctrl_c_finishes_download::CHECK,
    &four::ctrl_c_exits_0::CHECK,
    &four::idle_client_cannot_hold_shutdown::CHECK,
    // -- Stage 5: a fixed pool of workers and a bounded queue.
    &five::threads_bounded::CHECK,
    &five::overload_503::CHECK,
    &five::pool_keeps_its_workers::CHECK,
    &five::ctrl_c_with_busy_pool::CHECK,
    // -- Stage 6: keep-alive, and idle connections that cost no worker.
    &six::keep_alive::CHECK,
    &six::pipelining::CHECK,
    &six::connection_close::CHECK,
    &six::http_10::CHECK,
    &six::idle_timeout::CHECK,
    &six::many_idle_connections::CHECK,
    // -- Stage 7: connections that cost no thread, by the ten thousand.
    &seven::ten_thousand_idle::CHECK,
    // -- The extensions, each graded only when asked for: see EXTENSIONS.
    &ext::validators::CHECK,
    &ext::ranges::RANGE,
    &ext::ranges::UNSATISFIABLE,
    &ext::compression::CHECK,
    &ext::uploads::CREATES,
    &ext::uploads::WHOLE,
    &ext::uploads::NO_ESCAPE,
];

/// Each extension's checks, in the order of [`CHECKS`], where they come
/// after every stage's.
pub static EXTENSIONS: &[(Extension, &[&Check])] = &[
    (Extension::Validators, &[&ext::validators::CHECK]),
    (
        Extension::Ranges,
        &[&ext::ranges::RANGE, &ext::ranges::UNSATISFIABLE],
    ),
    (Extension::Compression, &[&ext::compression::CHECK]),
    (
        Extension::Uploads,
        &[
            &ext::uploads::CREATES,
            &ext::uploads::WHOLE,
            &ext::uploads::NO_ESCAPE,
        ],
    ),
];

/// The extension `check` belongs to, if it is one of theirs.
pub fn extension_of(check: &Check) -> Option<Extension> {
    EXTENSIONS
        .iter()
        .find(|(_, checks)| checks.iter().any(|c| c.id == check.id))
        .map(|(extension, _)| *extension)
}

/// The checks for grading `stage` with `extensions`: the stage's own, those
/// of every stage before it, and the extensions'.
pub fn selected(stage: Stage, extensions: &[Extension]) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().copied().filter(move |check| {
        check.stage <= stage
            && extension_of(check).is_none_or(|extension| extensions.contains(&extension))
    })
}

/// The checks for grading `stage`: its own and those of every stage before it.
pub fn up_to(stage: Stage) -> impl Iterator<Item = &'static Check> {
    selected(stage, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_checks_are_listed_by_stage() {
        let mut ids: Vec<_> = CHECKS.iter().map(|check| check.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        let stages: Vec<&Check> = CHECKS
            .iter()
            .copied()
            .filter(|check| extension_of(check).is_none())
            .collect();
        assert!(stages.windows(2).all(|pair| pair[0].stage <= pair[1].stage));
    }

    #[test]
    fn the_extensions_checks_come_last_in_their_order() {
        let listed: Vec<&str> = EXTENSIONS
            .iter()
            .flat_map(|(_, checks)| checks.iter().map(|check| check.id))
            .collect();
        let tail: Vec<&str> = CHECKS[CHECKS.len() - listed.len()..]
            .iter()
            .map(|check| check.id)
            .collect();
        assert_eq!(listed, tail);
        let order: Vec<Extension> = EXTENSIONS.iter().map(|(extension, _)| *extension).collect();
        assert_eq!(order, Extension::ALL);
    }

    #[test]
    fn extensions_are_graded_only_when_asked_for() {
        let last = Stage::ALL[Stage::ALL.len() - 1];
        assert!(up_to(last).all(|check| extension_of(check).is_none()));
        let ranges = |stage| {
            selected(stage, &[Extension::Ranges])
                .filter_map(|check| extension_of(check).map(|_| check.id))
                .collect::<Vec<_>>()
        };
        // 416 is an error's answer, which stages 1 and 2 do not give.
        assert_eq!(ranges(Stage::ThreadPerClient), ["range-206"]);
        assert_eq!(ranges(Stage::NotFound), ["range-206", "range-416"]);
        assert_eq!(selected(last, &Extension::ALL).count(), CHECKS.len());
    }

    #[test]
    fn every_stage_adds_checks_to_the_one_before() {
        let counts: Vec<usize> = Stage::ALL
            .into_iter()
            .map(|stage| up_to(stage).count())
            .collect();
        assert!(
            counts.windows(2).all(|pair| pair[0] < pair[1]),
            "{counts:?}"
        );
    }
}
