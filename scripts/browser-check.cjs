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
//     node scripts/browser-check.cjs http://127.0.0.1:3000 [--book] [--status http://127.0.0.1:3001]
//
// `--status URL` also opens the server's live view (`--status`) at URL/_status:
// it must draw the server's threads and counters from its JSON, and draw them
// again half a second later (the time it has been up moves on), with no
// request failing and nothing in the console.
//
// `--book` also checks two chapters of the book, the first stage's and stage 6's
// (build it first: `mdbook build`), and then:
//
// - that the quizzes of the first stage's chapter are drawn (mdbook-quiz draws
//   them with a script of its own), and that answering one by clicking shows
//   the verdict, wrong and then right, and the explanation of the answer;
// - that no code block of any chapter runs past the edge of its column in a
//   window 1,200 px wide, where a reader would see it cut off.
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
    // Stage 6's chapter, with its timeline: an SVG, served as such.
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

// The live view of the server: drawn from its JSON, and redrawn.
async function checkStatusView(browser, base) {
  const url = new URL("/_status", base).href;
  const problems = [];
  const tab = await browser.newPage();
  tab.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  tab.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  tab.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  let jsonRequests = 0;
  tab.on("response", (response) => {
    if (response.url().endsWith("/_status?json")) {
      jsonRequests++;
      const type = response.headers()["content-type"] || "(none)";
      if (type !== "application/json") problems.push(`the JSON was sent as ${type}`);
    }
  });
  const response = await tab.goto(url, { waitUntil: "load", timeout: 30_000 });
  if (response.status() !== 200) problems.push(`status ${response.status()}, expected 200`);
  let rows = [];
  try {
    await tab.waitForSelector("body[data-drawn=yes]", { timeout: 10_000 });
    rows = await tab.locator("#threads tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())),
    );
    const first = await tab.locator("#summary").textContent();
    // Redrawn from a fresh snapshot: the time the server has been up moves on.
    await tab.waitForFunction(
      (before) => document.querySelector("#summary").textContent !== before,
      first,
      { timeout: 10_000 },
    );
  } catch (error) {
    problems.push(`the view was not drawn and redrawn: ${error.message.split("\n")[0]}`);
  }
  const main = rows.find((row) => row[0] === "main");
  if (!main) problems.push(`no row for the main thread among ${rows.length}`);
  else if (!main[1]) problems.push("the main thread's row does not say what it is doing");
  const title = await tab.title();
  if (title !== "Server status") problems.push(`title "${title}", expected "Server status"`);
  await tab.close();
  const doing = main ? `main ${main[1]}` : "no main thread";
  const summary = `${url}: ${rows.length} thread(s) drawn (${doing}); ${jsonRequests} JSON request(s)`;
  return { summary, problems };
}

// Normalised text: runs of white space as one space, ends trimmed.
function squeezed(text) {
  return text.replace(/\s+/g, " ").trim();
}

// Answers the first quiz on `url`, a one-question multiple choice (the
// prediction before the chapter's first experiment), by clicking, as a reader
// would: Start, a choice, Submit. Returns the review the quiz then shows.
async function answerFirstQuiz(tab, url, pick) {
  await tab.goto(url, { waitUntil: "load", timeout: 30_000 });
  const quiz = tab.locator(".quiz-placeholder").first();
  const question = JSON.parse(await quiz.getAttribute("data-quiz-questions")).questions[0];
  await quiz.locator("button.start").click({ timeout: 10_000 });
  // The choices come in a shuffled order; each radio button's value is the
  // choice's own text, as the quiz file has it.
  const values = await quiz.locator('input[type="radio"]').evaluateAll((inputs) =>
    inputs.map((input) => input.value),
  );
  const index = values.indexOf(pick(question));
  if (index < 0) return { question, missing: `no choice "${pick(question)}" among ${values.length}` };
  await quiz.locator(".choice").nth(index).locator("label").click();
  await quiz.locator('input[type="submit"]').click();
  await quiz.getByText("Answer Review").waitFor({ timeout: 10_000 });
  return { question, quiz };
}

// The quizzes on a chapter: drawn, and answered wrongly, then rightly.
async function checkQuizzes(browser, base) {
  const path = "/book/stage-1-single-threaded.html";
  const problems = [];
  const tab = await browser.newPage();
  tab.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  tab.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  let drawn = 0;
  try {
    drawn = await answerQuizzes(tab, new URL(path, base).href, problems);
  } catch (error) {
    // A quiz that is never drawn has no Start button to click: a timeout.
    problems.push(`the quiz could not be answered: ${error.message.split("\n")[0]}`);
  }
  await tab.close();
  const summary = `${path}: ${drawn} quizzes drawn; answered a prediction wrongly, then rightly`;
  return { summary, problems };
}

// The steps of checkQuizzes; returns how many quizzes the page drew.
async function answerQuizzes(tab, url, problems) {
  // A wrong answer: the review says so, and on request shows the right answer
  // and the explanation from the quiz file.
  const wrong = await answerFirstQuiz(tab, url, (question) => question.prompt.distractors[0]);
  const placeholders = await tab.locator(".quiz-placeholder").count();
  const drawn = await tab.locator(".quiz-placeholder .mdbook-quiz").count();
  if (placeholders < 2 || drawn !== placeholders) {
    problems.push(`${drawn} of ${placeholders} quizzes drawn; expected a prediction and the chapter's quiz`);
  }
  if (wrong.missing) {
    problems.push(wrong.missing);
  } else {
    const review = squeezed(await wrong.quiz.innerText());
    if (!review.includes("You answered 0/1 questions correctly")) {
      problems.push(`a wrong answer was not marked wrong: "${review.slice(0, 120)}"`);
    }
    if ((await wrong.quiz.locator(".incorrect").count()) === 0) {
      problems.push("a wrong answer is not shown as incorrect");
    }
    await wrong.quiz.getByRole("button", { name: "see the correct answers" }).first().click();
    const context = wrong.quiz.locator(".context");
    await context.first().waitFor({ timeout: 10_000 });
    // The explanation's first words, without the Markdown marks around code.
    const expected = squeezed(wrong.question.context.replace(/[`*_]/g, "")).slice(0, 40);
    const shown = squeezed(await context.first().innerText());
    if (!shown.includes(expected)) {
      problems.push(`the explanation shown is "${shown.slice(0, 80)}", expected it to say "${expected}"`);
    }
  }

  // The right answer, on a fresh page: the review says so.
  const right = await answerFirstQuiz(tab, url, (question) => question.answer.answer);
  if (right.missing) {
    problems.push(right.missing);
  } else {
    const review = squeezed(await right.quiz.innerText());
    if (!review.includes("You answered 1/1 questions correctly")) {
      problems.push(`the right answer was not marked right: "${review.slice(0, 120)}"`);
    }
  }
  return drawn;
}

// Every chapter, 1,200 px wide: no code block may overflow its column.
async function checkCodeFits(browser, base) {
  const width = 1200;
  const problems = [];
  const tab = await browser.newPage({ viewport: { width, height: 900 } });
  await tab.goto(new URL("/book/", base).href, { waitUntil: "load", timeout: 30_000 });
  // mdBook draws its table of contents with a script; the links are there after load.
  const chapters = await tab.locator("#mdbook-sidebar a[href$='.html']").evaluateAll((links) => [
    ...new Set(links.map((link) => new URL(link.href).pathname)),
  ]);
  if (chapters.length < 10) problems.push(`only ${chapters.length} chapters in the sidebar`);
  let blocks = 0;
  for (const chapter of chapters) {
    await tab.goto(new URL(chapter, base).href, { waitUntil: "load", timeout: 30_000 });
    const overflowing = await tab.evaluate(() =>
      [...document.querySelectorAll(".content pre")].map((pre) => {
        const code = pre.querySelector("code") || pre;
        const over = Math.max(code.scrollWidth - code.clientWidth, pre.scrollWidth - pre.clientWidth);
        const longest = code.textContent.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "");
        return { over, line: longest.slice(0, 60) };
      }),
    );
    blocks += overflowing.length;
    for (const block of overflowing.filter((block) => block.over > 1)) {
      problems.push(`${chapter}: a code block runs ${block.over} px past its column: "${block.line}..."`);
    }
  }
  await tab.close();
  const summary = `${chapters.length} chapters at ${width} px wide, ${blocks} code blocks`;
  return { summary, problems };
}

async function main() {
  const [base, ...flags] = process.argv.slice(2);
  if (!base) {
    console.error("usage: node scripts/browser-check.cjs http://127.0.0.1:PORT [--book]");
    process.exit(2);
  }
  const book = flags.includes("--book");
  const statusAt = flags.indexOf("--status");
  const status = statusAt >= 0 ? flags[statusAt + 1] : null;
  const pages = book ? [...SITE_PAGES, ...BOOK_PAGES] : SITE_PAGES;
  const browser = await launch();
  const checks = pages.map((page) => () => check(browser, base, page));
  if (book) {
    checks.push(() => checkQuizzes(browser, base));
    checks.push(() => checkCodeFits(browser, base));
  }
  if (status) checks.push(() => checkStatusView(browser, status));
  let failed = false;
  try {
    for (const run of checks) {
      const { summary, problems } = await run();
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
