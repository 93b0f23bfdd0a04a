#!/usr/bin/env bash
# Transcripts for chapters/stage-1-single-threaded.md.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: a browser loads the start page; one thread, `main`, serves it all.
start_server --stage 1
browser_visit
server_log >"$(out browser-visit.txt)"
stop_server

# Break it: a client that connects and sends nothing holds the only thread.
# The command is one line: curl in the background, a look at the listening
# socket while curl waits, then wait for curl to finish.
start_server --stage 1
start_silent_client
shown "curl -sSv -o /dev/null --max-time 5 http://127.0.0.1:$PORT/ & sleep 1; ss -ltn 'sport = :$PORT'; wait" \
  >"$(out blocked.txt)"
# The read timeout (10 s) drops the silent client; then the queued one is served.
wait_for_log '"GET / HTTP/1.1"'
kill "$SILENT_PID"
server_log >"$(out blocked-log.txt)"
stop_server

# The request in two pieces, a second apart: read_request reads until the blank
# line. Then a path that climbs out of the root (curl would tidy the `..` away
# without --path-as-is).
start_server --stage 1
shown "(printf 'GET /images/favicon.svg HTTP/1.1\r\nHo'; sleep 1; printf 'st: 127.0.0.1\r\nConnection: close\r\n\r\n') | nc 127.0.0.1 $PORT" \
  >"$(out split-request.txt)"
shown "curl -sS --path-as-is http://127.0.0.1:$PORT/../../etc/passwd" >"$(out traversal.txt)"
wait_for_log 'etc/passwd'
grep -F "etc/passwd" "$SERVER_LOG" | public >"$(out traversal-log.txt)"
stop_server

# Break it: a missing page gets no answer at all.
start_server --stage 1
shown "curl -v http://127.0.0.1:$PORT/no-such-page" >"$(out missing-curl.txt)"
chromium_headless --dump-dom "http://127.0.0.1:$PORT/no-such-page" >/dev/null || true
server_log >"$(out missing-log.txt)"
stop_server
