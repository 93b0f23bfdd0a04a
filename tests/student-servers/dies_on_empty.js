// A static file server on Node's `net` module, HTTP by hand, that dies when a
// connection closes before its request head is complete.
//
//     node tests/student-servers/dies_on_empty.js PORT ROOT
//
// Each connection logs one line when it closes: its request line and how
// long it took. The line is read from `request`, which is set once the head
// has come in; a client that connects and hangs up without a whole head (a
// port scanner, a browser's speculative connection, a readiness probe)
// leaves it undefined, and `request.line` throws a TypeError in the "close"
// handler. Node's default for an uncaught exception is to print it and exit
// with status 1: the whole server dies.
//
// Everything else is right, for stages 1-3: the head is read until its
// blank line, files go out as bytes with a Content-Length in bytes and the
// Content-Type of their extension, `/` gives index.html, nothing outside the
// root, 404 with error.html, 400 for a malformed request. Node serves every
// connection from one event loop, so a silent client holds no one up.
//
// What it proves: one early death does not fail everything after it. The
// grader's readiness probe (a connection opened and closed with nothing
// sent) kills the server before any check; `connects` fails for it, and a
// fresh server, started with a real request as its probe, serves the other
// checks, which pass. `survives-bad-clients` fails, as its first bad client
// (one that hangs up without a word) kills a fresh server too.
//
// Expected: fails `connects` and `survives-bad-clients`, and nothing else at
// stages 1-3. Node 20, no packages.

"use strict";

const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const MAX_HEAD = 16 * 1024;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
};
const REASONS = { 200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Request Header Fields Too Large" };

const [portArg, rootArg] = process.argv.slice(2);
if (!/^\d+$/.test(portArg || "") || rootArg === undefined) {
  console.error("usage: node dies_on_empty.js PORT ROOT");
  process.exit(2);
}
let root;
try {
  root = fs.realpathSync(rootArg);
} catch {
  console.error(`error: no such folder: ${rootArg}`);
  process.exit(2);
}

function send(socket, status, type, body) {
  const head =
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
}

function sendError(socket, status) {
  send(socket, status, TYPES[".html"], Buffer.from(`<h1>${status} ${REASONS[status]}</h1>\n`));
}

// The request's method and target, or null if RFC 9112 says to refuse it.
function parse(head) {
  const [requestLine, ...lines] = head.split("\r\n");
  const words = requestLine.split(" ");
  if (words.length !== 3 || !/^HTTP\/1\.[01]$/.test(words[2])) return null;
  let hosts = 0;
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) return null;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "host") hosts += 1;
    if (name === "content-length" && !/^\d+$/.test(value)) return null;
  }
  if (words[2] === "HTTP/1.1" && hosts !== 1) return null;
  return { method: words[0], target: words[1] };
}

function fileFor(target) {
  let name;
  try {
    name = decodeURIComponent(target.split("?")[0]);
  } catch {
    return null;
  }
  if (name.includes("\0")) return null;
  let file = path.join(root, name);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    return fs.statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

function respond(socket, head) {
  const parsed = parse(head);
  if (parsed === null) return sendError(socket, 400);
  if (parsed.method !== "GET") return sendError(socket, 405);
  const file = fileFor(parsed.target);
  const [status, chosen] = file ? [200, file] : [404, path.join(root, "error.html")];
  fs.readFile(chosen, (err, body) => {
    if (err) return sendError(socket, 404);
    send(socket, status, TYPES[path.extname(chosen).toLowerCase()] || "application/octet-stream", body);
  });
}

const server = net.createServer((socket) => {
  let received = Buffer.alloc(0);
  let request; // { line, started }, once the head is in
  socket.on("error", (err) => console.error(`connection: ${err.message}`));
  socket.on("data", (chunk) => {
    if (request) return; // one request per connection
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf("\r\n\r\n");
    if (end < 0 && received.length <= MAX_HEAD) return; // wait for the rest
    const head = received.subarray(0, end < 0 ? MAX_HEAD : end).toString("latin1");
    request = { line: head.split("\r\n")[0].slice(0, 100), started: Date.now() };
    if (end < 0) return sendError(socket, 431);
    respond(socket, head);
  });
  socket.on("close", () => {
    // The fault: `request` is undefined if the head never came.
    console.log(`${request.line} (${Date.now() - request.started} ms)`);
  });
});

server.on("error", (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(Number(portArg), "127.0.0.1", () => {
  console.log(`Serving ${root} on http://127.0.0.1:${portArg}/`);
});
