// keel/static's opt-in memory cache: the bytes of small files, keyed by real path, least recently
// used evicted first when the total passes its budget. An entry is only ever served after a stat of
// its path matched the stat it was read under (size, mtime, ctime, inode, device), so a file
// changed on disk is read again. Serving from memory copies each byte once (to the socket) instead
// of twice (file to memory, memory to socket), which is what lets one core keep up with nginx's
// sendfile.

import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { keelError } from '../../keel.js';

/** keel/static's `cache` option. */
export interface StaticCacheOptions {
  /** Bytes of file contents held in all, least recently served evicted first (default 64 MiB). */
  maxBytes?: number;
  /** Largest file held, bytes (default 1 MiB); larger files are always streamed from disk. */
  maxFileBytes?: number;
}

/** Default `cache.maxBytes`: 64 MiB. */
export const CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Default `cache.maxFileBytes`: 1 MiB. */
export const CACHE_MAX_FILE_BYTES = 1024 * 1024;

/** Held bytes and the stats they were read under. */
interface Entry {
  readonly bytes: Buffer;
  readonly stats: Stats;
}

function sizeOption(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw keelError('ERR_INVALID_ARG_TYPE', `options.cache.${name}`, 'of type number', typeof value);
  if (!Number.isSafeInteger(value) || value < 0) throw keelError('ERR_OUT_OF_RANGE', `options.cache.${name}`, 'a non-negative integer', String(value));
  return value;
}

/** A file being read into the cache: the stats it is read under, and the read. */
interface Loading {
  readonly stats: Stats;
  readonly bytes: Promise<Buffer | null>;
}

/** Two stats describe the same version of the same file. */
function isSameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The file contents cache of one serveStatic() handler. */
export class FileCache {
  readonly #maxBytes: number;
  readonly #maxFileBytes: number;
  /** Real path → entry, in order of last use (Map keeps insertion order: first = least recent). */
  readonly #entries = new Map<string, Entry>();
  /** Real path → the read in flight, shared by the requests that miss while it runs. */
  readonly #loading = new Map<string, Loading>();
  #bytes = 0;

  /**
   * `options`: true for the defaults, or { maxBytes, maxFileBytes } (non-negative integers, bytes).
   * Throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for a bad value.
   */
  constructor(options: true | StaticCacheOptions) {
    const given = options === true ? {} : options;
    this.#maxBytes = sizeOption(given.maxBytes, CACHE_MAX_BYTES, 'maxBytes');
    this.#maxFileBytes = Math.min(sizeOption(given.maxFileBytes, CACHE_MAX_FILE_BYTES, 'maxFileBytes'), this.#maxBytes);
  }

  /** Whether a file of `size` bytes is held once read. */
  admits(size: number): boolean {
    return size <= this.#maxFileBytes;
  }

  /** The bytes of `path` if they were read under the same `stats` (and mark them used); else null. */
  lookup(path: string, stats: Stats): Buffer | null {
    const entry = this.#entries.get(path);
    if (entry === undefined) return null;
    this.#entries.delete(path);
    if (!isSameFile(entry.stats, stats)) {
      this.#bytes -= entry.bytes.length;
      return null;
    }
    this.#entries.set(path, entry);
    return entry.bytes;
  }

  /**
   * The bytes of the file open as `handle` (its fstat is `stats`), held under `path`: already held,
   * or being read for another request (one read is shared by every request that misses while it
   * runs, so a burst on a cold file reads it once), or read whole now. Null when the file turned out
   * shorter than `stats.size` (it is being changed: the caller streams it instead, and nothing is
   * held). The handle stays open; the caller closes it. Rejects with the read's error.
   */
  load(path: string, handle: FileHandle, stats: Stats): Promise<Buffer | null> {
    const held = this.lookup(path, stats);
    if (held !== null) return Promise.resolve(held);
    const loading = this.#loading.get(path);
    if (loading !== undefined && isSameFile(loading.stats, stats)) return loading.bytes;
    const read: Loading = { stats, bytes: this.#read(path, handle, stats) };
    this.#loading.set(path, read);
    const forget = (): void => {
      if (this.#loading.get(path) === read) this.#loading.delete(path);
    };
    read.bytes.then(forget, forget);
    return read.bytes;
  }

  async #read(path: string, handle: FileHandle, stats: Stats): Promise<Buffer | null> {
    const size = stats.size;
    const bytes = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) return null;
      filled += bytesRead;
    }
    this.#store(path, { bytes, stats });
    return bytes;
  }

  #store(path: string, entry: Entry): void {
    const previous = this.#entries.get(path);
    if (previous !== undefined) {
      this.#entries.delete(path);
      this.#bytes -= previous.bytes.length;
    }
    this.#entries.set(path, entry);
    this.#bytes += entry.bytes.length;
    for (const [oldest, held] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= held.bytes.length;
    }
  }
}
