#!/usr/bin/env bash
# Transcripts for chapters/getting-started.md: the server starting, a real
# browser (headless Chromium) loading the start page, `curl -v`, and the
# course's own client, `get -v`.
source "$(dirname "$0")/../lib/serve.sh"

start_server
# A browser visit: the page, then the stylesheet and the picture it names.
chromium_headless --dump-dom "http://127.0.0.1:$PORT/" >/dev/null
wait_for_log 'steps.png'
server_log >"$(out browser-visit.txt)"

shown "curl -v http://127.0.0.1:$PORT/" >"$(out curl-v.txt)"
# The chapter shows the exchange up to the end of the response's head.
sed '/^< *$/q' "$(out curl-v.txt)" >"$(out curl-v-head.txt)"

# The same request with the course's own client, the report's optional exercise.
shown "cargo run -q -- get -v http://127.0.0.1:$PORT/ -o /tmp/index.html" >"$(out get-v.txt)"
stop_server
