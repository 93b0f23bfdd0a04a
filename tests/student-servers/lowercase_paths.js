// A static file server on Node's `http` module that lower-cases every path
// before it looks for the file.
//
//     node tests/student-servers/lowercase_paths.js PORT ROOT
//
// The student made URLs "case-insensitive, like on Windows", so that
// /Index.HTML finds index.html:
//
//     const name = decodeURIComponent(pathname).toLowerCase();
//
// On a file system where names are case-sensitive (Linux, and macOS when
// formatted so), a file whose name has a capital in it can then never be
// served: GET /Mixed-Case.html looks for mixed-case.html, which is not there,
// and gets 404. On macOS's default file system, which ignores case when it
// looks a name up, the file is found, and nothing is wrong to see.
//
// Everything else is right: Content-Length in bytes, the Content-Type of
// each file, `/` gives index.html, `%20` is decoded and the query ignored,
// nothing outside the root, 404 with error.html, Node's own 400 for a
// malformed request and this server's for what Node lets through (a missing
// Host, more than one).
//
// What it proves: the grader asks for a name with capitals in it, and holds
// the server to the name's case, in the check about paths.
//
// Expected: fails `paths`, and nothing else at stages 1-3, on a case-sensitive
// file system. Node 20, no packages.

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
};

const [portArg, rootArg] = process.argv.slice(2);
if (!/^\d+$/.test(portArg || "") || rootArg === undefined) {
  console.error("usage: node lowercase_paths.js PORT ROOT");
  process.exit(2);
}
let root;
try {
  root = fs.realpathSync(rootArg);
} catch {
  console.error(`error: no such folder: ${rootArg}`);
  process.exit(2);
}

function sendText(res, status, text) {
  const body = Buffer.from(text);
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

function sendFile(res, status, file) {
  fs.readFile(file, (err, body) => {
    if (err) return sendText(res, 404, "404 Not Found\n");
    res.writeHead(status, {
      "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
      "Content-Length": body.length,
    });
    res.end(body);
  });
}

const server = http.createServer((req, res) => {
  console.log(`${req.method} ${req.url}`);
  const hosts = req.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === "host");
  if (req.httpVersion === "1.1" && hosts.length !== 1) return sendText(res, 400, "400 Bad Request\n");
  if (req.method !== "GET") return sendText(res, 405, "405 Method Not Allowed\n");
  let name;
  try {
    // The fault: case thrown away.
    name = decodeURIComponent(req.url.split("?")[0]).toLowerCase();
  } catch {
    return sendText(res, 400, "400 Bad Request\n");
  }
  const notFound = () => sendFile(res, 404, path.join(root, "error.html"));
  if (name.includes("\0")) return notFound();
  let file = path.join(root, name);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound();
  fs.stat(file, (err, stats) => {
    if (!err && stats.isDirectory()) {
      file = path.join(file, "index.html");
      return fs.stat(file, (err, stats) => (err || !stats.isFile() ? notFound() : sendFile(res, 200, file)));
    }
    if (err || !stats.isFile()) return notFound();
    sendFile(res, 200, file);
  });
});

server.on("error", (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(Number(portArg), "127.0.0.1", () => {
  console.log(`Serving ${root} on http://127.0.0.1:${portArg}/`);
});
