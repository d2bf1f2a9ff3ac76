// The JSON API on Fastify 5: its own router (find-my-way) and its built-in application/json body
// parser; handlers return the object and Fastify serialises it (no response schema). See routes.js.

import Fastify from 'fastify';
import { ROUTES } from './routes.js';

export async function start(port, host = '127.0.0.1') {
  const app = Fastify({ logger: false });

  for (const route of ROUTES) {
    if (route.measured) {
      // the measured route, written out
      app.post('/api/items/:id', async (request) => {
        const body = request.body;
        return { id: Number(request.params.id), received: Object.keys(body).length, ok: true };
      });
    } else if (route.body) {
      app.route({ method: route.method, url: route.path, handler: async (request) => route.reply(request.params, request.body) });
    } else {
      app.route({ method: route.method, url: route.path, handler: async (request) => route.reply(request.params) });
    }
  }

  await app.listen({ port, host });
  return app.server;
}
