#!/usr/bin/env bash
# Transcripts for chapters/speaking-more-http.md.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: the validators and a range, from the course's own site.
uploads=$(mktemp -d)
start_server --uploads "$uploads"
tag=$(curl -sI "http://127.0.0.1:$PORT/style.css" | tr -d '\r' | sed -n 's/^etag: //Ip')
shown "curl -sI -H 'If-None-Match: $tag' http://127.0.0.1:$PORT/style.css" >"$(out not-modified.txt)"
shown "curl -s -r 0-99 -D - -o /dev/null http://127.0.0.1:$PORT/index.html" >"$(out range.txt)"
stop_server
rm -rf "$uploads"

# Break it: a range read as Python reads a slice, one byte short, graded.
shown "cargo run -q -- grade --stage 3 --with ranges -- python3 tests/broken/server.py {port} {root} --defect range-end-exclusive" \
  >"$(out range-one-short.txt)"
