// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       the snippet after "For HTTP, Node wraps this lower-level socket handling:".
// Demonstrates: http.createServer() wrapping the lower-level socket handling;
//   req wraps the incoming socket data, res the outgoing socket writes.
//   The seed's snippet never calls listen() and its handler is empty, so run
//   as written it just constructs a server and exits: creating a server that
//   is not listening must not keep the process alive.
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');
http.createServer((req, res) => {
  // req wraps the incoming socket data
  // res wraps the outgoing socket writes
});
