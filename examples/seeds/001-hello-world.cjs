// Seed: 001_04522a7d6c04775c.txt ("CHAPTER 8 — Networking Internals"),
//       section "7. Example: An HTTP Server".
// Demonstrates: the minimal HTTP server: res.write() then res.end() with no
//   explicit status or headers (implicit 200, body "Hello world").
// Changes from the seed: require("http") -> require("keel").

const http = require("keel");

const server = http.createServer((req, res) => {
  res.write("Hello world");
  res.end();
});

server.listen(3000);
