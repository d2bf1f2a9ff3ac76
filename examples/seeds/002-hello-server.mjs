// Seed: 002_7166d7bc8f0fc95a.txt ("HTTP Client–Server Communication in Node.js:
//       How It Works"), section "Building an HTTP Server in Node.js".
// Demonstrates: an ESM server on port 80 / 0.0.0.0 that logs "got the
//   request", the method, the url and each request-body chunk, and answers
//   "Hello from HTTP Server" (it calls res.end() before the body has been read).
// Changes from the seed: import http from 'node:http' -> from 'keel';
//   whitespace only.

import http from 'keel';

const server = http.createServer((req, res) => {
    console.log("got the request");
    console.log(req.method);
    console.log(req.url);

    req.on("data", (chunk) => {
        console.log(chunk.toString());
    });

    res.end("Hello from HTTP Server");
});

server.listen(80, "0.0.0.0", () => {
    console.log("Server is listening on port 80");
});
