// The keep-alive / pipeline / close and json scenarios of bench/run.js on Fastify 5 (the
// ">= 1.5x Fastify" target of the keep-alive GET): the same answers as bench/server.js's handlers.
//   hello: GET / -> 200 text/plain "Hello World"
//   json:  POST / with an application/json body, parsed by Fastify's built-in JSON parser, answered
//          200 application/json with the parsed value (the handler returns it; Fastify serialises
//          it with JSON.stringify, as there is no response schema)
// Defaults kept (no logger), as a Fastify app would run.

import Fastify from 'fastify';

export async function start(port, host = '127.0.0.1', handler = 'hello') {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  if (handler === 'json') {
    app.post('/', async (request, reply) => {
      reply.type('application/json');
      return request.body;
    });
  } else {
    app.get('/', (request, reply) => {
      reply.type('text/plain').send('Hello World');
    });
  }
  await app.listen({ port, host });
  return app.server;
}
