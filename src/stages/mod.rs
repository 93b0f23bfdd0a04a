//! The stages, each behind its own Cargo feature, and the one function that runs
//! whichever was chosen.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::shutdown::Shutdown;
use crate::{log, platform};

#[cfg(feature = "async")]
pub mod async_tokio;
#[cfg(feature = "daemon-join")]
pub mod daemon_join;
#[cfg(feature = "keep-alive")]
pub mod keep_alive;
#[cfg(feature = "not-found")]
pub mod not_found;
#[cfg(feature = "single-threaded")]
pub mod single_threaded;
#[cfg(feature = "thread-per-client")]
pub mod thread_per_client;
#[cfg(feature = "thread-pool")]
pub mod thread_pool;

pub use course::Stage;

/// Whether this build has `stage`'s feature. (Every stage is known to
/// [`Stage`] whether or not it is compiled in, so `--stage` can say how to get
/// a missing one.)
pub fn is_compiled(stage: Stage) -> bool {
    match stage {
        Stage::SingleThreaded => cfg!(feature = "single-threaded"),
        Stage::ThreadPerClient => cfg!(feature = "thread-per-client"),
        Stage::NotFound => cfg!(feature = "not-found"),
        Stage::DaemonJoin => cfg!(feature = "daemon-join"),
        Stage::ThreadPool => cfg!(feature = "thread-pool"),
        Stage::KeepAlive => cfg!(feature = "keep-alive"),
        Stage::Async => cfg!(feature = "async"),
    }
}

/// The most complete stage in this build: what `cargo run` serves with.
pub fn highest_compiled() -> Option<Stage> {
    Stage::ALL
        .into_iter()
        .rev()
        .find(|stage| is_compiled(*stage))
}

/// Whether `stage` handles Ctrl-C itself (otherwise the signal kills the process).
pub fn handles_signals(stage: Stage) -> bool {
    stage >= Stage::DaemonJoin
}

/// How many workers `stage` has when `--threads` is not given.
///
/// A `thread-pool` worker waits while its client sends the request, so the
/// pool needs room for slow clients, and more workers cost next to nothing:
/// measured on two cores, 4 and 16 workers serve small pages equally fast,
/// and 16 cost less than half a MiB more. A `keep-alive` worker never waits
/// for a client to send; it only works, and more workers than cores only
/// take turns: 16 workers served nearly a quarter fewer kept-alive requests
/// a second than 4. So it gets
/// twice as many as the machine has cores, and at least 4 ("Measuring the
/// stages" has the numbers).
pub fn default_threads(stage: Stage) -> usize {
    match stage {
        Stage::KeepAlive => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (2 * cores).max(4)
        }
        _ => Config::DEFAULT_THREADS,
    }
}

/// Why a stage could not run.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The stage's feature was left out of this build.
    #[error("stage `{0}` is not compiled in; rebuild with `--features {0}`")]
    NotCompiled(Stage),
    /// Every stage's feature was left out of this build.
    #[error("no stage is compiled in; rebuild with `--features single-threaded`")]
    NoneCompiled,
    /// The server failed (its listener, usually).
    #[error("the server stopped: {0}")]
    Io(io::Error),
}

/// Runs `stage` on an already-bound listener until it stops.
///
/// Stages 1 to 3 run until the process is killed. From `daemon-join` on, a stage
/// returns when `shutdown` is requested and its clients are done.
pub fn run(
    stage: Stage,
    listener: TcpListener,
    config: Arc<Config>,
    shutdown: Shutdown,
) -> Result<(), StageError> {
    // Only the stages that use the shutdown flag look at it; a build with no
    // stage at all looks at none of the arguments.
    let _ = (&listener, &config, &shutdown);
    match stage {
        #[cfg(feature = "single-threaded")]
        Stage::SingleThreaded => single_threaded::run(listener, &config).map_err(StageError::Io),
        #[cfg(feature = "thread-per-client")]
        Stage::ThreadPerClient => thread_per_client::run(listener, config).map_err(StageError::Io),
        #[cfg(feature = "not-found")]
        Stage::NotFound => not_found::run(listener, config).map_err(StageError::Io),
        #[cfg(feature = "daemon-join")]
        Stage::DaemonJoin => daemon_join::run(listener, config, shutdown).map_err(StageError::Io),
        #[cfg(feature = "thread-pool")]
        Stage::ThreadPool => thread_pool::run(listener, config, shutdown).map_err(StageError::Io),
        #[cfg(feature = "keep-alive")]
        Stage::KeepAlive => keep_alive::run(listener, config, shutdown).map_err(StageError::Io),
        #[cfg(feature = "async")]
        Stage::Async => async_tokio::run(listener, config, shutdown).map_err(StageError::Io),
        #[allow(unreachable_patterns)]
        stage => Err(StageError::NotCompiled(stage)),
    }
}

/// Says in the log how a graceful shutdown ended: every `what` (clients or
/// workers) done, or how many were given up on when the timeout came.
pub fn log_stopped(stalled: usize, what: &str, timeout: Duration) {
    if stalled > 0 {
        log::error(format_args!(
            "gave up on {stalled} {what}(s) after {timeout:?}; bye"
        ));
    } else {
        log::info(format_args!("all {what}s done; bye"));
    }
}

/// The stream from one `accept`, or `None` (logged) if it failed.
///
/// Most accept errors concern one connection that is already gone, and the loop
/// should simply go on. Running out of file descriptors is different: the pending
/// connection stays queued, `accept` fails again at once, and a loop that retried
/// immediately would spin at 100% CPU. So on that error we pause briefly, and
/// clients that finish meanwhile give descriptors back.
pub fn accepted(result: io::Result<TcpStream>) -> Option<TcpStream> {
    match result {
        Ok(stream) => Some(stream),
        Err(error) => {
            log::error(format_args!("accept failed: {error}"));
            if platform::is_out_of_descriptors(&error) {
                std::thread::sleep(Duration::from_millis(50));
            }
            None
        }
    }
}
