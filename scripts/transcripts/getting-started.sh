#!/usr/bin/env bash
# Transcripts for chapters/getting-started.md: the server starting, a real
# browser (headless Chromium) loading the start page, `curl -v`, and the
# course's own client, `get -v`; and the live view's JSON (`--status`).
source "$(dirname "$0")/../lib/serve.sh"

start_server
# A browser visit: the page, then the stylesheet and the picture it names, and
# the icon.
browser_visit
server_log >"$(out browser-visit.txt)"

shown "curl -v http://127.0.0.1:$PORT/" >"$(out curl-v.txt)"
# The chapter shows the exchange up to the end of the response's head.
sed '/^< *$/q' "$(out curl-v.txt)" >"$(out curl-v-head.txt)"

# The same request with the course's own client, the report's optional exercise.
shown "cargo run -q -- get -v http://127.0.0.1:$PORT/ -o /tmp/index.html" >"$(out get-v.txt)"
stop_server

# The live view, asked for its JSON after one request. Its port is the
# server's plus one in the book, as it is with `cargo run -- --status`.
start_server --status
STATUS_PORT=${STATUS_URL##*:}
curl -sS -o /dev/null "http://127.0.0.1:$PORT/"
wait_for_status 'counter("requests") == 1'
shown "curl -s 'http://127.0.0.1:$STATUS_PORT/_status?json' | python3 -m json.tool" |
  sed -E "s/\b$STATUS_PORT\b/3001/g" >"$(out status-json.txt)"
stop_server
