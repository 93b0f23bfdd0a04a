// Starts Debian's Chromium, headless, for the scripts that drive a browser
// (browser-check.cjs, screenshot.cjs): a fresh profile, and nothing that talks
// to the network on its own. Needs the npm package playwright-core, which
// scripts/lib/browser.sh installs.
"use strict";

const { chromium } = require("playwright-core");

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

module.exports = { launch };
