// The JSON API on Express 5: its router and `express.json()` (body-parser) as application-wide
// middleware, answers with res.json(). Express defaults are kept (X-Powered-By, weak ETag on
// res.json bodies), as an Express app would run. See routes.js.

import express from 'express';
import { ROUTES } from './routes.js';

export function start(port, host = '127.0.0.1') {
  const app = express();
  app.use(express.json());

  for (const route of ROUTES) {
    const method = route.method.toLowerCase();
    if (route.measured) {
      // the measured route, written out
      app.post('/api/items/:id', (req, res) => {
        const body = req.body;
        res.json({ id: Number(req.params.id), received: Object.keys(body).length, ok: true });
      });
    } else if (route.body) {
      app[method](route.path, (req, res) => res.json(route.reply(req.params, req.body)));
    } else {
      app[method](route.path, (req, res) => res.json(route.reply(req.params)));
    }
  }

  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err) => {
      if (err) reject(err);
      else resolve(server);
    });
  });
}
