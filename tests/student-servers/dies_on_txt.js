// A static file server on Node's `http` module that dies on the first file
// whose type it does not know: its table has no ".txt".
//
//     node tests/student-servers/dies_on_txt.js PORT ROOT
//
// The type is looked up and used in one line, with no thought for a miss:
//
//     const type = MEDIA[path.extname(file)].split(";")[0];
//
// For a .txt file the lookup gives `undefined`, `.split` throws a TypeError
// inside an fs callback, nothing catches it, and Node prints the stack and
// exits with status 1. Only files that exist get that far: a missing .txt
// is answered 404 like any missing file.
//
// Everything else is right for stages 1-3: files go out as bytes with a
// Content-Length and the type of their extension, `/` gives index.html,
// `%XX` is decoded and the query ignored, nothing outside the root, 404 with
// error.html, 400 for a malformed request, and one connection does not hold
// up another.
//
// What it proves: a fault with one kind of file is judged once, by the check
// that asks for that kind. `text-files` asks for notes.txt at the root and
// fails, on a fresh copy too; `sub-folder`, whose deepest file is a .txt, is
// not judged rather than failed for folders it gets right; the checks after
// are served by fresh copies, and ask for no other .txt.
//
// Expected at stage 3: fails `text-files`; `sub-folder` not judged; every
// other check passes. Node 20, no packages.

"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

// The fault: no ".txt", and nothing below checks for a miss.
const MEDIA = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".bin": "application/octet-stream",
};

const [port, folder] = process.argv.slice(2);
if (!/^\d+$/.test(port || "") || !folder || !fs.existsSync(folder)) {
  console.error("usage: node dies_on_txt.js PORT ROOT");
  process.exit(2);
}
const root = fs.realpathSync(folder);

function plain(res, status, text) {
  res.writeHead(status, {
    "Content-Type": "text/plain",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function missing(res) {
  fs.readFile(path.join(root, "error.html"), (err, page) => {
    if (err) return plain(res, 404, "404 Not Found\n");
    res.writeHead(404, { "Content-Type": "text/html", "Content-Length": page.length });
    res.end(page);
  });
}

function send(res, file, size) {
  const type = MEDIA[path.extname(file)].split(";")[0];
  res.writeHead(200, { "Content-Type": type, "Content-Length": size });
  fs.createReadStream(file).pipe(res);
}

http
  .createServer((req, res) => {
    console.log(`${req.method} ${req.url}`);
    if (req.httpVersion === "1.1" && !req.headers.host) return plain(res, 400, "400 Bad Request\n");
    if (req.method !== "GET") return plain(res, 405, "405 Method Not Allowed\n");
    let wanted;
    try {
      wanted = decodeURIComponent(req.url.split("?")[0]);
    } catch {
      return plain(res, 400, "400 Bad Request\n");
    }
    if (wanted.includes("\0")) return plain(res, 400, "400 Bad Request\n");
    let file = path.join(root, wanted);
    if (file !== root && !file.startsWith(root + path.sep)) return missing(res);
    fs.stat(file, (err, stats) => {
      if (!err && stats.isDirectory()) {
        file = path.join(file, "index.html");
        fs.stat(file, (err2, inner) => (err2 ? missing(res) : send(res, file, inner.size)));
        return;
      }
      if (err || !stats.isFile()) return missing(res);
      send(res, file, stats.size);
    });
  })
  .listen(Number(port), "127.0.0.1", () => {
    console.log(`Serving ${root} on http://127.0.0.1:${port}/`);
  });
