// Takes one screenshot of a page, in headless Chromium.
//
//     node scripts/screenshot.cjs URL OUT.png [WIDTH HEIGHT]
//
// Used by scripts/screenshots.sh. A page the browser cannot show (the server
// hung up without a word) is photographed too: that is Chromium's error page.
// The live status view (a URL ending in /_status) is photographed once it has
// drawn the server's state, not while it still says it is waiting.
"use strict";

const { launch } = require("./lib/chromium.cjs");

async function main() {
  const [url, out, width = "1000", height = "700"] = process.argv.slice(2);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: +width, height: +height } });
    try {
      const response = await page.goto(url, { waitUntil: "load", timeout: 30_000 });
      console.log(`${url}: ${response.status()}`);
      if (new URL(url).pathname === "/_status") {
        await page.waitForSelector("body[data-drawn=yes]", { timeout: 10_000 });
      }
    } catch (error) {
      console.log(`${url}: ${error.message.split("\n")[0]}`);
    }
    await page.screenshot({ path: out });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`screenshot: ${error.message}`);
  process.exit(1);
});
