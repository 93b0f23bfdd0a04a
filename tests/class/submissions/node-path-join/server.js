// This stage-4 server: node-correct's design, with the root check left out.
//
//     node server.js PORT ROOT
//
// It decodes the path and joins it to the root, trusting path.join to keep
// it there. It does not: join removes `..` by climbing, so `/../secret` (or
// `/%2e%2e/secret`) names a file beside the root, and it is served.
//
// Expected: fails `no-traversal`, and nothing else at stages 1-4.

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

// The file a target names, or null.
function fileFor(target) {
  let name;
  try {
    name = decodeURIComponent(new URL(target, "http://localhost").pathname);
  } catch {
    return null;
  }
  if (name.includes("\0") || name.includes("\\")) return null;
  return path.join(root, name);
}

const server = http.createServer((req, res) => {
  const hosts = req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "host");
  if (req.httpVersion === "1.1" && hosts.length !== 1) return refuse(res, 400, "Bad Request");
  let file = fileFor(req.url);
  if (file === null) return refuse(res, 400, "Bad Request");
  fs.stat(file, (err, stats) => {
    if (!err && stats.isDirectory()) file = path.join(file, "index.html");
    fs.stat(file, (err, stats) => {
      if (err || !stats.isFile()) return send(res, 404, path.join(root, "error.html"));
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
