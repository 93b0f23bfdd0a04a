#!/usr/bin/env bash
# Transcripts for chapters/getting-started.md: the server starting, a real
# browser (headless Chromium) loading the start page, and `curl -v`.
source "$(dirname "$0")/../lib/serve.sh"

start_server
# A browser visit: the page, then the stylesheet and the picture it names.
chromium_headless --dump-dom "http://127.0.0.1:$PORT/" >/dev/null
wait_for_log 'steps.png'
server_log >"$(out browser-visit.txt)"

shown "curl -v http://127.0.0.1:$PORT/" >"$(out curl-v.txt)"
stop_server
