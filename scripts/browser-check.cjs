// Loads pages from a running server in a real browser, headless Chromium, and
// checks that each one renders as it should:
//
// - the page itself comes back with the status we expect (200, or 404 for a
//   page that does not exist) and has its title and heading;
// - every stylesheet it links was accepted by the browser and applied (a
//   stylesheet sent with the wrong Content-Type is refused, and the page falls
//   back to the browser's plain defaults);
// - every picture loaded and decoded (complete, with a width), and the page
//   names an icon that loads as an image;
// - no request the page made failed, was answered with an error status or
//   with the wrong Content-Type, or left an error in the browser's console.
//
//     node scripts/browser-check.cjs http://127.0.0.1:3000 [--book]
//
// `--book` also checks two chapters of the book, the first stage's and the last's
// (build it first: `mdbook build`).
// Needs the npm package playwright-core (scripts/browser-check.sh installs it)
// and Chromium at /usr/bin/chromium, or wherever CHROMIUM says.
"use strict";

const { launch } = require("./lib/chromium.cjs");

const PAPER = "rgb(250, 248, 242)"; // www/style.css: body { background: var(--paper) }

// The Content-Type each kind of resource must come with.
const EXPECTED_TYPES = {
  document: /^text\/html\b/,
  stylesheet: /^text\/css\b/,
  script: /^(text|application)\/javascript\b/,
  image: /^image\//,
  font: /^font\//,
};

const SITE_PAGES = [
  {
    path: "/",
    status: 200,
    title: "multithreaded-server: build a web server, one stage at a time",
    h1: "multithreaded-server",
    styled: { selector: "body", property: "background-color", value: PAPER },
    images: 1,
  },
  {
    path: "/no-such-page",
    status: 404,
    title: "404 Not Found",
    h1: "There is no such page here.",
    styled: { selector: "body", property: "background-color", value: PAPER },
    images: 0,
  },
];

const BOOK_PAGES = [
  {
    path: "/book/stage-1-single-threaded.html",
    status: 200,
    // mdBook adds the book's title to each chapter's, and puts the book's title
    // in an <h1> of its own above the chapter.
    title: "Stage 1: one client at a time - ",
    h1: "Stage 1: one client at a time",
    h1Selector: "main h1",
    // mdBook's own stylesheet pins the sidebar to the side of the window.
    styled: { selector: "#mdbook-sidebar", property: "position", value: "fixed" },
    images: 1,
  },
  {
    // The last stage's chapter, with its timeline: an SVG, served as such.
    path: "/book/stage-6-keep-alive.html",
    status: 200,
    title: "Stage 6: keeping connections alive - ",
    h1: "Stage 6: keeping connections alive",
    h1Selector: "main h1",
    styled: { selector: "#mdbook-sidebar", property: "position", value: "fixed" },
    images: 1,
  },
];

async function check(browser, base, page) {
  const url = new URL(page.path, base).href;
  const problems = [];
  const tab = await browser.newPage();
  let requests = 0;
  tab.on("request", () => requests++);
  tab.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  tab.on("response", (response) => {
    if (response.url() !== url && response.status() >= 400) {
      problems.push(`${response.url()} answered ${response.status()}`);
    }
    // Browsers guess the type of a picture whatever the server says, but not
    // of a stylesheet or a script; a server should say the truth for all.
    const expected = EXPECTED_TYPES[response.request().resourceType()];
    const type = response.headers()["content-type"] || "(none)";
    if (expected && response.status() === 200 && !expected.test(type)) {
      problems.push(`${response.url()} was sent as ${type}`);
    }
  });
  tab.on("console", (message) => {
    // The browser reports the page's own 404 in the console; that one is expected.
    const own404 = page.status === 404 && message.location().url === url;
    if (message.type() === "error" && !own404) {
      problems.push(`console error: ${message.text()}`);
    }
  });

  const response = await tab.goto(url, { waitUntil: "load", timeout: 30_000 });
  if (response.status() !== page.status) {
    problems.push(`status ${response.status()}, expected ${page.status}`);
  }
  const seen = await tab.evaluate(async ({ selector, property, h1Selector }) => {
    const element = document.querySelector(selector);
    // A page that names no icon makes the browser ask for /favicon.ico, whenever
    // it likes; so every page must name one, and it must load as an image.
    const icons = [];
    for (const link of document.querySelectorAll('link[rel~="icon"]')) {
      const reply = await fetch(link.href);
      const type = reply.headers.get("content-type") || "";
      icons.push({ href: link.href, ok: reply.ok && type.startsWith("image/"), type });
    }
    return {
      icons,
      title: document.title,
      h1: document.querySelector(h1Selector)?.textContent.trim(),
      styled: element ? getComputedStyle(element).getPropertyValue(property) : null,
      // A stylesheet the page itself switched off (mdBook's other colour themes)
      // has no rules to look at; its Content-Type is still checked above.
      sheets: [...document.querySelectorAll('link[rel="stylesheet"]')]
        .filter((link) => !link.disabled)
        .map((link) => {
          let rules = 0;
          try {
            rules = link.sheet ? link.sheet.cssRules.length : 0;
          } catch {
            rules = 0;
          }
          return { href: link.href, rules };
        }),
      images: [...document.images].map((img) => ({
        src: img.currentSrc || img.src,
        ok: img.complete && img.naturalWidth > 0,
      })),
    };
  }, { ...page.styled, h1Selector: page.h1Selector || "h1" });
  await tab.close();

  if (!seen.title.startsWith(page.title)) {
    problems.push(`title "${seen.title}", expected "${page.title}..."`);
  }
  if (seen.h1 !== page.h1) problems.push(`heading "${seen.h1}", expected "${page.h1}"`);
  if (seen.styled !== page.styled.value) {
    problems.push(
      `${page.styled.selector} has ${page.styled.property}: ${seen.styled}, ` +
        `expected ${page.styled.value}: is the stylesheet applied?`,
    );
  }
  if (seen.sheets.length === 0) problems.push("no stylesheet linked");
  for (const sheet of seen.sheets) {
    if (sheet.rules === 0) problems.push(`stylesheet not applied: ${sheet.href}`);
  }
  if (seen.images.length < page.images) {
    problems.push(`${seen.images.length} images, expected at least ${page.images}`);
  }
  for (const image of seen.images) {
    if (!image.ok) problems.push(`image did not load: ${image.src}`);
  }
  if (seen.icons.length === 0) problems.push("no icon linked");
  for (const icon of seen.icons) {
    if (!icon.ok) problems.push(`icon did not load as an image: ${icon.href} (${icon.type})`);
  }

  const summary =
    `${page.path}: ${response.status()}, "${seen.title}", ` +
    `${seen.sheets.length} stylesheet(s), ${seen.images.length} image(s), ${requests} request(s)`;
  return { summary, problems };
}

async function main() {
  const [base, ...flags] = process.argv.slice(2);
  if (!base) {
    console.error("usage: node scripts/browser-check.cjs http://127.0.0.1:PORT [--book]");
    process.exit(2);
  }
  const pages = flags.includes("--book") ? [...SITE_PAGES, ...BOOK_PAGES] : SITE_PAGES;
  const browser = await launch();
  let failed = false;
  try {
    for (const page of pages) {
      const { summary, problems } = await check(browser, base, page);
      console.log(`${problems.length ? "FAIL" : "ok  "} ${summary}`);
      for (const problem of problems) console.log(`       ${problem}`);
      failed ||= problems.length > 0;
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(`browser check: ${error.message}`);
  process.exit(1);
});
