#!/usr/bin/env bash
# Transcripts for chapters/stage-1-single-threaded.md.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: a browser loads the start page; one thread, `main`, serves it all.
start_server --stage 1
chromium_headless --dump-dom "http://127.0.0.1:$PORT/" >/dev/null
wait_for_log 'steps.png'
server_log >"$(out browser-visit.txt)"
stop_server

# Break it: a client that connects and sends nothing holds the only thread.
start_server --stage 1
sleep 30 | nc 127.0.0.1 "$PORT" >/dev/null &
idle=$!
until ss -tn "sport = :$PORT" | grep -q ESTAB; do sleep 0.05; done
shown "curl -v --max-time 5 http://127.0.0.1:$PORT/" >"$(out blocked-curl.txt)" &
curl=$!
# While curl waits, its connection sits in the listening socket's queue.
until ss -ltn "sport = :$PORT" | grep -q 'LISTEN 1 '; do sleep 0.05; done
shown "ss -ltn 'sport = :$PORT'" >"$(out blocked-ss.txt)"
wait "$curl"
# The read timeout (10 s) drops the silent client; then the queued one is served.
wait_for_log '"GET / HTTP/1.1"'
kill "$idle"
server_log >"$(out blocked-log.txt)"
stop_server

# Break it: a missing page gets no answer at all.
start_server --stage 1
shown "curl -v http://127.0.0.1:$PORT/no-such-page" >"$(out missing-curl.txt)"
chromium_headless --dump-dom "http://127.0.0.1:$PORT/no-such-page" >/dev/null || true
server_log >"$(out missing-log.txt)"
stop_server
