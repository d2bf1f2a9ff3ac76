// serveStatic(): files under a root directory as GET/HEAD responses. It owns the options and the
// order of decisions — method, path safety, dotfiles, the real path inside the root, directory
// handling (redirect, index, listing), precompressed siblings, preconditions, ranges — and hands
// the bytes to file-body.ts. Every path it opens is the realpath, checked to lie inside the root.

import { constants as fsConstants, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import mime from 'mime-types';
import { keelError, type IncomingMessage, type ServerResponse } from '../../keel.js';
import { EncodingNegotiator, checkCodings, varyOnAcceptEncoding, type ContentCoding } from '../compress/accept-encoding.js';
import { parseByteRanges } from './byte-ranges.js';
import { renderDirectoryListing } from './directory-listing.js';
import { planMultipart, READ_CHUNK_BYTES, sendFileRange, sendMultipart, type FileSource } from './file-body.js';
import { FileCache, type StaticCacheOptions } from './file-cache.js';
import { evaluatePreconditions, isRangeFresh, weakETag, type Validators } from './preconditions.js';
import { directoryLocation, hasDotSegment, parseStaticPath } from './static-path.js';
import { sendStatus } from './status-response.js';

/** Options of serveStatic(). */
export interface StaticOptions {
  /**
   * When a request names no file (404) or uses a method other than GET/HEAD (405), call `next()`
   * instead of answering, if the handler was given a `next` (default true). Without `next`, or with
   * false, Keel answers 404 / 405 (with `Allow: GET, HEAD`) itself.
   */
  fallthrough?: boolean;
  /** Index files tried, in order, for a directory requested with a trailing "/" (default ['index.html']; false: none). */
  index?: string | readonly string[] | false;
  /** Redirect a directory requested without its trailing "/" to it, 301 (default true); false: 404. */
  redirect?: boolean;
  /**
   * Paths with a segment starting with "." (".env", ".git/config"): 'ignore' answers as if they did
   * not exist (404, default), 'deny' answers 403, 'allow' serves them.
   */
  dotfiles?: 'allow' | 'deny' | 'ignore';
  /**
   * Follow symbolic links whose real path is inside the root (default true). Links leading outside
   * the root are never followed (404), whatever this says; false refuses every link (404).
   */
  followSymlinks?: boolean;
  /** Send a weak ETag W/"<size>-<mtime>" and answer If-None-Match / If-Match (default true). */
  etag?: boolean;
  /** Send Last-Modified and answer If-Modified-Since / If-Unmodified-Since (default true). */
  lastModified?: boolean;
  /** Honour Range requests and send `Accept-Ranges: bytes` (default true). */
  acceptRanges?: boolean;
  /** Send Cache-Control unless the response already has one (default true). */
  cacheControl?: boolean;
  /** Cache-Control max-age, in seconds (default 0: `public, max-age=0`). */
  maxAge?: number;
  /** Add `immutable` to Cache-Control (default false). */
  immutable?: boolean;
  /**
   * Serve a precompressed sibling ("file.br", "file.gz") when Accept-Encoding accepts it, never for
   * a Range request (default false; true: ['br', 'gzip'], the server's order of preference).
   */
  precompressed?: boolean | readonly ContentCoding[];
  /** Answer a directory with no index file with an HTML listing of its entries (default false). */
  listing?: boolean;
  /**
   * Bytes read from a file at a time (fs.createReadStream's highWaterMark; default 256 KiB). At
   * most about two reads are buffered per download, so this bounds the memory of a slow client;
   * smaller costs more read and write calls. A positive integer, else RangeError ERR_OUT_OF_RANGE.
   */
  highWaterMark?: number;
  /**
   * Hold the bytes of small files in memory and answer from there (default false; true:
   * { maxBytes: 64 MiB, maxFileBytes: 1 MiB }). Every request still stats the file and an entry is
   * used only while size, mtime, ctime, inode and device match what it was read under, so a changed
   * file is read again; least recently served files are evicted past `maxBytes`. A file over
   * `maxFileBytes` (or `maxBytes`) is streamed from disk. Bad sizes: ERR_INVALID_ARG_TYPE /
   * ERR_OUT_OF_RANGE.
   */
  cache?: boolean | StaticCacheOptions;
  /** Called before the head is sent with the response, the real path served and its Stats. */
  setHeaders?: (res: ServerResponse, path: string, stats: Stats) => void;
}

/** A handler: `(req, res)` as a request listener, or `(req, res, next)` as a middleware. Never rejects. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

type Next = ((error?: unknown) => void) | undefined;

/**
 * A regular file found at its real `path`, with its stats: open (`handle`, which pins what is
 * sent), or held in the cache (`bytes`, read under these stats).
 */
interface OpenFile {
  readonly path: string;
  readonly stats: Stats;
  readonly handle: FileHandle | null;
  readonly bytes: Buffer | null;
}

const ALLOW = { Allow: 'GET, HEAD' };
const SIBLING_EXTENSION: Readonly<Record<ContentCoding, string>> = { br: '.br', gzip: '.gz' };
// O_NONBLOCK: opening a FIFO must not block a thread of libuv's pool (it is refused after fstat).
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EISDIR', 'ENXIO']);
const FORBIDDEN_CODES = new Set(['EACCES', 'EPERM']);

/** fs error → status: 404 for a missing path, 403 for a permission error; others are rethrown. */
function statusOfFsError(error: unknown): 403 | 404 {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (NOT_FOUND_CODES.has(code)) return 404;
  if (FORBIDDEN_CODES.has(code)) return 403;
  throw error;
}

async function closeFile(file: OpenFile): Promise<void> {
  if (file.handle !== null) await file.handle.close();
}

function contentTypeOf(path: string): string {
  return mime.contentType(extname(path)) || 'application/octet-stream';
}

function option<T>(value: T | undefined, fallback: T, name: string, type: string): T {
  if (value === undefined) return fallback;
  if (typeof value !== type) throw keelError('ERR_INVALID_ARG_TYPE', `options.${name}`, `of type ${type}`, typeof value);
  return value;
}

class StaticFiles {
  readonly #root: string;
  readonly #isFallthrough: boolean;
  readonly #index: readonly string[];
  readonly #shouldRedirect: boolean;
  readonly #dotfiles: 'allow' | 'deny' | 'ignore';
  readonly #followSymlinks: boolean;
  readonly #hasETag: boolean;
  readonly #hasLastModified: boolean;
  readonly #acceptsRanges: boolean;
  readonly #cacheControl: string | null;
  readonly #precompressed: EncodingNegotiator | null;
  readonly #hasListing: boolean;
  readonly #setHeaders: StaticOptions['setHeaders'];
  readonly #readSize: number;
  readonly #cache: FileCache | null;
  #realRoot: Promise<string> | null = null;

  constructor(root: string, options: StaticOptions) {
    if (typeof root !== 'string' || root === '') throw keelError('ERR_INVALID_ARG_TYPE', 'root', 'a non-empty string', typeof root);
    if (options === null || typeof options !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
    this.#root = resolve(root);
    this.#isFallthrough = option(options.fallthrough, true, 'fallthrough', 'boolean');
    const index = options.index ?? ['index.html'];
    if (index !== false && typeof index !== 'string' && !Array.isArray(index)) throw keelError('ERR_INVALID_ARG_VALUE', 'options.index', String(index));
    this.#index = index === false ? [] : typeof index === 'string' ? [index] : [...index];
    for (const name of this.#index) {
      if (typeof name !== 'string' || name === '' || name.includes('/') || name.includes('\\') || name === '..') throw keelError('ERR_INVALID_ARG_VALUE', 'options.index', String(name));
    }
    this.#shouldRedirect = option(options.redirect, true, 'redirect', 'boolean');
    const dotfiles = options.dotfiles ?? 'ignore';
    if (dotfiles !== 'allow' && dotfiles !== 'deny' && dotfiles !== 'ignore') throw keelError('ERR_INVALID_ARG_VALUE', 'options.dotfiles', String(dotfiles));
    this.#dotfiles = dotfiles;
    this.#followSymlinks = option(options.followSymlinks, true, 'followSymlinks', 'boolean');
    this.#hasETag = option(options.etag, true, 'etag', 'boolean');
    this.#hasLastModified = option(options.lastModified, true, 'lastModified', 'boolean');
    this.#acceptsRanges = option(options.acceptRanges, true, 'acceptRanges', 'boolean');
    const maxAge = option(options.maxAge, 0, 'maxAge', 'number');
    if (!(maxAge >= 0) || !Number.isFinite(maxAge)) throw keelError('ERR_INVALID_ARG_VALUE', 'options.maxAge', String(maxAge));
    const immutable = option(options.immutable, false, 'immutable', 'boolean');
    this.#cacheControl = option(options.cacheControl, true, 'cacheControl', 'boolean') ? `public, max-age=${Math.floor(maxAge)}${immutable ? ', immutable' : ''}` : null;
    const precompressed = options.precompressed ?? false;
    const codings = precompressed === true ? (['br', 'gzip'] as const) : precompressed === false ? [] : checkCodings('options.precompressed', precompressed, []);
    this.#precompressed = codings.length > 0 ? new EncodingNegotiator(codings) : null;
    this.#hasListing = option(options.listing, false, 'listing', 'boolean');
    if (options.setHeaders !== undefined && typeof options.setHeaders !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', 'options.setHeaders', 'of type function', typeof options.setHeaders);
    this.#setHeaders = options.setHeaders;
    const readSize = option(options.highWaterMark, READ_CHUNK_BYTES, 'highWaterMark', 'number');
    if (!Number.isInteger(readSize) || readSize < 1) throw keelError('ERR_OUT_OF_RANGE', 'options.highWaterMark', 'a positive integer', String(readSize));
    this.#readSize = readSize;
    const cache = options.cache === undefined ? false : options.cache;
    if (typeof cache !== 'boolean' && (cache === null || typeof cache !== 'object')) throw keelError('ERR_INVALID_ARG_TYPE', 'options.cache', 'a boolean or an object', typeof cache);
    this.#cache = cache === false ? null : new FileCache(cache);
  }

  /** Answer one request; errors go to `next(error)`, else a 500 (or a destroyed response). */
  async handle(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
    try {
      await this.#serve(req, res, next);
    } catch (error) {
      if (next) next(error);
      else sendStatus(res, 500);
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (this.#isFallthrough && next) return next();
      return sendStatus(res, 405, ALLOW);
    }
    const path = parseStaticPath(req.url || '/');
    if (typeof path === 'number') return path === 404 ? this.#notFound(res, next) : sendStatus(res, path);
    if (this.#dotfiles !== 'allow' && hasDotSegment(path.segments)) {
      return this.#dotfiles === 'deny' ? sendStatus(res, 403) : this.#notFound(res, next);
    }
    const realRoot = await this.#realRootPath();
    if (realRoot === null) return this.#notFound(res, next);
    const target = await this.#realPathInside(realRoot, join(realRoot, ...path.segments));
    if (typeof target === 'number') return target === 404 ? this.#notFound(res, next) : sendStatus(res, target);
    const opened = await this.#openRegular(target);
    if (opened === 404) return this.#notFound(res, next);
    if (opened === 403) return sendStatus(res, 403);
    if (opened !== 'directory') {
      if (!path.hasTrailingSlash) return this.#sendFile(req, res, realRoot, target, opened);
      await closeFile(opened); // "/file.txt/" names a directory that is not there
      return this.#notFound(res, next);
    }

    if (!path.hasTrailingSlash) {
      if (!this.#shouldRedirect) return this.#notFound(res, next);
      const originalUrl = (req as { originalUrl?: unknown }).originalUrl; // set by Express-style mounts
      const location = directoryLocation(typeof originalUrl === 'string' ? originalUrl : req.url);
      return sendStatus(res, 301, { Location: location });
    }
    for (const name of this.#index) {
      const candidate = await this.#realPathInside(realRoot, join(target, name));
      if (typeof candidate === 'number') continue;
      const index = await this.#openRegular(candidate);
      if (typeof index === 'object') return this.#sendFile(req, res, realRoot, candidate, index);
    }
    if (this.#hasListing) return this.#sendListing(req, res, target, path.segments);
    return this.#notFound(res, next);
  }

  #notFound(res: ServerResponse, next: Next): void {
    if (this.#isFallthrough && next) next();
    else sendStatus(res, 404);
  }

  /** The root's real path, resolved once (again on the next request if it failed). */
  async #realRootPath(): Promise<string | null> {
    this.#realRoot ??= realpath(this.#root);
    try {
      return await this.#realRoot;
    } catch {
      this.#realRoot = null;
      return null;
    }
  }

  /**
   * The real path of `path` if it lies inside the root: links are resolved, and one whose target
   * is outside the root (or any link, without followSymlinks) makes the path not found.
   */
  async #realPathInside(realRoot: string, path: string): Promise<string | 403 | 404> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      return statusOfFsError(error);
    }
    if (!this.#followSymlinks) return real === path ? real : 404;
    const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
    return real === realRoot || real.startsWith(prefix) ? real : 404;
  }

  /**
   * Open a regular file and fstat it (the handle pins what is sent); directories and others are
   * told apart. With a cache, a stat first: a file held under the same stats is not opened.
   */
  async #openRegular(path: string): Promise<OpenFile | 'directory' | 403 | 404> {
    if (this.#cache !== null) {
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        return statusOfFsError(error);
      }
      if (!stats.isFile()) return stats.isDirectory() ? 'directory' : 404;
      const bytes = this.#cache.lookup(path, stats);
      if (bytes !== null) return { path, stats, handle: null, bytes };
    }
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_FLAGS);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') return 'directory'; // Windows
      return statusOfFsError(error);
    }
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (stats.isFile()) return { path, stats, handle, bytes: null };
    await handle.close();
    return stats.isDirectory() ? 'directory' : 404; // FIFOs, sockets, devices are never served
  }

  /** A precompressed sibling the request accepts, best first; null if none exists. */
  async #openSibling(req: IncomingMessage, realRoot: string, path: string): Promise<{ file: OpenFile; coding: ContentCoding } | null> {
    for (const coding of this.#precompressed!.rank(req.headers['accept-encoding'])) {
      const sibling = await this.#realPathInside(realRoot, path + SIBLING_EXTENSION[coding]);
      if (typeof sibling === 'number') continue;
      const file = await this.#openRegular(sibling);
      if (typeof file === 'object') return { file, coding };
    }
    return null;
  }

  async #sendFile(req: IncomingMessage, res: ServerResponse, realRoot: string, path: string, identity: OpenFile): Promise<void> {
    const rangeField = req.method === 'GET' && this.#acceptsRanges ? req.headers.range : undefined;
    let file = identity;
    let coding: ContentCoding | null = null;
    if (this.#precompressed !== null) {
      varyOnAcceptEncoding(res);
      if (rangeField === undefined) {
        let sibling: { file: OpenFile; coding: ContentCoding } | null;
        try {
          sibling = await this.#openSibling(req, realRoot, path);
        } catch (error) {
          await closeFile(identity);
          throw error;
        }
        if (sibling !== null) {
          await closeFile(identity);
          file = sibling.file;
          coding = sibling.coding;
        }
      }
    }
    const { stats } = file;
    const size = stats.size;
    const validators: Validators = {
      etag: this.#hasETag ? weakETag(size, stats.mtimeMs) : undefined,
      lastModifiedSeconds: this.#hasLastModified ? Math.floor(stats.mtimeMs / 1000) : -1,
    };
    try {
      if (validators.etag !== undefined) res.setHeader('ETag', validators.etag);
      if (validators.lastModifiedSeconds >= 0) res.setHeader('Last-Modified', stats.mtime.toUTCString());
      if (this.#cacheControl !== null && !res.hasHeader('cache-control')) res.setHeader('Cache-Control', this.#cacheControl);
      if (this.#setHeaders) this.#setHeaders(res, path, stats);
    } catch (error) {
      await closeFile(file);
      throw error;
    }
    const outcome = evaluatePreconditions(req.headers, validators);
    if (outcome !== 200) {
      await closeFile(file);
      if (outcome === 412) return sendStatus(res, 412);
      res.statusCode = 304;
      res.end();
      return;
    }
    const type = contentTypeOf(path);
    if (!res.hasHeader('content-type')) res.setHeader('Content-Type', type);
    if (coding !== null) res.setHeader('Content-Encoding', coding);
    else if (this.#acceptsRanges) res.setHeader('Accept-Ranges', 'bytes');

    const ranges = rangeField !== undefined && isRangeFresh(req.headers['if-range'], validators)
      ? parseByteRanges(Array.isArray(rangeField) ? rangeField.join(',') : rangeField, size)
      : null;
    if (ranges === 'unsatisfiable') {
      await closeFile(file);
      return sendStatus(res, 416, { 'Content-Range': `bytes */${size}` });
    }
    const source = await this.#bodySource(req, file);
    if (ranges !== null && ranges.length === 1) {
      const { start, end } = ranges[0];
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
      res.setHeader('Content-Length', end - start + 1);
      return sendFileRange(res, source, start, end - start + 1, this.#readSize);
    }
    if (ranges !== null) {
      const plan = planMultipart(ranges, size, String(res.getHeader('content-type')));
      res.statusCode = 206;
      res.setHeader('Content-Type', plan.contentType);
      res.setHeader('Content-Length', plan.length);
      return sendMultipart(res, source, ranges, plan, this.#readSize);
    }
    res.statusCode = 200;
    res.setHeader('Content-Length', size);
    sendFileRange(res, source, 0, size, this.#readSize);
  }

  /**
   * What the body is sent from: the cached bytes, else the open file — read whole into the cache
   * first if the cache admits its size and the request is a GET (a HEAD reads nothing). The handle
   * of a file read into the cache is closed here.
   */
  async #bodySource(req: IncomingMessage, file: OpenFile): Promise<FileSource> {
    if (file.bytes !== null) return file.bytes;
    const handle = file.handle!;
    if (this.#cache === null || !this.#cache.admits(file.stats.size) || req.method !== 'GET') return handle;
    let bytes: Buffer | null;
    try {
      bytes = await this.#cache.load(file.path, handle, file.stats);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (bytes === null) return handle; // shorter than its stat: being changed, stream it as it is
    await handle.close();
    return bytes;
  }

  async #sendListing(req: IncomingMessage, res: ServerResponse, dirPath: string, segments: readonly string[]): Promise<void> {
    const urlPath = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
    const page = await renderDirectoryListing(dirPath, urlPath, this.#dotfiles === 'allow');
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(page));
    res.end(req.method === 'HEAD' ? undefined : page);
  }
}

/**
 * Serve the files under `root` (a directory; relative paths are resolved against the working
 * directory once): GET and HEAD, with MIME types from mime-types (charset for text types), weak
 * ETag and Last-Modified validators with 304 / 412 (RFC 9110 §13), byte ranges with 206, multipart
 * 206 and 416 (RFC 9110 §14), index files, the directory redirect, optional listing and
 * precompressed siblings. Requests that climb out of the root (.., %2e%2e, %2f, %5c, NUL, links
 * leading outside) are refused: 400 for malformed percent-encoding or NUL, 403 for "..", 404 else.
 *
 * Returns `(req, res, next?) => Promise<void>` (never rejects). Throws ERR_INVALID_ARG_TYPE /
 * ERR_INVALID_ARG_VALUE for a bad root or option.
 */
export function serveStatic(root: string, options: StaticOptions = {}): StaticHandler {
  const files = new StaticFiles(root, options);
  return (req, res, next) => files.handle(req, res, next);
}
