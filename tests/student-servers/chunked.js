// A static file server in Node, as a student who knows Node would write it:
// correct for stages 1-3.
//
//     node tests/student-servers/chunked.js PORT ROOT
//
// What it proves: every file is streamed from disk, so the response has no
// Content-Length; Node then sends it with `Transfer-Encoding: chunked`, as
// Node, Go, Java and many Python frameworks do. A grader that reads such a body
// as raw bytes sees the chunk sizes and mistakes a correct server for a broken
// one. The 404 page is streamed the same way. Malformed requests get Node's
// own 400 (or 431 for a head that is too large) before this code sees them.
//
// Expected: passes every check of stages 1-3. Node 20, no packages.

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { pipeline } = require("node:stream");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
};

function usage(message) {
  console.error(`error: ${message}\nusage: node chunked.js PORT ROOT`);
  process.exit(2);
}

const [portArg, rootArg] = process.argv.slice(2);
if (portArg === undefined || rootArg === undefined) usage("give a port and a folder");
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port: ${portArg}`);
let root;
try {
  root = fs.realpathSync(rootArg);
} catch {
  usage(`no such folder: ${rootArg}`);
}

// Sends `file` with `status`, streamed: no Content-Length, so chunked.
function sendFile(res, status, file) {
  const type = TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";
  res.writeHead(status, { "Content-Type": type });
  // pipeline, not pipe: if the client goes away mid-file, the file is closed
  // too, rather than left open until it is read to the end.
  pipeline(fs.createReadStream(file), res, (err) => {
    if (err && err.code !== "ERR_STREAM_PREMATURE_CLOSE") {
      console.error(`${file}: ${err.message}`);
    }
  });
}

function sendError(res, status, text) {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${status} ${text}\n`);
}

function notFound(res) {
  const page = path.join(root, "error.html");
  fs.stat(page, (err, stats) => {
    if (err || !stats.isFile()) return sendError(res, 404, "Not Found");
    sendFile(res, 404, page);
  });
}

// The file a request names, or null if it cannot name one under the root.
function fileFor(target) {
  let decoded;
  try {
    // The base only completes origin-form targets; an absolute-form target
    // (http://host/path) brings its own. The URL parser removes dot segments.
    decoded = decodeURIComponent(new URL(target, "http://localhost").pathname);
  } catch {
    return null; // not a URL, or a bad %-escape
  }
  if (decoded.includes("\0")) return null;
  // Decoding can make new dot segments (..%2f): join removes those too, and
  // the result must still be inside the root.
  const file = path.join(root, decoded);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return file;
}

const server = http.createServer((req, res) => {
  console.log(`${req.method} ${req.url}`);
  // Node answers a missing Host itself; RFC 9112 asks for 400 for two as well.
  const hosts = req.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === "host");
  if (req.httpVersion === "1.1" && hosts.length !== 1) return sendError(res, 400, "Bad Request");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return sendError(res, 405, "Method Not Allowed");
  }
  const file = fileFor(req.url);
  if (file === null) return sendError(res, 400, "Bad Request");
  fs.stat(file, (err, stats) => {
    if (!err && stats.isDirectory()) {
      const index = path.join(file, "index.html");
      return fs.stat(index, (err, stats) => {
        if (err || !stats.isFile()) return notFound(res);
        sendFile(res, 200, index);
      });
    }
    if (err || !stats.isFile()) return notFound(res);
    sendFile(res, 200, file);
  });
});

server.on("error", (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => {
  console.log(`Listening on http://127.0.0.1:${server.address().port}/`);
});
