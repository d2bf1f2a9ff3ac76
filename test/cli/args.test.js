// keel's command line parser (dist/cli/args.js): defaults, PORT, option forms, per-command options
// and the usage errors (exit status 2) it raises before anything listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, UsageError } from '../../dist/cli/args.js';

const parse = (argv, env = {}) => parseCommandLine(argv, env, '/srv', 4);

function usageError(argv, pattern, env = {}) {
  assert.throws(() => parse(argv, env), (err) => err instanceof UsageError && err.exitCode === 2 && pattern.test(err.message));
}

test('serve defaults: dir ., port 3000, host 0.0.0.0, combined log, grace 10000, no drain, no cluster', () => {
  const { action, config } = parse(['serve']);
  assert.equal(action, 'run');
  assert.deepEqual(config, {
    command: 'serve', dir: '/srv', port: 3000, host: '0.0.0.0', log: 'combined', graceMs: 10000, drainMs: 0,
    workers: null, tls: null, gzip: false, cors: false, spa: false, listing: false, cache: false,
  });
});

test('PORT from the environment, --port over it; --name=value, -p and flags', () => {
  assert.equal(parse(['serve'], { PORT: '8080' }).config.port, 8080);
  assert.equal(parse(['serve', '--port', '0'], { PORT: '8080' }).config.port, 0);
  const { config } = parse(['serve', 'public', '-p', '81', '--host=127.0.0.1', '--gzip', '--cors', '--spa', '--listing', '--cache', '--log', 'json']);
  assert.equal(config.dir, '/srv/public');
  assert.equal(config.port, 81);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.log, 'json');
  assert.ok(config.gzip && config.cors && config.spa && config.listing && config.cache);
  assert.equal(parse(['serve', '/var/www']).config.dir, '/var/www');
});

test('--workers alone is one per core; --workers N and --workers=N; a dir after a bare --workers stays the dir', () => {
  assert.equal(parse(['serve', '--workers']).config.workers, 4);
  assert.equal(parse(['serve', '--workers', '2']).config.workers, 2);
  assert.equal(parse(['serve', '--workers=3']).config.workers, 3);
  const { config } = parse(['serve', '--workers', 'site']);
  assert.equal(config.workers, 4);
  assert.equal(config.dir, '/srv/site');
});

test('proxy: --to takes a comma list and repeats; round-robin order kept', () => {
  const { config } = parse(['proxy', '--to', 'http://a:1, http://b:2', '--to=https://c']);
  assert.deepEqual(config.upstreams, ['http://a:1', 'http://b:2', 'https://c']);
  assert.equal(config.command, 'proxy');
});

test('help and version anywhere', () => {
  assert.equal(parse(['--help']).action, 'help');
  assert.equal(parse(['-h']).action, 'help');
  assert.equal(parse(['serve', '--port', '1', '-h']).action, 'help');
  assert.equal(parse(['--version']).action, 'version');
  assert.equal(parse(['proxy', '--version']).action, 'version');
});

test('usage errors', () => {
  usageError([], /a command is needed/);
  usageError(['start'], /unknown command 'start'/);
  usageError(['--port', '1'], /a command comes first/);
  usageError(['serve', '--bogus'], /unknown option '--bogus' for 'keel serve'/);
  usageError(['serve', '-x'], /unknown option '-x'/);
  usageError(['serve', '--to', 'http://a'], /--to is an option of 'keel proxy', not of 'keel serve'/);
  usageError(['proxy', '--to', 'http://a', '--spa'], /--spa is an option of 'keel serve'/);
  usageError(['serve', '--port'], /--port needs a value/);
  usageError(['serve', '--port', 'http'], /--port must be an integer from 0 to 65535, not 'http'/);
  usageError(['serve', '--port', '65536'], /--port must be an integer/);
  usageError(['serve'], /PORT \(environment\) must be an integer/, { PORT: 'x' });
  usageError(['serve', '--gzip=yes'], /--gzip takes no value/);
  usageError(['serve', '--log', 'apache'], /--log must be combined, json or off/);
  usageError(['serve', '--workers', '0'], /--workers must be an integer from 1/);
  usageError(['serve', '--grace', '-1'], /--grace needs a value|--grace must be/);
  usageError(['serve', '--drain', '5000', '--grace', '5000'], /--drain \(5000 ms\) must be shorter than --grace/);
  usageError(['serve', '--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/);
  usageError(['serve', 'a', 'b'], /takes one directory/);
  usageError(['proxy'], /needs --to/);
  usageError(['proxy', '--to', 'ftp://x'], /must be an http: or https: URL/);
  usageError(['proxy', '--to', 'nope'], /is not a URL/);
  usageError(['proxy', '--to', 'http://a', 'extra'], /takes no argument/);
});
