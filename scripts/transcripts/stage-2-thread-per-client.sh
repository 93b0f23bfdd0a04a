#!/usr/bin/env bash
# Transcripts for chapters/stage-2-thread-per-client.md, and the coloured log of
# several clients served at once.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: the idle client from stage 1 no longer holds anyone up.
start_server --stage 2
start_silent_client
shown "curl -sSv -o /dev/null --max-time 5 http://127.0.0.1:$PORT/ & sleep 1; ss -ltn 'sport = :$PORT'; wait" \
  >"$(out not-blocked.txt)"
wait_for_log 'did not arrive in time'
kill "$SILENT_PID"
server_log >"$(out not-blocked-log.txt)"
stop_server

# Several clients at once, in colour: a browser, eight downloads in parallel,
# a missing page and a request that is not HTTP. CLICOLOR_FORCE=1 makes the
# server colour its log even though it goes to a file here.
CLICOLOR_FORCE=1 start_server --stage 2
chromium_headless --dump-dom "http://127.0.0.1:$PORT/" >/dev/null &
browser=$!
printf "http://127.0.0.1:$PORT/%s\n" "" style.css images/steps.png images/favicon.svg \
  error.html index.html no-such-page images/steps.png |
  xargs -P 8 -n 1 curl -s -o /dev/null || true # the missing page is an empty reply
printf 'hello\r\n\r\n' | nc 127.0.0.1 "$PORT" >/dev/null
wait "$browser"
wait_for_log 'dropped: the request line'
python3 scripts/ansi2html.py <"$SERVER_LOG" | public >"$(out many-clients.html)"
stop_server

# Break it: errors still get no answer.
start_server --stage 2
shown "curl -v http://127.0.0.1:$PORT/no-such-page" >"$(out missing-curl.txt)"
server_log >"$(out missing-log.txt)"
stop_server
