// The command line of `keel`: the option table, the parser (`--name value`, `--name=value`, `-p 3000`,
// flags, `--` ends the options) and the checks that turn argv into a Config — or into a UsageError
// (exit status 2) before anything is read from disk or listens. Pure: no I/O here (see preflight.ts).

import { isAbsolute, resolve } from 'node:path';

/** A command-line mistake: the message is printed on stderr and the process exits with status 2. */
export class UsageError extends Error {
  /** The process exit status for usage errors (2, as getopt-style tools). */
  readonly exitCode = 2;
}

/** The commands of `keel`. */
export type Command = 'serve' | 'proxy';
/** Access log format on stdout. */
export type LogFormat = 'combined' | 'json' | 'off';

/** What both commands share. */
export interface CommonConfig {
  readonly command: Command;
  /** TCP port, 0–65535 (0: any free port). Default: $PORT, else 3000. */
  readonly port: number;
  /** Address to listen on. Default 0.0.0.0. */
  readonly host: string;
  readonly log: LogFormat;
  /** Time from SIGTERM/SIGINT until what is still open is cut, ms. Default 10000. */
  readonly graceMs: number;
  /** Time after SIGTERM/SIGINT during which the listener stays open with /readyz at 503, ms. Default 0. */
  readonly drainMs: number;
  /** Worker processes under node:cluster; null: one process, no cluster. */
  readonly workers: number | null;
  /** PEM certificate and key files for HTTPS (both or neither). */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
}

/** `keel serve [dir]`. */
export interface ServeConfig extends CommonConfig {
  readonly command: 'serve';
  /** Absolute path of the directory served. */
  readonly dir: string;
  readonly gzip: boolean;
  readonly cors: boolean;
  readonly spa: boolean;
  readonly listing: boolean;
  /** keel/static's memory cache (files ≤ 1 MiB, 64 MiB per handler, revalidated by stat). */
  readonly cache: boolean;
}

/** `keel proxy --to URL[,URL]`. */
export interface ProxyConfig extends CommonConfig {
  readonly command: 'proxy';
  /** Upstream origins (http: or https:), in round-robin order. */
  readonly upstreams: readonly string[];
}

export type Config = ServeConfig | ProxyConfig;

/** What the command line asks for. */
export type Invocation = { readonly action: 'help' } | { readonly action: 'version' } | { readonly action: 'run'; readonly config: Config };

/** Defaults, in the units the help text states. */
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_DRAIN_MS = 0;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_WORKERS = 1024;

type Takes = 'value' | 'flag' | 'optional-count';
interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly takes: Takes;
  readonly commands: readonly Command[];
}

const BOTH: readonly Command[] = ['serve', 'proxy'];
const OPTIONS: readonly OptionSpec[] = [
  { name: 'port', short: 'p', takes: 'value', commands: BOTH },
  { name: 'host', takes: 'value', commands: BOTH },
  { name: 'log', takes: 'value', commands: BOTH },
  { name: 'grace', takes: 'value', commands: BOTH },
  { name: 'drain', takes: 'value', commands: BOTH },
  { name: 'workers', short: 'w', takes: 'optional-count', commands: BOTH },
  { name: 'tls-cert', takes: 'value', commands: BOTH },
  { name: 'tls-key', takes: 'value', commands: BOTH },
  { name: 'gzip', takes: 'flag', commands: ['serve'] },
  { name: 'cors', takes: 'flag', commands: ['serve'] },
  { name: 'spa', takes: 'flag', commands: ['serve'] },
  { name: 'listing', takes: 'flag', commands: ['serve'] },
  { name: 'cache', takes: 'flag', commands: ['serve'] },
  { name: 'to', takes: 'value', commands: ['proxy'] },
];

const HINT = "Run 'keel --help' for usage.";

function usage(message: string): UsageError {
  return new UsageError(`keel: ${message}\n${HINT}`);
}

function findOption(token: string): OptionSpec | undefined {
  if (token.startsWith('--')) return OPTIONS.find((o) => o.name === token.slice(2));
  return OPTIONS.find((o) => o.short !== undefined && o.short === token.slice(1));
}

/** Raw values by option name (repeated options: every value, in order) and the positionals. */
interface RawArgs {
  readonly values: Map<string, (string | null)[]>;
  readonly positionals: string[];
}

function scan(command: Command, argv: readonly string[]): RawArgs | 'help' | 'version' {
  const values = new Map<string, (string | null)[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '--help' || token === '-h') return 'help';
    if (token === '--version') return 'version';
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq === -1 ? token : token.slice(0, eq);
    const spec = findOption(name);
    if (spec === undefined) throw usage(`unknown option '${name}' for 'keel ${command}'`);
    if (!spec.commands.includes(command)) throw usage(`--${spec.name} is an option of 'keel ${spec.commands.join("' and 'keel ")}', not of 'keel ${command}'`);
    let value: string | null = eq === -1 ? null : token.slice(eq + 1);
    if (spec.takes === 'flag' && value !== null) throw usage(`--${spec.name} takes no value`);
    if (spec.takes === 'value' && value === null) {
      if (i + 1 >= argv.length) throw usage(`--${spec.name} needs a value`);
      value = argv[++i];
    }
    if (spec.takes === 'optional-count' && value === null && i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) value = argv[++i];
    const list = values.get(spec.name) ?? [];
    list.push(value);
    values.set(spec.name, list);
  }
  return { values, positionals };
}

function last(raw: RawArgs, name: string): string | null | undefined {
  const list = raw.values.get(name);
  return list === undefined ? undefined : list[list.length - 1];
}

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw usage(`${what} must be an integer from ${min} to ${max}, not '${text}'`);
  return Number(text);
}

function parsePort(raw: RawArgs, env: NodeJS.ProcessEnv): number {
  const flag = last(raw, 'port');
  if (flag != null) return integer(flag, '--port', 0, 65535);
  if (env.PORT !== undefined && env.PORT !== '') return integer(env.PORT, 'PORT (environment)', 0, 65535);
  return DEFAULT_PORT;
}

function parseUpstreams(raw: RawArgs): string[] {
  const upstreams = (raw.values.get('to') ?? []).flatMap((v) => (v ?? '').split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (upstreams.length === 0) throw usage("'keel proxy' needs --to URL[,URL] (the upstream origins)");
  for (const text of upstreams) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw usage(`--to: '${text}' is not a URL (expected http://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--to: '${text}' must be an http: or https: URL`);
  }
  return upstreams;
}

function parseCommon(command: Command, raw: RawArgs, env: NodeJS.ProcessEnv, cores: number): CommonConfig {
  const host = last(raw, 'host') ?? DEFAULT_HOST;
  if (host === '') throw usage('--host needs a value');
  const log = last(raw, 'log') ?? 'combined';
  if (log !== 'combined' && log !== 'json' && log !== 'off') throw usage(`--log must be combined, json or off, not '${log}'`);
  const grace = last(raw, 'grace');
  const graceMs = grace == null ? DEFAULT_GRACE_MS : integer(grace, '--grace', 0, MAX_TIMER_MS);
  const drain = last(raw, 'drain');
  const drainMs = drain == null ? DEFAULT_DRAIN_MS : integer(drain, '--drain', 0, MAX_TIMER_MS);
  if (drainMs > 0 && drainMs >= graceMs) throw usage(`--drain (${drainMs} ms) must be shorter than --grace (${graceMs} ms)`);
  const workersFlag = raw.values.has('workers') ? last(raw, 'workers') : undefined;
  const workers = workersFlag === undefined ? null : workersFlag === null ? Math.max(1, cores) : integer(workersFlag, '--workers', 1, MAX_WORKERS);
  const certFile = last(raw, 'tls-cert');
  const keyFile = last(raw, 'tls-key');
  if ((certFile == null) !== (keyFile == null)) throw usage('--tls-cert and --tls-key go together');
  const tls = certFile != null && keyFile != null ? { certFile, keyFile } : null;
  return { command, port: parsePort(raw, env), host, log, graceMs, drainMs, workers, tls };
}

/**
 * Parse `keel`'s arguments (argv without node and the script). `env` supplies PORT, `cwd` resolves
 * the served directory, `cores` is what a bare `--workers` means. Throws UsageError for an unknown
 * command or option, a missing or malformed value, or options that do not go together.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, cores: number): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined) throw usage('a command is needed: serve or proxy');
  if (first === '--help' || first === '-h' || first === 'help') return { action: 'help' };
  if (first === '--version') return { action: 'version' };
  if (first.startsWith('-')) throw usage(`a command comes first (serve or proxy), not the option '${first}'`);
  if (first !== 'serve' && first !== 'proxy') throw usage(`unknown command '${first}' (the commands are serve and proxy)`);
  const raw = scan(first, rest);
  if (raw === 'help' || raw === 'version') return { action: raw };
  const common = parseCommon(first, raw, env, cores);
  if (first === 'proxy') {
    if (raw.positionals.length > 0) throw usage(`'keel proxy' takes no argument, got '${raw.positionals[0]}'`);
    return { action: 'run', config: { ...common, command: 'proxy', upstreams: parseUpstreams(raw) } };
  }
  if (raw.positionals.length > 1) throw usage(`'keel serve' takes one directory, got '${raw.positionals[1]}' too`);
  const dirArg = raw.positionals[0] ?? '.';
  const flag = (name: string): boolean => raw.values.has(name);
  return {
    action: 'run',
    config: {
      ...common,
      command: 'serve',
      dir: isAbsolute(dirArg) ? resolve(dirArg) : resolve(cwd, dirArg),
      gzip: flag('gzip'),
      cors: flag('cors'),
      spa: flag('spa'),
      listing: flag('listing'),
      cache: flag('cache'),
    },
  };
}
