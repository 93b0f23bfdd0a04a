//! Stage 7's check: connections that cost no thread, by the ten thousand.

pub mod ten_thousand_idle;
