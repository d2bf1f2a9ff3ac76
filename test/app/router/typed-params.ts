// Compile-time checks of keel/router's typed params (checked by types.test.js with tsc --noEmit):
// every `@ts-expect-error` line must fail to compile, every other line must compile.

import http from 'keel';
import { createRouter, type Handler, type Middleware, type RouteParams, type RouterRequest } from 'keel/router';

const router = createRouter();

router.get('/users/:id/posts/:postId', (req, res, params) => {
  const id: string = params.id;
  const postId: string = params.postId;
  const same: string = req.params.postId;
  // @ts-expect-error: no such param
  params.nope;
  res.end(`${id} ${postId} ${same}`);
});

router.get('/files/*', (req, res, params) => params['*'].length);
router.get('/orders/:id(\\d+)/lines/:line([0-9]+)', (req, res, params) => params.id + params.line);
router.get('/a::b/:x', (req, res, params) => {
  const x: string = params.x;
  // @ts-expect-error: "::" is a literal colon, not a param "b"
  params.b;
  return x;
});
router.get('/v:major/info', (req, res, params) => params.major);
router.get('/static', (req, res, params) => {
  // @ts-expect-error: a static route has no params
  params.id;
});

// middleware first, then the handler: (req, res, next) ... (req, res, params, next)
router.post('/users/:id', (req, res, next) => next(), async (req, res, params, next) => {
  const id: string = params.id;
  if (!id) next(new Error('missing'));
});
router.put('/x/:a', (req, res, next) => {
  // @ts-expect-error: a middleware's third argument is next, not params
  next.a;
}, (req, res, params) => params.a);
// @ts-expect-error: a handler is required after the middleware
router.get('/y', 42);

// non-literal paths: Record<string, string>
const dynamic: string = '/dyn/:anything';
router.get(dynamic, (req, res, params) => params.whatever);

// the exported helpers
const p: RouteParams<'/teams/:teamId/members/:userId/*'> = { teamId: 't', userId: 'u', '*': 'rest' };
// @ts-expect-error: missing userId
const q: RouteParams<'/teams/:teamId/members/:userId'> = { teamId: 't' };
const typed: Handler<RouteParams<'/u/:id'>> = (req, res, params) => params.id;
router.get('/u/:id', typed);
const mw: Middleware = (req: RouterRequest, res, next) => {
  const query: URLSearchParams = req.query;
  next(query.get('fail'));
};
router.use(mw);
router.use('/api', mw, mw);
router.on(['GET', 'HEAD'], '/multi/:m', (req, res, params) => params.m);
router.all('/all/:x', (req, res, params) => params.x);

// the router is a request listener
const server = http.createServer(router);
router.handle;
void [p, q, server];
