// The REST API every bench/apps/<impl>.js serves (the `api` scenario of bench/run.js): 20 routes,
// written once here in the `:param` syntax all five frameworks share. Every app registers every
// route with its framework's own router; `body: true` routes parse a JSON request body with the
// framework's own body parsing before `reply(params, body)` builds the JSON answer.
//
// The measured request is `POST /api/items/:id` with bench/lua/body-1k.json (bench/lua/api-post.lua),
// answered `200 application/json {"id":<id as a number>,"received":<keys in the body>,"ok":true}`;
// each app writes that handler out in full (itemsPost below is the reference), the others come
// from this table.

const num = (s) => Number(s);
const keys = (body) => (body !== null && typeof body === 'object' ? Object.keys(body).length : 0);
const written = (id, body) => ({ id, received: keys(body), ok: true });

export const MEASURED = { method: 'POST', path: '/api/items/:id' };

/** The measured route's answer (each app inlines the same expression). */
export function itemsPost(id, body) {
  return { id: Number(id), received: Object.keys(body).length, ok: true };
}

export const ROUTES = [
  { method: 'GET', path: '/api/health', reply: () => ({ status: 'ok' }) },
  { method: 'GET', path: '/api/users', reply: () => ({ users: [], total: 0 }) },
  { method: 'POST', path: '/api/users', body: true, reply: (p, body) => written(null, body) },
  { method: 'GET', path: '/api/users/:id', reply: (p) => ({ id: num(p.id), name: 'user' }) },
  { method: 'PUT', path: '/api/users/:id', body: true, reply: (p, body) => written(num(p.id), body) },
  { method: 'DELETE', path: '/api/users/:id', reply: (p) => ({ id: num(p.id), deleted: true }) },
  { method: 'GET', path: '/api/users/:id/posts', reply: (p) => ({ user: num(p.id), posts: [] }) },
  { method: 'POST', path: '/api/users/:id/posts', body: true, reply: (p, body) => written(num(p.id), body) },
  { method: 'GET', path: '/api/posts', reply: () => ({ posts: [], total: 0 }) },
  { method: 'GET', path: '/api/posts/:postId', reply: (p) => ({ id: num(p.postId), title: 'post' }) },
  { method: 'GET', path: '/api/posts/:postId/comments', reply: (p) => ({ post: num(p.postId), comments: [] }) },
  { method: 'POST', path: '/api/posts/:postId/comments', body: true, reply: (p, body) => written(num(p.postId), body) },
  { method: 'GET', path: '/api/posts/:postId/comments/:commentId', reply: (p) => ({ post: num(p.postId), id: num(p.commentId) }) },
  { method: 'DELETE', path: '/api/posts/:postId/comments/:commentId', reply: (p) => ({ post: num(p.postId), id: num(p.commentId), deleted: true }) },
  { method: 'GET', path: '/api/items', reply: () => ({ items: [], total: 0 }) },
  { method: 'GET', path: '/api/items/:id', reply: (p) => ({ id: num(p.id), name: 'item' }) },
  { ...MEASURED, body: true, measured: true, reply: (p, body) => itemsPost(p.id, body) },
  { method: 'PUT', path: '/api/items/:id', body: true, reply: (p, body) => written(num(p.id), body) },
  { method: 'DELETE', path: '/api/items/:id', reply: (p) => ({ id: num(p.id), deleted: true }) },
  { method: 'GET', path: '/api/orders/:orderId/items/:itemId', reply: (p) => ({ order: num(p.orderId), item: num(p.itemId) }) },
];

if (ROUTES.length !== 20) throw new Error(`bench/apps/routes.js: ${ROUTES.length} routes, expected 20`);
