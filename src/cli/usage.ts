// The words `keel --help` and `keel --version` print: the usage text (commands, options with their
// defaults, endpoints, signals, exit statuses) and the package version read from package.json.

import { readFileSync } from 'node:fs';
import { DEFAULT_DRAIN_MS, DEFAULT_GRACE_MS, DEFAULT_HOST, DEFAULT_PORT } from './args.js';

/** The text of `keel --help` (ends with a newline). */
export function helpText(): string {
  return `Usage: keel <command> [options]

Serve a directory, or proxy to upstream servers, over Keel's strict HTTP/1.1 server.

Commands:
  serve [dir]              serve the files under dir (default: .)
  proxy --to URL[,URL]     reverse-proxy every request to the upstreams, round-robin

Options of serve:
  --gzip                   compress text responses on the fly (brotli or gzip, by Accept-Encoding)
  --cors                   send Access-Control-Allow-Origin: * and answer CORS preflights (OPTIONS)
  --spa                    answer unknown paths without an extension with /index.html
  --listing                list directories that have no index.html
  --cache                  hold files up to 1 MiB in memory (64 MiB in all), checked against
                           the disk by a stat on every request

Options of proxy:
  --to URL[,URL]           upstream origins, http: or https: (repeatable; required)

Options of both:
  -p, --port N             TCP port, 0 for any free one (default: $PORT, else ${DEFAULT_PORT})
  --host ADDR              address to listen on (default: ${DEFAULT_HOST})
  -w, --workers [N]        run N worker processes under node:cluster; N defaults to one per core
                           (default without the option: one process, no cluster)
  --log FORMAT             access log on stdout: combined, json or off (default: combined)
  --drain MS               after SIGTERM/SIGINT, keep accepting for MS with /readyz at 503,
                           every response with Connection: close (default: ${DEFAULT_DRAIN_MS})
  --grace MS               after SIGTERM/SIGINT, time for requests in flight to finish before
                           what is left is cut and the exit status is 1 (default: ${DEFAULT_GRACE_MS})
  --tls-cert FILE          serve HTTPS with this PEM certificate (with --tls-key)
  --tls-key FILE           the PEM private key of --tls-cert
  -h, --help               print this help
  --version                print the version

Endpoints:
  /healthz                 200 "ok" while the process runs
  /readyz                  200 "ok" while serving, 503 once a shutdown has started

Signals:
  SIGTERM, SIGINT          graceful shutdown: /readyz 503, stop accepting (after --drain), close
                           idle connections, let requests in flight finish; exit 0
  SIGHUP                   with --workers: rolling restart, one worker at a time, no request lost

Exit status: 0 after a graceful shutdown, 1 on a runtime failure (port in use, --grace over),
2 on a usage error.

Examples:
  keel serve public --gzip --spa --port 8080
  keel proxy --to http://127.0.0.1:3001,http://127.0.0.1:3002 --workers
`;
}

/** The package version, from the package.json two levels above dist/cli/ ('unknown' if unreadable). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
