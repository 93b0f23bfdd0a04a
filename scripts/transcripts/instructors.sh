#!/usr/bin/env bash
# Transcripts for chapters/instructors.md ("For instructors: grading"), from
# real runs of `multithreaded-server grade`. Writes
# chapters/transcripts/instructors/*.txt.
#
# Each transcript shows the command as an instructor types it, after a `$ `
# prompt, then what it printed (stderr and stdout, without colour). The ports,
# folders and timings are those of the run that made it.
#
# Needs python3 (the Python submission is the course's test server,
# tests/broken/server.py). Takes about a minute.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
cargo build --quiet --workspace --bins
OUT="$REPO/chapters/transcripts/instructors"
mkdir -p "$OUT"
# The grader as an installed command, as the chapter shows it.
export PATH="$REPO/target/debug:$PATH"
export NO_COLOR=1

# shown COMMAND: the command after a prompt, then what it prints. A command
# that fails is shown failing, followed by its exit status.
shown() {
  printf '$ %s\n' "$*"
  local status=0
  bash -c "$*" 2>&1 || status=$?
  if [[ $status -ne 0 ]]; then
    printf '$ echo $?\n%s\n' "$status"
  fi
}

shown "multithreaded-server grade --list" >"$OUT/list.txt"

# A Python submission: a folder holding the student's server.py.
submission=$(mktemp -d)
trap 'rm -rf "$submission"' EXIT
cp tests/broken/server.py "$submission/server.py"
(
  cd "$submission"
  shown "multithreaded-server grade --stage 2 -- python3 server.py {port} {root}" >"$OUT/python-pass.txt"
  # The same server with one mistake switched on: Content-Length in characters.
  shown "multithreaded-server grade --stage 2 -- python3 server.py {port} {root} --defect length-in-characters" \
    >"$OUT/python-fail.txt"
  shown "multithreaded-server grade --stage 1 --json -- python3 server.py {port} {root} --defect length-in-characters" \
    >"$OUT/python-json.txt"
  # Stage 6 without the placeholders the pool checks need: skipped, saying why.
  shown "multithreaded-server grade --stage 6 -- python3 server.py {port} {root}" >"$OUT/placeholders.txt"
  # With them, and a server whose idle connections each hold a worker.
  shown "multithreaded-server grade --stage 6 -- python3 server.py {port} {root} --threads {threads} --queue {queue} --keep-alive-timeout {keep_alive_timeout} --defect worker-per-connection" \
    >"$OUT/python-stage-6.txt"
)

# A Rust submission: exercise 4 as it is handed out, before its TODOs are done.
shown "multithreaded-server grade --stage 4 -- cargo run -q -p ex04-daemon-join -- --port {port} --root {root}" \
  >"$OUT/rust-exercise.txt"

# A server that is already running, serving an empty folder, with its pool's
# settings given to the grader.
site=$(mktemp -d)
trap 'rm -rf "$submission" "$site"; kill "$server" 2>/dev/null || true' EXIT
log=$(mktemp)
settings="--threads 4 --queue 16 --keep-alive-timeout 2"
# shellcheck disable=SC2086 # $settings is several arguments
multithreaded-server --stage 6 --port 0 --root "$site" --quiet $settings >"$log" &
server=$!
until grep -q '^Listening on' "$log"; do sleep 0.05; done
addr=$(sed -n 's|^Listening on http://\([^/]*\)/.*|\1|p' "$log")
shown "multithreaded-server grade --stage 6 --addr $addr --root $site $settings" >"$OUT/running.txt"
kill "$server"
rm -f "$log"
