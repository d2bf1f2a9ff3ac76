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

interface Entry {
  readonly bytes: Buffer;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

function sizeOption(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw keelError('ERR_INVALID_ARG_TYPE', `options.cache.${name}`, 'of type number', typeof value);
  if (!Number.isSafeInteger(value) || value < 0) throw keelError('ERR_OUT_OF_RANGE', `options.cache.${name}`, 'a non-negative integer', String(value));
  return value;
}

/** A stat still describes the file an entry was read from. */
function isCurrent(entry: Entry, stats: Stats): boolean {
  return entry.bytes.length === stats.size && entry.mtimeMs === stats.mtimeMs && entry.ctimeMs === stats.ctimeMs && entry.ino === stats.ino && entry.dev === stats.dev;
}

/** The file contents cache of one serveStatic() handler. */
export class FileCache {
  readonly #maxBytes: number;
  readonly #maxFileBytes: number;
  /** Real path → entry, in order of last use (Map keeps insertion order: first = least recent). */
  readonly #entries = new Map<string, Entry>();
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
    if (!isCurrent(entry, stats)) {
      this.#bytes -= entry.bytes.length;
      return null;
    }
    this.#entries.set(path, entry);
    return entry.bytes;
  }

  /**
   * Read the whole file open as `handle` (its fstat is `stats`) and hold it under `path`. Returns
   * the bytes, or null when the file turned out shorter than `stats.size` (it is being changed: the
   * caller streams it instead, and nothing is held). The handle stays open; the caller closes it.
   */
  async load(path: string, handle: FileHandle, stats: Stats): Promise<Buffer | null> {
    const size = stats.size;
    const bytes = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) return null;
      filled += bytesRead;
    }
    this.#store(path, { bytes, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, dev: stats.dev });
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
