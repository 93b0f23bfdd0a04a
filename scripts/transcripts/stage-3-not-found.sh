#!/usr/bin/env bash
# Transcripts for chapters/stage-3-not-found.md.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: errors answered.
start_server --stage 3
shown "curl -v http://127.0.0.1:$PORT/no-such-page" >"$(out missing-curl.txt)"
# The chapter shows the exchange up to the end of the response's head.
sed '/^< *$/q' "$(out missing-curl.txt)" >"$(out missing-curl-head.txt)"
shown "printf 'hello\r\n\r\n' | nc 127.0.0.1 $PORT" >"$(out hello-nc.txt)"
shown "curl -i -X DELETE http://127.0.0.1:$PORT/index.html" >"$(out delete-curl.txt)"
wait_for_log '"DELETE /index.html HTTP/1.1" 405'
# nc sends nothing; after the read timeout (10 s) the server says so.
shown "nc 127.0.0.1 $PORT" >"$(out silent-nc.txt)"
wait_for_log ' 408 '
server_log >"$(out errors-log.txt)"
stop_server

# Break it: Ctrl-C in the middle of a download.
ctrl_c_during_download 3
