#!/usr/bin/env bash
# Serves www/ with the most complete stage and opens its pages in headless
# Chromium: the start page, a missing page, the live status view (--status),
# and with --book two chapters of the
# book, a quiz answered by clicking, and every chapter 1,200 px wide (build the
# book first with `mdbook build`). scripts/browser-check.cjs says what is
# checked; any problem fails the script. CI runs it; so can you:
#
#     bash scripts/browser-check.sh --book
#
# Installs Chromium (apt) and playwright-core (npm, into target/) if needed.
source "$(dirname "$0")/lib/serve.sh"
source "$(dirname "$0")/lib/browser.sh"
ensure_chromium
ensure_playwright

if [[ " $* " == *" --book "* && ! -f www/book/index.html ]]; then
  echo "browser check: --book, but the book is not built (run mdbook build)" >&2
  exit 1
fi
start_server --status=0
STATUS_URL=$(sed -n 's|^Status view on \(http://[^/]*\)/_status$|\1|p' "$SERVER_LOG")
status=0
node_with_playwright scripts/browser-check.cjs "http://127.0.0.1:$PORT" "$@" --status "$STATUS_URL" ||
  status=$?
stop_server
if [[ $status -ne 0 ]]; then
  echo "browser check failed; the server's log:" >&2
  cat "$SERVER_LOG" >&2
fi
exit "$status"
