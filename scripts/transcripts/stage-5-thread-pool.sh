#!/usr/bin/env bash
# Transcripts for chapters/stage-5-thread-pool.md.
source "$(dirname "$0")/../lib/serve.sh"

THREADS_NOW="grep Threads /proc/\$(pgrep -n multithreaded)/status"
TIMED_CURL="curl -s -o /dev/null -w 'HTTP %{http_code} after %{time_total} s\\n'"

# The crowd: 500 silent clients against stage 4, then against stage 5, with the
# server's threads counted from /proc. The command in the book finds the server
# with `pgrep -n`, the newest process of that name; on a machine where other
# programs of that name start all the time that could be one of them, so this
# part runs in a PID namespace of its own (`unshare`, which needs root), where
# the only server is the one started here.
if [[ "${1:-}" == --crowd ]]; then
  for stage in 4 5; do
    start_server --stage "$stage" --quiet
    {
      shown "$THREADS_NOW"
      shown "python3 scripts/idle-clients.py 500 --port $PORT --then '$THREADS_NOW'"
    } >"$(out "crowd-stage-$stage.txt")"
    stop_server
  done
  exit
fi
unshare --pid --fork --mount-proc bash "$0" --crowd

# Run it: a browser loads the start page; the workers share the requests.
start_server --stage 5
browser_visit
server_log >"$(out browser-visit.txt)"
stop_server

# A full queue: two workers, room for two waiting connections. Four silent
# clients fill both; the fifth client is told 503 at once.
start_server --stage 5 --threads 2 --queue 2
shown "python3 scripts/idle-clients.py 4 --port $PORT --then 'curl -sS -D - -o /dev/null http://127.0.0.1:$PORT/'" \
  >"$(out full-queue.txt)"
server_log >"$(out full-queue-log.txt)"
stop_server

# Break it: as many silent clients as workers hold every worker, and a normal
# request waits in the queue until the read timeout (10 s) frees one. Stage 4,
# with a thread per client, answers the same request at once.
for stage in 4 5; do
  if [[ $stage == 4 ]]; then start_server --stage 4; else start_server --stage 5 --threads 4; fi
  shown "python3 scripts/idle-clients.py 4 --port $PORT --then \"$TIMED_CURL http://127.0.0.1:$PORT/\"" \
    >"$(out "idle-workers-stage-$stage.txt")"
  if [[ $stage == 5 ]]; then
    wait_for_log '"GET / HTTP/1.1"'
    server_log >"$(out idle-workers-log.txt)"
  fi
  stop_server
done

# Ctrl-C in the middle of a download, as in stage 4: it finishes, the workers
# are joined, and the server exits 0.
ctrl_c_during_download 5

# Our pool against panics: the test that feeds it forty jobs, every other one of
# which panics. Built first, so that only its own output is shown.
cargo test --quiet --no-run --test thread_pool 2>/dev/null
PORT=no-server # no port to replace in this one
shown "cargo test -q --test thread_pool the_pool_survives_panicking_jobs" | grep -v '^$' \
  >"$(out panics.txt)"
