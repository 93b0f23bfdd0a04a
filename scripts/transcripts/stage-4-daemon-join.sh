#!/usr/bin/env bash
# Transcripts for chapters/stage-4-daemon-join.md.
source "$(dirname "$0")/../lib/serve.sh"

# Break it: every connection costs a thread, and nothing limits how many. The
# command in the book finds the server with `pgrep -n`, the newest process of
# that name. On a machine where other programs of that name start all the
# time that could be one of them, so this part runs in a PID namespace of its
# own (`unshare`, which needs root), where the only server is the one started
# here.
if [[ "${1:-}" == --threads ]]; then
  start_server --stage 4
  shown "grep Threads /proc/\$(pgrep -n multithreaded)/status"
  shown_in_background "python3 -c 'import socket, time; c = [socket.create_connection((\"127.0.0.1\", $PORT)) for _ in range(100)]; time.sleep(5)'"
  # Wait (5 s at most) until the server has accepted all hundred.
  for tries in $(seq 100); do
    [[ $(ss -tnH "sport = :$PORT" | wc -l) -ge 100 ]] &&
      [[ $(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status") -ge 102 ]] && break
    sleep 0.05
  done
  shown "grep Threads /proc/\$(pgrep -n multithreaded)/status"
  wait "$BACKGROUND_PID"
  stop_server
  exit
fi
unshare --pid --fork --mount-proc bash "$0" --threads >"$(out threads.txt)"

# Run it: Ctrl-C in the middle of a download, as in stage 3; this time the
# download finishes and the server exits 0.
ctrl_c_during_download 4

# A silent client cannot hold the server open: shutdown waits --shutdown-timeout
# (5 s by default) for it, then gives up.
start_server --stage 4
start_silent_client
press_ctrl_c
kill "$SILENT_PID"
server_log >"$(out idle-shutdown-log.txt)"
shown_exit_status >"$(out idle-shutdown-status.txt)"
