// Seed: 002_7166d7bc8f0fc95a.txt ("HTTP Client–Server Communication in Node.js:
//       How It Works"), section "Creating an HTTP Client in Node.js".
// Demonstrates: http.request() POST to localhost:80 "/", the body written
//   with clientRequest.write("Hi i am client") then end() (so it goes
//   chunked), and each response-body chunk logged (the companion server,
//   002-hello-server.mjs, answers "Hello from HTTP Server").
//   (The test points localhost:80 at its server through SEED_HOST_MAP in
//   test/seeds/port-shim.cjs; the example is unchanged.)
// Changes from the seed: import http from 'http' -> from 'keel';
//   whitespace only.

import http from 'keel';

const clientRequest = http.request({
    method: "POST",
    hostname: "localhost",
    port: 80,
    path: "/"
});

clientRequest.write("Hi i am client");

clientRequest.on("response", (response) => {
    response.on("data", (chunk) => {
        console.log(chunk.toString());
    });
});

clientRequest.end();
