#!/usr/bin/env bash
# Fuzzes the request parser for a bounded time (default 60 seconds):
#
#   scripts/fuzz.sh        # one minute
#   scripts/fuzz.sh 600    # ten minutes
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`); runs on stable Rust
# because `-s none` turns off the sanitizers, which need nightly. New inputs
# that reach new code are kept in fuzz/corpus/parse_head/ for the next run; a
# crash is saved in fuzz/artifacts/parse_head/ and makes this script fail.
# See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install --locked cargo-fuzz" >&2
  exit 2
fi

mkdir -p fuzz/corpus/parse_head
# The build checks arithmetic for overflow, as a debug build does, so an
# overflow is a crash rather than a wrapped number.
cargo fuzz run --sanitizer none --debug-assertions parse_head \
  fuzz/corpus/parse_head fuzz/seeds \
  -- -max_total_time="$seconds" -dict=fuzz/http.dict -max_len=4096 -print_final_stats=1
