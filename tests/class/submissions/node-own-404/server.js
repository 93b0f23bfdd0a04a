// This stage-4 server: node-correct's design, but a missing file gets a page of its
// own, not the site's error.html.
//
//     node server.js PORT ROOT
//
// Expected: fails `not-found-page`, and nothing else at stages 1-4.

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { pipeline } = require("node:stream");

const TYPES = { ".html": "text/html", ".css": "text/css", ".png": "image/png", ".txt": "text/plain" };
const root = fs.realpathSync(process.argv[3]);

function send(res, status, file) {
  res.writeHead(status, {
    "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
    Connection: "close",
  });
  pipeline(fs.createReadStream(file), res, () => {});
}

function refuse(res, status, text) {
  res.writeHead(status, { "Content-Type": "text/plain", Connection: "close" });
  res.end(`${status} ${text}\n`);
}

// The file under the root a target names, or null.
function fileFor(target) {
  let name;
  try {
    name = decodeURIComponent(new URL(target, "http://localhost").pathname);
  } catch {
    return null;
  }
  if (name.includes("\0") || name.includes("\\")) return null;
  const file = path.join(root, name);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

const server = http.createServer((req, res) => {
  const hosts = req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "host");
  if (req.httpVersion === "1.1" && hosts.length !== 1) return refuse(res, 400, "Bad Request");
  if (!req.url.startsWith("/")) return refuse(res, 400, "Bad Request");
  let file = fileFor(req.url);
  if (file === null) return refuse(res, 400, "Bad Request");
  fs.stat(file, (err, stats) => {
    if (!err && stats.isDirectory()) file = path.join(file, "index.html");
    fs.stat(file, (err, stats) => {
      if (err || !stats.isFile()) {
        res.writeHead(404, { "Content-Type": "text/html", Connection: "close" });
        return res.end("<h1>Not found</h1><p>Sorry, no such page.</p>\n");
      }
      send(res, 200, file);
    });
  });
});

process.on("SIGINT", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});

server.listen(Number(process.argv[2]), "127.0.0.1");
