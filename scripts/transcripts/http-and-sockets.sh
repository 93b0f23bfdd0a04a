#!/usr/bin/env bash
# Transcripts for chapters/http-and-sockets.md: one request and its response as
# bytes, the listening socket and its backlog, and one connection seen from both ends.
source "$(dirname "$0")/../lib/serve.sh"

start_server
shown "python3 scripts/raw-http.py --port $PORT 'GET /images/favicon.svg HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'" \
  >"$(out favicon-bytes.txt)"
shown "ss -ltn 'sport = :$PORT'" >"$(out ss-listening.txt)"

# A client that connects and says nothing, so that there is a connection to look at.
sleep 30 | nc 127.0.0.1 "$PORT" >/dev/null &
idle=$!
until ss -tn "sport = :$PORT" | grep -q ESTAB; do sleep 0.05; done
shown "ss -tn 'sport = :$PORT or dport = :$PORT'" >"$(out ss-connection.txt)"
kill "$idle"
stop_server
