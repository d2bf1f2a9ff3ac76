// The JSON API on Hono 4 served by @hono/node-server (Node request -> fetch Request -> Hono ->
// Response -> Node response); the body is read with `await c.req.json()`, the answer is c.json().
// See routes.js.

import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { ROUTES } from './routes.js';

export function start(port, host = '127.0.0.1') {
  const app = new Hono();

  for (const route of ROUTES) {
    if (route.measured) {
      // the measured route, written out
      app.post('/api/items/:id', async (c) => {
        const body = await c.req.json();
        return c.json({ id: Number(c.req.param('id')), received: Object.keys(body).length, ok: true });
      });
    } else if (route.body) {
      app.on(route.method, route.path, async (c) => c.json(route.reply(c.req.param(), await c.req.json())));
    } else {
      app.on(route.method, route.path, (c) => c.json(route.reply(c.req.param())));
    }
  }

  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}
