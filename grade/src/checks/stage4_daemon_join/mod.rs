//! Stage 4's checks: Ctrl-C. The server stops accepting, lets the responses
//! under way finish, and exits with status 0, within a time limit even when a
//! client holds a connection and says nothing. Each runs on a server of its
//! own, as it sends that server Ctrl-C.

pub mod ctrl_c_exits_0;
pub mod ctrl_c_finishes_download;
pub mod idle_client_cannot_hold_shutdown;

/// Sends the server Ctrl-C: the reason these checks need a server of their own.
pub const SENDS_CTRL_C: &str = "it sends the server Ctrl-C";
