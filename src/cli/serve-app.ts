// The request handler of `keel serve`: keel/static over the directory, with --listing, --cache
// (keel/static's memory cache), --spa (unknown extension-less paths get /index.html, for
// client-side routers), --cors (cors.ts) and --gzip (keel/compress on the fly). Health endpoints and the access log are added around it.

import { extname } from 'node:path';
import type { IncomingMessage, ServerResponse } from '../keel.js';
import { serveStatic } from '../app/static/index.js';
import { withCompression } from '../app/compress/index.js';
import type { ServeConfig } from './args.js';
import { applyCors } from './cors.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Whether --spa should answer this request with /index.html: a GET/HEAD whose last segment has no extension. */
function wantsAppShell(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = pathOf(req.url);
  return extname(path.slice(path.lastIndexOf('/') + 1)) === '';
}

function failed(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = 500;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('Internal Server Error\n');
}

/** Build serve's handler from the config (throws keel/static's ERR_INVALID_ARG_* for a bad option). */
export function createServeHandler(config: ServeConfig): Handler {
  // Answers 404 / 405 itself: the handler of every request --spa does not take over.
  const files = serveStatic(config.dir, { listing: config.listing, fallthrough: false, cache: config.cache });
  let handler: Handler = (req, res) => void files(req, res);
  if (config.spa) {
    // With --spa, `lookup` serves every file that exists and `shell` only index.html.
    const lookup = serveStatic(config.dir, { listing: config.listing, cache: config.cache });
    const shell = serveStatic(config.dir, { fallthrough: false, index: false, cache: config.cache });
    handler = (req, res) => {
      void lookup(req, res, (error?: unknown) => {
        if (error !== undefined) return failed(res);
        if (!wantsAppShell(req)) return void files(req, res);
        req.url = '/index.html';
        void shell(req, res);
      });
    };
  }
  if (config.gzip) handler = withCompression(handler);
  if (config.cors) {
    const inner = handler;
    handler = (req, res) => {
      if (!applyCors(req, res)) inner(req, res);
    };
  }
  return handler;
}
