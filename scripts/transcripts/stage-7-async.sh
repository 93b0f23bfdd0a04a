#!/usr/bin/env bash
# Transcripts for chapters/stage-7-async.md.
source "$(dirname "$0")/../lib/serve.sh"

THREADS_NOW="grep Threads /proc/\$(pgrep -n multithreaded)/status"
FDS_NOW="ls /proc/\$(pgrep -n multithreaded)/fd | wc -l"
TIMED_CURL="curl -s -o /dev/null -w 'HTTP %{http_code} after %{time_total} s\\n'"

# A thousand idle connections, half kept alive after a request and half silent,
# against stage 6 with 64 workers and stage 7 with 64 permits, with the server's
# threads and open files counted from /proc, and for stage 7 its threads by
# name (how many blocking threads tokio started varies from run to run). In a
# PID namespace of its own (`unshare`, which needs root), so that `pgrep -n`
# finds our server.
if [[ "${1:-}" == --crowd ]]; then
  timed_curl="curl -s -o /dev/null -w \"HTTP %{http_code} after %{time_total} s\\n\" http://127.0.0.1"
  for stage in 6 7; do
    start_server --stage "$stage" --threads 64 --quiet
    names=""
    if [[ $stage == 7 ]]; then
      names="; cat /proc/\$(pgrep -n multithreaded)/task/*/comm"
    fi
    {
      shown "$THREADS_NOW"
      shown "python3 scripts/idle-clients.py 1000 --kept 500 --port $PORT --then '$THREADS_NOW$names; $FDS_NOW; $timed_curl:$PORT/'"
    } >"$(out "thousand-idle-stage-$stage.txt")"
    stop_server
  done
  exit
fi
unshare --pid --fork --mount-proc bash "$0" --crowd

# Run it: requests on one connection, and the log that names the threads.
start_server
shown "curl -s -w '%{url_effective}: HTTP %{http_code}, new connections: %{num_connects}\\n' -o /dev/null -o /dev/null -o /dev/null http://127.0.0.1:$PORT/ http://127.0.0.1:$PORT/style.css http://127.0.0.1:$PORT/images/favicon.svg" \
  >"$(out three-requests.txt)"
wait_for_log 'favicon.svg'
server_log >"$(out three-requests-log.txt)"
stop_server

# Break it: the slow readers of stage 6 again, with two permits.
site=$(mktemp -d)
head -c 60000000 /dev/urandom >"$site/big.bin"
echo small >"$site/small.txt"
start_server --threads 2 --write-timeout 5s --root "$site"
shown "python3 scripts/idle-clients.py 2 --stalled 2 --request /big.bin --port $PORT --then \"$TIMED_CURL http://127.0.0.1:$PORT/small.txt\"" \
  >"$(out slow-readers.txt)"
wait_for_log '"GET /small.txt HTTP/1.1"'
server_log >"$(out slow-readers-log.txt)"
stop_server
# ...and with the default, 16.
start_server --write-timeout 5s --root "$site"
shown "python3 scripts/idle-clients.py 2 --stalled 2 --request /big.bin --port $PORT --then \"$TIMED_CURL http://127.0.0.1:$PORT/small.txt\"" \
  >"$(out slow-readers-16.txt)"
stop_server
rm -rf "$site"

# Ctrl-C: the download finishes, the idle connections are closed, exit 0.
ctrl_c_during_download 7
