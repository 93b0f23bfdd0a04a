#!/usr/bin/env bash
# Takes the book's browser screenshots from the running server, in headless
# Chromium, into chapters/images/:
#   index-page.png      the start page, served by the most complete stage
#   not-found-page.png  a missing page, from stage 3 on: the site's 404 page
#   empty-response.png  a missing page in stages 1 and 2: the server hangs up
# and the live status view (--status) during each stage's "Break it":
#   status-stage-1.png  stage 1, its one thread held by a silent client
#   status-stage-2.png  stage 2, a thread per client, earlier ones gone
#   status-stage-5.png  stage 5, both workers held and the queue full: 503
#   status-stage-6.png  stage 6, 1,000 idle connections and four busy workers
# Each is taken from a real run, once the view's JSON shows the situation.
# Installs Chromium (apt) and playwright-core (npm, into target/) if needed.
source "$(dirname "$0")/lib/serve.sh"
source "$(dirname "$0")/lib/browser.sh"
ensure_chromium
ensure_playwright

shot() {
  node_with_playwright scripts/screenshot.cjs "http://127.0.0.1:$PORT$1" "chapters/images/$2" "$3" "$4" | public
}

# status_shot NAME WIDTH HEIGHT: the live view, as it is now.
status_shot() {
  node_with_playwright scripts/screenshot.cjs "$STATUS_URL/_status" "chapters/images/$1" "$2" "$3" |
    sed "s|$STATUS_URL|http://127.0.0.1:3001|"
}

# Background clients of the experiments below, hung up after each picture.
CLIENTS=()
hang_up() {
  local pid
  for pid in "${CLIENTS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLIENTS=()
}
# silent_clients N: N connections that send nothing, held until hang_up.
silent_clients() {
  python3 scripts/idle-clients.py "$1" --port "$PORT" --then 'sleep 60' >/dev/null &
  CLIENTS+=($!)
}
# slow_downloads N: N downloads of big.bin at 1 MB a second, until hang_up.
slow_downloads() {
  local n
  for n in $(seq "$1"); do
    python3 scripts/slow-download.py --rate 1 "http://127.0.0.1:$PORT/big.bin" >/dev/null &
    CLIENTS+=($!)
  done
}

start_server
shot / index-page.png 1000 700
shot /no-such-page not-found-page.png 1000 400
stop_server

start_server --stage 1
shot /no-such-page empty-response.png 760 330
stop_server

# The site, with a file large enough to keep a worker writing for a minute.
SITE=$(mktemp -d)
cp -r www/. "$SITE"
head -c 60000000 /dev/zero >"$SITE/big.bin"
trap 'hang_up; cleanup_servers; rm -rf "$SITE"' EXIT

# Stage 1: one silent client holds the only thread; everyone else waits.
start_server --stage 1 --root "$SITE" --status
silent_clients 1
wait_for_status 'doing() == ["reading a head"]'
status_shot status-stage-1.png 900 330
hang_up
stop_server

# Stage 2: three pages served (their threads come and go), then a download and
# three silent clients, each on a thread of its own.
start_server --stage 2 --root "$SITE" --status
for page in / /style.css /images/favicon.svg; do
  curl -sS -o /dev/null "http://127.0.0.1:$PORT$page"
done
wait_for_status 'counter("requests") == 3 and doing("client-") == []'
slow_downloads 1
wait_for_status 'doing("client-") == ["writing"]'
silent_clients 3
wait_for_status 'doing("client-").count("reading a head") == 3'
status_shot status-stage-2.png 900 420
hang_up
stop_server

# Stage 5, as in its chapter: two workers, room for two in the queue. Four
# silent clients take both workers and fill the queue; the fifth is told 503.
start_server --stage 5 --threads 2 --queue 2 --root "$SITE" --status
silent_clients 4
wait_for_status 'gauge("queued") == 2 and doing("worker-") == ["reading a head"] * 2'
curl -sS -o /dev/null "http://127.0.0.1:$PORT/"
wait_for_status 'counter("503") == 1'
status_shot status-stage-5.png 900 400
hang_up
stop_server

# Stage 6: 1,000 kept-alive connections idle in the loop, and four downloads
# that keep all four workers writing.
ulimit -n 8192
start_server --stage 6 --threads 4 --keep-alive-timeout 60s --root "$SITE" --status
python3 scripts/idle-clients.py 1000 --kept 1000 --port "$PORT" --then 'sleep 60' >/dev/null &
CLIENTS+=($!)
wait_for_status 'gauge("idle connections") == 1000'
slow_downloads 4
wait_for_status 'doing("worker-") == ["writing"] * 4'
status_shot status-stage-6.png 900 470
hang_up
stop_server
