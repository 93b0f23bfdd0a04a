//! Stage 2's checks: a client that connects and says nothing must not hold up
//! the others, as it does a server that serves one connection at a time.

pub mod idle_client;
pub mod reverse_order;
