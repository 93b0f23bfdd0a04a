# Shared by the scripts that drive a real browser: Debian's Chromium, and the npm
# package playwright-core to drive it, installed into target/ rather than the
# repository. Source it after serve.sh (or anywhere REPO is set).

PLAYWRIGHT_VERSION=1.65.1
PLAYWRIGHT_DIR="$REPO/target/browser-check"

# Installs Chromium if it is missing (as root: Debian's apt).
ensure_chromium() {
  if ! command -v chromium >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

# Installs playwright-core into target/browser-check if it is not there yet.
ensure_playwright() {
  if [[ ! -d "$PLAYWRIGHT_DIR/node_modules/playwright-core" ]]; then
    npm install --prefix "$PLAYWRIGHT_DIR" --no-audit --no-fund --silent \
      "playwright-core@$PLAYWRIGHT_VERSION"
  fi
}

# node_with_playwright SCRIPT ARGS...: runs a Node script that can require it.
node_with_playwright() {
  NODE_PATH="$PLAYWRIGHT_DIR/node_modules" node "$@"
}
