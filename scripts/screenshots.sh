#!/usr/bin/env bash
# Takes the book's browser screenshots from the running server, in headless
# Chromium, into chapters/images/:
#   index-page.png      the start page, served by the most complete stage
#   not-found-page.png  a missing page, from stage 3 on: the site's 404 page
#   empty-response.png  a missing page in stages 1 and 2: the server hangs up
# Installs Chromium (apt) and playwright-core (npm, into target/) if needed.
source "$(dirname "$0")/lib/serve.sh"
source "$(dirname "$0")/lib/browser.sh"
ensure_chromium
ensure_playwright

shot() {
  node_with_playwright scripts/screenshot.cjs "http://127.0.0.1:$PORT$1" "chapters/images/$2" "$3" "$4" | public
}

start_server
shot / index-page.png 1000 700
shot /no-such-page not-found-page.png 1000 400
stop_server

start_server --stage 1
shot /no-such-page empty-response.png 760 330
stop_server
