// A static file server on Node's `net` module, HTTP written by hand: correct
// for stages 1-3 but for the line ends of its response heads.
//
//     node tests/student-servers/bare_lf.js PORT ROOT
//
// The head is built the way JavaScript strings are joined, with "\n":
//
//     HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 1234\n\n
//
// RFC 9112 says every line of a head ends in CRLF. A client may forgive a
// bare LF, and curl and every browser do, so the pages look right in all of
// them and the student never sees the fault. Everything else is right: the
// request head is read until its blank line (however many reads it takes),
// files are sent as bytes with a Content-Length in bytes and the Content-Type
// of their extension, `/` gives index.html, nothing outside the root is
// served, a missing file gets 404 with error.html, and a malformed request
// gets 400.
//
// What it proves: a grader reads a response as a tolerant client does, and
// judges head syntax in one check alone. Read strictly, this server sends "no
// HTTP response" to every request, and a grader that reads so fails it on
// every check at once.
//
// Expected: fails `head-syntax`, and nothing else at stages 1-3. Node 20, no
// packages.

"use strict";

const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const MAX_HEAD = 16 * 1024;
const IDLE_MS = 30_000; // a client that says nothing for this long is dropped

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".gif": "image/gif",
};

const REASONS = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
};

const [portArg, rootArg] = process.argv.slice(2);
if (!/^\d+$/.test(portArg || "") || rootArg === undefined) {
  console.error("usage: node bare_lf.js PORT ROOT");
  process.exit(2);
}
let root;
try {
  root = fs.realpathSync(rootArg);
} catch {
  console.error(`error: no such folder: ${rootArg}`);
  process.exit(2);
}

// The fault: "\n" where HTTP asks for "\r\n", after every line of the head.
function send(socket, status, type, body) {
  const head =
    `HTTP/1.1 ${status} ${REASONS[status]}\n` +
    `Content-Type: ${type}\n` +
    `Content-Length: ${body.length}\n` +
    "Connection: close\n" +
    "\n";
  socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
}

function sendError(socket, status) {
  send(socket, status, TYPES[".html"], Buffer.from(`<h1>${status} ${REASONS[status]}</h1>\n`));
}

// Whether the head breaks RFC 9112: a request line that is not three words
// ending in HTTP/1.x, a header line that is not `Name: value` (a space before
// the colon included), no Host in HTTP/1.1, a Content-Length not a number.
function malformed(lines) {
  const words = lines[0].split(" ");
  if (words.length !== 3 || !/^HTTP\/1\.[01]$/.test(words[2])) return true;
  let hosts = 0;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || /\s/.test(name)) return true;
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "host") hosts += 1;
    if (name.toLowerCase() === "content-length" && !/^\d+$/.test(value)) return true;
  }
  return words[2] === "HTTP/1.1" && hosts !== 1;
}

// The file a target names under the root, or null.
function fileFor(target) {
  let name;
  try {
    name = decodeURIComponent(target.split("?")[0]);
  } catch {
    return null; // a bad %-escape
  }
  if (name.includes("\0")) return null;
  const file = path.join(root, name);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    const stats = fs.statSync(file);
    if (stats.isDirectory()) return fileFor(path.posix.join(target.split("?")[0], "index.html"));
    return stats.isFile() ? file : null;
  } catch {
    return null;
  }
}

function respond(socket, head) {
  const lines = head.split("\r\n");
  if (malformed(lines)) return sendError(socket, 400);
  const [method, target] = lines[0].split(" ");
  console.log(`${method} ${target}`);
  if (method !== "GET") return sendError(socket, 405);
  const file = fileFor(target);
  if (file === null) {
    const page = path.join(root, "error.html");
    return fs.readFile(page, (err, body) => {
      if (err) return sendError(socket, 404);
      send(socket, 404, TYPES[".html"], body);
    });
  }
  fs.readFile(file, (err, body) => {
    if (err) return sendError(socket, 404);
    const type = TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";
    send(socket, 200, type, body);
  });
}

const server = net.createServer((socket) => {
  let received = Buffer.alloc(0);
  let answered = false;
  socket.setTimeout(IDLE_MS, () => socket.destroy());
  socket.on("error", (err) => console.error(`connection: ${err.message}`));
  socket.on("data", (chunk) => {
    if (answered) return; // one request per connection
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) {
      if (received.length > MAX_HEAD) {
        answered = true;
        sendError(socket, 431);
      }
      return;
    }
    answered = true;
    respond(socket, received.subarray(0, end).toString("latin1"));
  });
});

server.on("error", (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(Number(portArg), "127.0.0.1", () => {
  console.log(`Serving ${root} on http://127.0.0.1:${portArg}/`);
});
