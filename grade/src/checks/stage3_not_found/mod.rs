//! Stage 3's checks: errors get answers. A missing file gets `404 Not Found`
//! with the site's own `error.html`, and a request that is not HTTP gets
//! `400 Bad Request`, not a silent close.

pub mod bad_request;
pub mod not_found_page;
