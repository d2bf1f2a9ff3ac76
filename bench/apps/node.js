// The JSON API on plain node:http: a hand-written route table (one compiled RegExp per route,
// tried in order among the routes of the request's method), the body collected by hand and
// JSON.parse'd. `start(port, host, http)` takes the http module, so the same code also runs on
// Keel without its batteries (keel-bare.js). See routes.js.

import nodeHttp from 'node:http';
import { ROUTES } from './routes.js';

function compile(path) {
  const names = [];
  const source = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${source}$`), names };
}

// Content-Length given, as a careful node:http app does (writeHead() without it makes
// node:http send the body chunked).
function sendJson(res, status, value) {
  const json = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

function readJson(req, res, done) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'Bad JSON' });
      return;
    }
    done(body);
  });
}

export function start(port, host = '127.0.0.1', http = nodeHttp) {
  /** method -> [{ regex, names, handler(req, res, params) }] */
  const table = new Map();
  const add = (method, path, handler) => {
    if (!table.has(method)) table.set(method, []);
    table.get(method).push({ ...compile(path), handler });
  };

  for (const route of ROUTES) {
    if (route.measured) {
      // the measured route, written out
      add('POST', '/api/items/:id', (req, res, params) => {
        readJson(req, res, (body) => {
          sendJson(res, 200, { id: Number(params.id), received: Object.keys(body).length, ok: true });
        });
      });
    } else if (route.body) {
      add(route.method, route.path, (req, res, params) => readJson(req, res, (body) => sendJson(res, 200, route.reply(params, body))));
    } else {
      add(route.method, route.path, (req, res, params) => sendJson(res, 200, route.reply(params)));
    }
  }

  const server = http.createServer((req, res) => {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const routes = table.get(req.method);
    if (routes !== undefined) {
      for (const route of routes) {
        const m = route.regex.exec(path);
        if (m === null) continue;
        const params = {};
        for (let i = 0; i < route.names.length; i++) params[route.names[i]] = decodeURIComponent(m[i + 1]);
        route.handler(req, res, params);
        return;
      }
    }
    req.resume();
    sendJson(res, 404, { error: 'Not Found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
