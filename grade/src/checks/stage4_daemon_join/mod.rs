//! Stage 4's checks: Ctrl-C. The server stops accepting, lets the responses
//! under way finish, and exits with status 0, within a time limit even when a
//! client holds a connection and says nothing. Each runs on a server of its
//! own, as it sends that server Ctrl-C.

use std::time::Duration;

pub mod ctrl_c_exits_0;
pub mod ctrl_c_finishes_download;
pub mod idle_client_cannot_hold_shutdown;

/// Sends the server Ctrl-C: the reason these checks need a server of their own.
pub const SENDS_CTRL_C: &str = "it sends the server Ctrl-C";

/// How long after Ctrl-C a download must have been kept going, if the
/// server then cut it short. A server may give up on its downloads after a
/// few seconds (the course's do after `--shutdown-timeout`, 5 s), and on a
/// busy machine a 16 MiB download can take longer than that: a cut this
/// late is the server's own time limit, and noted, not failed. A server that
/// ends its downloads at once (the report's daemon threads) cuts them as
/// soon as the bytes already in the socket buffers are read, well within
/// this.
pub const GIVES_UP_AFTER: Duration = Duration::from_secs(2);
