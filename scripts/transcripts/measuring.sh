#!/usr/bin/env bash
# Transcripts for chapters/measuring.md: the experiments a reader can repeat,
# each one command. The benchmark's own tables and charts come from
# bench/run.py, not from here.
source "$(dirname "$0")/../lib/serve.sh"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# Measurements want the optimised build.
cargo build --quiet --release --examples --bin multithreaded-server
BIN="$REPO/target/release/multithreaded-server"

# Nagle's algorithm with delayed ACKs, and a byte per send. No server runs yet,
# so there is no port to show as 3000.
PORT=NOSERVER
shown "cargo run -q --release --example nagle" >"$(out nagle.txt)"
shown "cargo run -q --release --example byte_at_a_time" >"$(out byte-at-a-time.txt)"

# The report's listen(5): 50 clients reconnecting for every request.
site=$(mktemp -d)
printf '<!doctype html><title>small</title><p>%0420d</p>\n' 0 >"$site/index.html"
for backlog in 5 128; do
  start_server --stage thread-per-client --backlog "$backlog" --quiet --root "$site"
  shown "wrk --latency -t2 -c50 -d5s -H 'Connection: close' http://127.0.0.1:$PORT/" \
    >"$(out "backlog-$backlog.txt")"
  stop_server
done
rm -rf "$site"

# A thread per connection, counted: stage 2 and stage 5 under `strace -c -f`,
# which counts every system call of every thread, for the same load. The
# server is started as the chapter says, through a two-line wrapper that puts
# strace in front of it.
command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace; }
site=$(mktemp -d)
printf '<!doctype html><title>small</title><p>%0420d</p>\n' 0 >"$site/index.html"
REAL_BIN=$BIN
BIN=$(mktemp)
for stage in 2 5; do
  counted="$site/syscalls-stage-$stage.txt"
  printf '#!/bin/sh\nexec strace -f -c -o %s %s "$@"\n' "$counted" "$REAL_BIN" >"$BIN"
  chmod +x "$BIN"
  start_server --stage "$stage" --quiet --root "$site"
  {
    shown "wrk -t1 -c10 -d3s -H 'Connection: close' http://127.0.0.1:$PORT/"
    # Ctrl-C in the server's terminal reaches the server; strace, started with
    # a program to run, holds fatal signals itself, and ends when it does.
    pkill -INT -P "$SERVER_PID"
    wait "$SERVER_PID" || true
    # strace's table, busiest first: share of time, seconds, microseconds a call, calls, errors, name.
    printf '$ sort -k4 -n -r syscalls.txt\n'
    grep -E '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+' "$counted" | sort -k4 -n -r
  } >"$(out "syscalls-stage-$stage.txt")"
done
BIN=$REAL_BIN
rm -rf "$site"
