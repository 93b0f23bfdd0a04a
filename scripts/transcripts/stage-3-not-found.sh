#!/usr/bin/env bash
# Transcripts for chapters/stage-3-not-found.md.
source "$(dirname "$0")/../lib/serve.sh"

# Run it: errors answered.
start_server --stage 3
shown "curl -v http://127.0.0.1:$PORT/no-such-page" >"$(out missing-curl.txt)"
shown "printf 'hello\r\n\r\n' | nc 127.0.0.1 $PORT" >"$(out hello-nc.txt)"
shown "curl -i -X DELETE http://127.0.0.1:$PORT/index.html" >"$(out delete-curl.txt)"
wait_for_log '"DELETE /index.html HTTP/1.1" 405'
# nc sends nothing; after the read timeout (10 s) the server says so.
shown "nc 127.0.0.1 $PORT" >"$(out silent-nc.txt)"
wait_for_log ' 408 '
server_log >"$(out errors-log.txt)"
stop_server

# Break it: Ctrl-C in the middle of a download. The site is a folder with one
# big file, made as the chapter tells you to make it, but in a fresh folder.
site=$(mktemp -d)
head -c 60000000 /dev/urandom >"$site/big.bin"
start_server --stage 3 --root "$site"
shown "python3 scripts/slow-download.py http://127.0.0.1:$PORT/big.bin" >"$(out ctrl-c-download.txt)" &
download=$!
until ss -tn "sport = :$PORT" | grep -q ESTAB; do sleep 0.05; done
sleep 1 # a second into the download, press Ctrl-C
kill -INT "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
wait "$download"
server_log >"$(out ctrl-c-log.txt)"
# What `echo $?` prints in the server's terminal after it is gone: 128 + 2, SIGINT.
printf '$ echo $?\n%s\n' "$status" >"$(out ctrl-c-status.txt)"
rm -rf "$site"
