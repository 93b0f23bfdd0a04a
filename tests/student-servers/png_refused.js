// A static file server on Node's `http` module that refuses the file types it
// does not know, and does not know PNG.
//
//     node tests/student-servers/png_refused.js PORT ROOT
//
// Its table of types was written for the first site it served (pages,
// styles, JPEG photos, downloads), and a file whose extension is not in it
// is answered `400 Bad Request` ("we do not serve that kind of file"), not
// sent with a type that might be wrong. PNG is not in the table, so every
// .png is refused.
//
// Everything else is right: every file it does serve comes with a
// Content-Length in bytes and the Content-Type of its extension; `/` gives
// index.html; nothing outside the root; 404 with error.html; Node's own 400
// for a malformed request, and this server's for what Node lets through (a
// missing Host, more than one).
//
// What it proves: a check about the headers of the files that are served
// judges the files that are served. `content-length` and `content-type`
// leave out a file that does not come back (and say so), rather than fail
// for it: every 200 this server sends has the right length and type.
//
// Expected: fails `binary-files` (image.png gets 400), and nothing else at
// stages 1-3. Node 20, no packages.

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

// The fault: no ".png".
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".bin": "application/octet-stream",
  ".zip": "application/zip",
};

const [portArg, rootArg] = process.argv.slice(2);
if (!/^\d+$/.test(portArg || "") || rootArg === undefined) {
  console.error("usage: node png_refused.js PORT ROOT");
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
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": body.length,
  });
  res.end(body);
}

function sendFile(res, status, file, size) {
  res.writeHead(status, {
    "Content-Type": TYPES[path.extname(file).toLowerCase()],
    "Content-Length": size,
  });
  fs.createReadStream(file).pipe(res);
}

function notFound(res) {
  const page = path.join(root, "error.html");
  fs.stat(page, (err, stats) => {
    if (err) return sendText(res, 404, "404 Not Found\n");
    sendFile(res, 404, page, stats.size);
  });
}

const server = http.createServer((req, res) => {
  console.log(`${req.method} ${req.url}`);
  const hosts = req.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === "host");
  if (req.httpVersion === "1.1" && hosts.length !== 1) return sendText(res, 400, "400 Bad Request\n");
  if (req.method !== "GET") return sendText(res, 405, "405 Method Not Allowed\n");
  let name;
  try {
    name = decodeURIComponent(req.url.split("?")[0]);
  } catch {
    return sendText(res, 400, "400 Bad Request\n");
  }
  if (name.includes("\0")) return sendText(res, 400, "400 Bad Request\n");
  let file = path.join(root, name);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
  fs.stat(file, (err, stats) => {
    if (!err && stats.isDirectory()) {
      file = path.join(file, "index.html");
      try {
        stats = fs.statSync(file);
      } catch {
        return notFound(res);
      }
    }
    if (err || !stats.isFile()) return notFound(res);
    if (!(path.extname(file).toLowerCase() in TYPES)) {
      return sendText(res, 400, `400 Bad Request: ${path.extname(file) || "files without an extension"} not served\n`);
    }
    sendFile(res, 200, file, stats.size);
  });
});

server.on("error", (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(Number(portArg), "127.0.0.1", () => {
  console.log(`Serving ${root} on http://127.0.0.1:${portArg}/`);
});
