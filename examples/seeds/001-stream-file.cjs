// Seed: 001_04522a7d6c04775c.txt ("CHAPTER 8 — Networking Internals"),
//       section "8. Why req and res Are Streams".
// Demonstrates: streaming a large file to the client with
//   fs.createReadStream("bigfile.mp4").pipe(res): res is a Writable stream,
//   backpressure is handled by pipe(), and with no Content-Length the body is
//   sent chunked.
// bigfile.mp4 is read relative to the working directory; the test generates a
//   few hundred KiB of bytes under that name in a temp dir and runs this there.
// Changes from the seed: require("http") -> require("keel"); scaffolding
//   block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The seed's snippet never calls listen(), so run as written it would exit at
// once. To make it reachable, `require("keel")` below hands the example keel
// with createServer() also calling .listen(3000), like the seed's other
// servers. Every other module is required normally.
const seedRequire = require;
require = (id) => {
  const mod = seedRequire(id);
  if (id !== "keel") return mod;
  return { ...mod, createServer: (...args) => mod.createServer(...args).listen(3000) };
};
// --- end of scaffolding ---

const fs = require("fs");
const http = require("keel");

http.createServer((req, res) => {
  fs.createReadStream("bigfile.mp4").pipe(res);
});
