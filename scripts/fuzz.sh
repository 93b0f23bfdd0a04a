#!/usr/bin/env bash
# Fuzzes the HTTP core for a bounded time (default 60 seconds a target):
#
#   scripts/fuzz.sh                   # both targets, one minute each
#   scripts/fuzz.sh 600               # both, ten minutes each
#   scripts/fuzz.sh 600 read_body     # one target
#
# The targets are parse_head (the request head parser) and read_body (the
# request body reader, chunked or by Content-Length). Needs cargo-fuzz
# (`cargo install --locked cargo-fuzz`); runs on stable Rust because `-s
# none` turns off the sanitizers, which need nightly. New inputs that reach
# new code are kept in fuzz/corpus/TARGET/ for the next run; a crash is saved
# in fuzz/artifacts/TARGET/ and makes this script fail. Each target starts
# from its own seeds, in fuzz/seeds/TARGET/. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(parse_head read_body)
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install --locked cargo-fuzz" >&2
  exit 2
fi

for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  # The build checks arithmetic for overflow, as a debug build does, so an
  # overflow is a crash rather than a wrapped number.
  cargo fuzz run --sanitizer none --debug-assertions "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" \
    -- -max_total_time="$seconds" -dict=fuzz/http.dict -max_len=4096 -print_final_stats=1
done
