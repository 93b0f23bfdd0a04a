#!/usr/bin/env bash
# Transcripts for chapters/stage-6-keep-alive.md.
source "$(dirname "$0")/../lib/serve.sh"

THREADS_NOW="grep Threads /proc/\$(pgrep -n multithreaded)/status"
FDS_NOW="ls /proc/\$(pgrep -n multithreaded)/fd | wc -l"
TIMED_CURL="curl -s -o /dev/null -w 'HTTP %{http_code} after %{time_total} s\\n'"
# The lines of `curl -v` that say which connection carried which request.
WHICH_CONNECTION="grep -E '^(\\* (Connected|Re-using|Closing)|> GET|< HTTP|< Connection)'"

# A thousand idle connections, half of them kept alive after a request and half
# silent, against stage 5 and stage 6, with the server's threads and open files
# counted from /proc. As in stage 4's chapter, this part runs in a PID namespace
# of its own (`unshare`, which needs root), so that `pgrep -n` finds our server.
if [[ "${1:-}" == --crowd ]]; then
  # The normal client's curl, timed, to run while the thousand are held open.
  timed_curl="curl -s -o /dev/null -w \"HTTP %{http_code} after %{time_total} s\\n\" http://127.0.0.1"
  for stage in 5 6; do
    start_server --stage "$stage" --quiet
    {
      shown "$THREADS_NOW"
      shown "python3 scripts/idle-clients.py 1000 --kept 500 --port $PORT --then '$THREADS_NOW; $FDS_NOW; $timed_curl:$PORT/'"
    } >"$(out "thousand-idle-stage-$stage.txt")"
    stop_server
  done
  exit
fi
unshare --pid --fork --mount-proc bash "$0" --crowd

# Run it: a browser loads the start page, and sends more than one request on a
# connection.
start_server --stage 6
browser_visit
server_log >"$(out browser-visit.txt)"
stop_server

start_server --stage 6
# Two requests on one connection.
shown "curl -sv http://127.0.0.1:$PORT/ http://127.0.0.1:$PORT/style.css >/dev/null" \
  >"$(out two-requests.txt)"
# Three requests sent at once, before any answer: pipelining. HEAD asks for the
# heads alone, to keep the output short.
shown "python3 scripts/raw-http.py --port $PORT 'HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /images/favicon.svg HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'" \
  >"$(out pipelining.txt)"
# HTTP/1.0 closes, unless the client asks for keep-alive.
{
  shown "curl -0 -sv http://127.0.0.1:$PORT/ http://127.0.0.1:$PORT/style.css 2>&1 >/dev/null | $WHICH_CONNECTION"
  shown "curl -0 -H 'Connection: keep-alive' -sv http://127.0.0.1:$PORT/ http://127.0.0.1:$PORT/style.css 2>&1 >/dev/null | $WHICH_CONNECTION"
} >"$(out http-10.txt)"
# An error closes the connection.
shown "curl -sv http://127.0.0.1:$PORT/no-such-page http://127.0.0.1:$PORT/ 2>&1 >/dev/null | $WHICH_CONNECTION" \
  >"$(out error-closes.txt)"
# The idle timeout: one request, then nothing; the server hangs up 5 s later.
shown "python3 scripts/raw-http.py --port $PORT --clock 'GET /images/favicon.svg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'" \
  >"$(out idle-timeout.txt)"
server_log >"$(out keep-alive-log.txt)"
stop_server

# Stage 5's weakness, gone: as many silent clients as workers hold none of them.
start_server --stage 6 --threads 4
shown "python3 scripts/idle-clients.py 4 --port $PORT --then \"$TIMED_CURL http://127.0.0.1:$PORT/\"" \
  >"$(out idle-workers.txt)"
stop_server

# Break it: clients that ask for a big file and do not read it hold a worker
# each, until the write timeout gives up on them. The folder holds what the
# chapter puts in /tmp/site: the big file, and small.txt beside it.
site=$(mktemp -d)
head -c 60000000 /dev/urandom >"$site/big.bin"
echo small >"$site/small.txt"
start_server --stage 6 --threads 2 --write-timeout 5s --root "$site"
shown "python3 scripts/idle-clients.py 2 --stalled 2 --request /big.bin --port $PORT --then \"$TIMED_CURL http://127.0.0.1:$PORT/small.txt\"" \
  >"$(out slow-readers.txt)"
wait_for_log '"GET /small.txt HTTP/1.1"'
server_log >"$(out slow-readers-log.txt)"
stop_server
rm -rf "$site"

# Ctrl-C: the download finishes, the idle connections are closed, exit 0.
ctrl_c_during_download 6
