// The options of shutdown() / gracefulShutdown(): their defaults, and the checks that turn a bad
// value into a coded error before anything is wired (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE,
// ERR_INVALID_ARG_VALUE), so that a typo fails at startup rather than at the first SIGTERM.

import { keelError } from '../../keel.js';
import type { ShutdownReport } from './report.js';

/** Default time in-flight work gets to finish before what is left is destroyed, ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default process signals that start a shutdown. */
export const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/** Timeouts above setTimeout's limit (2^31 − 1 ms, about 24.8 days) mean "no deadline". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of shutdown() / gracefulShutdown(). */
export interface ShutdownOptions {
  /**
   * Time in-flight requests and long-lived responses get to finish, ms from the start of the
   * shutdown (default 10000). At the deadline what is left is destroyed. `0` destroys at once;
   * `Infinity` (or anything above 2^31 − 1) never does (only a second signal or `stop.force()`).
   */
  timeout?: number;
  /**
   * Process signals that start the shutdown (default `['SIGTERM', 'SIGINT']`); `false` wires
   * none. The first one starts a graceful shutdown, a second one forces it (destroys at once).
   * The listeners are removed when the shutdown has finished, or by `stop.dispose()`.
   */
  signals?: readonly NodeJS.Signals[] | false;
  /**
   * Called once everything is closed (gracefully or not), before the returned promise resolves
   * and before `exit`: close database pools, flush logs. Awaited with no deadline of its own (a
   * second signal still forces the exit when `exit` is true). What it throws lands in
   * `report.error`.
   */
  onShutdown?: (report: ShutdownReport) => void | Promise<void>;
  /**
   * Call `process.exit()` when done: 0 after a graceful stop, 1 after forcing or when
   * `onShutdown` failed (default false: `process.exitCode` is left alone and the process ends when
   * nothing else keeps it alive).
   */
  exit?: boolean;
}

/** Options after the checks: every default applied, `timeout` null when there is no deadline. */
export interface ResolvedOptions {
  timeout: number | null;
  signals: readonly NodeJS.Signals[];
  onShutdown: ((report: ShutdownReport) => void | Promise<void>) | null;
  exit: boolean;
}

/** Apply the defaults and check every option; throws the coded errors named above. */
export function resolveOptions(options: ShutdownOptions | undefined): ResolvedOptions {
  const opts = options ?? {};
  if (typeof opts !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof opts);
  return {
    timeout: checkTimeout(opts.timeout),
    signals: checkSignals(opts.signals),
    onShutdown: checkHook(opts.onShutdown),
    exit: checkExit(opts.exit),
  };
}

function checkTimeout(value: unknown): number | null {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof value !== 'number') throw keelError('ERR_INVALID_ARG_TYPE', 'options.timeout', 'of type number', typeof value);
  if (Number.isNaN(value) || value < 0) throw keelError('ERR_OUT_OF_RANGE', 'options.timeout', '>= 0', String(value));
  return value > MAX_TIMER_MS ? null : value;
}

function checkSignals(value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined) return DEFAULT_SIGNALS;
  if (value === false) return [];
  if (!Array.isArray(value)) throw keelError('ERR_INVALID_ARG_TYPE', 'options.signals', 'an array of signal names or false', typeof value);
  for (const name of value) {
    if (typeof name !== 'string' || !/^SIG[A-Z0-9]+$/.test(name)) {
      throw keelError('ERR_INVALID_ARG_VALUE', 'options.signals', String(name));
    }
  }
  return [...new Set(value as NodeJS.Signals[])];
}

function checkHook(value: unknown): ResolvedOptions['onShutdown'] {
  if (value === undefined) return null;
  if (typeof value !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', 'options.onShutdown', 'of type function', typeof value);
  return value as ResolvedOptions['onShutdown'];
}

function checkExit(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw keelError('ERR_INVALID_ARG_TYPE', 'options.exit', 'of type boolean', typeof value);
  return value;
}
