import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { stringify } from 'yaml';
import { run } from '../helpers/clients';
import { parseJson, type JsonSchema } from '../helpers/json';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const made: string[] = [];
const servers = new Set<ChildProcess>();
after(() => {
  for (const child of servers) child.kill('SIGKILL');
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A directory with a config file for a quick server: shared host keys, a fast PGP key, any free port. */
function setup(extra: Record<string, unknown> = {}): { dir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cli-config-'));
  made.push(dir);
  const configFile = join(dir, 'fluxgate.yaml');
  writeFileSync(configFile, stringify({
    dataDir: './var', environment: 'test',
    sftp: { port: 0, hostKeysDir: join(tmpdir(), 'fluxgate-test-hostkeys-shared') },
    pgp: { keyType: 'curve25519' },
    ...extra,
  }));
  return { dir, configFile };
}

const cli = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { cwd, env });

/** `fluxgate serve` as a child process; its stdout collected. */
function serve(dir: string, configFile: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [BIN, '--config', configFile, 'serve'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  return { child, out: () => out };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** The first bytes a server sends on a new connection: an SSH server says `SSH-2.0-…`. */
function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (d) => { socket.destroy(); resolve(d.toString()); });
    socket.once('error', reject);
  });
}

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('fluxgate config check / schema, environment overrides, log output', { concurrency: true }, () => {
  test('config check accepts the commented fluxgate.example.yaml of the repository', async () => {
    const r = await cli(REPO_ROOT, ['config', 'check', 'fluxgate.example.yaml']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok\s+\S*fluxgate\.example\.yaml$/m);
    // Commented, as the issue asks: an example that explains itself.
    assert.ok(readFileSync(join(REPO_ROOT, 'fluxgate.example.yaml'), 'utf8').split('\n').filter((l) => /#/.test(l)).length > 40);
  });

  test('config check on a bad file: each problem at its line and column, with the key and what was expected; exit 1', async () => {
    const { dir } = setup();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, [
      'environment: production',
      'sftp:',
      '  port: "twenty-two"',
      '  bruteForce:',
      '    maxFailurs: 3',
      'jobs:',
      '  timezone: Mars/Olympus',
      'colour: blue',
      '',
    ].join('\n'));
    const r = await cli(dir, ['config', 'check', bad]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('error')).sort(), [
      `error  ${bad}:8:1 colour: unknown key "colour"`,
      `error  ${bad}:3:9 sftp.port: Invalid input: expected number, received string`,
      `error  ${bad}:5:5 sftp.bruteForce.maxFailurs: unknown key "maxFailurs"`,
      `error  ${bad}:7:13 jobs.timezone: not a known IANA timezone (e.g. UTC, Europe/Paris)`,
    ].sort());
    assert.equal(lines.at(-1), `4 problem(s) in ${bad}`);

    const json = await cli(dir, ['config', 'check', bad, '--json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { valid: boolean; problems: Array<{ line: number; key: string }> };
    assert.equal(report.valid, false);
    assert.deepEqual(report.problems.map((p) => [p.key, p.line]).sort(), [['colour', 8], ['jobs.timezone', 7], ['sftp.bruteForce.maxFailurs', 5], ['sftp.port', 3]]);

    const syntax = join(dir, 'syntax.yaml');
    writeFileSync(syntax, 'sftp:\n  port: 2222\n  port: 2022\n');
    const s = await cli(dir, ['config', 'check', syntax]);
    assert.equal(s.code, 1);
    assert.match(s.stdout, new RegExp(`^error  ${syntax.replace(/[/.]/g, '\\$&')}:3:3: Map keys must be unique`, 'm'));

    const missing = await cli(dir, ['config', 'check', join(dir, 'nope.yaml'), '--json']);
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.stderr) as { error: { code: string } }).error.code, 'FG_CONFIG');
  });

  test('the server refuses to start on a bad file with the same located messages', async () => {
    const { dir, configFile } = setup();
    writeFileSync(configFile, `${readFileSync(configFile, 'utf8')}log:\n  levl: debug\n`);
    const r = await cli(dir, ['--config', configFile, 'serve']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fluxgate: config file \S+ is invalid \(check it with: fluxgate config check\):\n {2}\S+fluxgate\.yaml:\d+:3 log\.levl: unknown key "levl" \[FG_CONFIG\]\n$/);
  });

  test('config schema prints the JSON Schema of the config file, strict at every level', async () => {
    const r = await cli(REPO_ROOT, ['config', 'schema']);
    assert.equal(r.code, 0);
    const schema = parseJson<JsonSchema>(r.stdout);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.properties.sftp.properties.port.type, 'integer');
    assert.equal(schema.properties.sftp.properties.port.maximum, 65535);
    assert.deepEqual(schema.properties.log.properties.format.enum, ['auto', 'json', 'pretty']);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.sftp.properties.bruteForce.additionalProperties, false);
  });

  test('FLUXGATE_SFTP__PORT reaches the running server: it listens on that port, over the file', async () => {
    const { dir, configFile } = setup();
    const port = await freePort();
    const check = await cli(dir, ['--config', configFile, 'config', 'check'], { FLUXGATE_SFTP__PORT: String(port), FLUXGATE_LOG__LEVEL: 'debug' });
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, /^env {4}FLUXGATE_SFTP__PORT sets sftp\.port$/m);
    const { child, out } = serve(dir, configFile, { FLUXGATE_SFTP__PORT: String(port), FLUXGATE_LOG__LEVEL: 'debug' });
    try {
      await until('the server listens', () => /"msg":"listening"/.test(out()), 30_000);
      const listening = jsonLines(out()).find((l) => l.msg === 'listening')!;
      assert.equal(listening.port, port, 'the file says port 0 (any); the environment wins');
      assert.ok(jsonLines(out()).some((l) => l.level === 20), 'FLUXGATE_LOG__LEVEL=debug: debug lines are logged');
      assert.match(await banner(port), /^SSH-2\.0-/);
    } finally {
      await stop(child);
    }
  });

  test('a bad or unknown environment override is refused with the variable named; the server does not start', async () => {
    const { dir, configFile } = setup();
    const typo = await cli(dir, ['--config', configFile, 'serve', '--json'], { FLUXGATE_SFTP__PROT: '2022' });
    assert.equal(typo.code, 1);
    const error = (JSON.parse(typo.stderr.trim().split('\n').at(-1)!) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'FG_CONFIG');
    assert.match(error.message, /environment variable FLUXGATE_SFTP__PROT: not a configuration key: sftp has no key "PROT"; the keys are HOST, PORT,/);
    const value = await cli(dir, ['--config', configFile, 'config', 'check'], { FLUXGATE_SFTP__PORT: 'twenty', FLUXGATE_ENGINE__RETRY__ATTEMPTS: '0' });
    assert.equal(value.code, 1);
    assert.match(value.stdout, /^error {2}environment variable FLUXGATE_SFTP__PORT sftp\.port: Invalid input: expected number, received string$/m);
    assert.match(value.stdout, /^error {2}environment variable FLUXGATE_ENGINE__RETRY__ATTEMPTS engine\.retry\.attempts: Too small: expected number to be >=1$/m);
    // Other FLUXGATE_* variables (no double underscore, not a top-level key) are not config keys.
    const other = await cli(dir, ['--config', configFile, 'config', 'check'], { FLUXGATE_SOMETHING_ELSE: 'x', FLUXGATE_ENVIRONMENT: 'production' });
    assert.equal(other.code, 0, other.stdout);
    assert.match(other.stdout, /FLUXGATE_ENVIRONMENT sets environment/);
    assert.doesNotMatch(other.stdout, /SOMETHING_ELSE/);
  });

  test('log.file is reopened on SIGHUP: after logrotate moves it, new lines go to a new file at the configured path', async () => {
    const { dir, configFile } = setup({ log: { file: 'logs/fluxgate.log' } });
    const log = join(dir, 'logs', 'fluxgate.log');
    const { child, out } = serve(dir, configFile);
    try {
      await until('the server listens', () => existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"listening"'), 30_000);
      assert.equal(out(), '', 'with log.file, nothing is logged to standard output');
      renameSync(log, `${log}.1`);
      child.kill('SIGHUP');
      await until('a new log file appears with the reopening line', () => existsSync(log) && readFileSync(log, 'utf8').includes('log file reopened'), 10_000);
      assert.equal(child.exitCode, null, 'SIGHUP does not stop the server');
    } finally {
      await stop(child);
    }
    const fresh = jsonLines(readFileSync(log, 'utf8')).map((l) => l.msg);
    // (Background work, such as the PGP key generation, may log in either file around the SIGHUP.)
    assert.ok(fresh.includes('log file reopened (SIGHUP)') && fresh.includes('stopped') && !fresh.includes('listening'),
      `lines after the SIGHUP, the stop included, are in the new file: ${fresh.join(' | ')}`);
    const rotated = jsonLines(readFileSync(`${log}.1`, 'utf8')).map((l) => l.msg);
    assert.ok(rotated.includes('listening') && !rotated.includes('stopped') && !rotated.includes('log file reopened (SIGHUP)'),
      `lines before it stayed in the moved file: ${rotated.join(' | ')}`);
  });

  test('on a terminal the server logs readable lines; piped, or with --json, JSON lines', { skip: skipUnless('script') }, async () => {
    const { dir, configFile } = setup();
    const onTerminal = async (args: string): Promise<string> => {
      // `script` gives the server a pseudo-terminal as stdout; when `script` is killed the terminal
      // hangs up and the server (no log.file: no SIGHUP handler) ends with it.
      const child = spawn('script', ['-qec', `exec ${process.execPath} ${BIN} --config ${configFile} serve ${args}`, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      servers.add(child);
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      try {
        await until('the server listens', () => /listening/.test(out), 30_000);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        servers.delete(child);
      }
      return stripVTControlCharacters(out).replace(/\r/g, '');
    };
    const pretty = await onTerminal('--port 0');
    assert.match(pretty, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: sftp: listening \{"host":"127\.0\.0\.1","port":\d+/m);
    assert.doesNotMatch(pretty, /^\{"level"/m);
    const json = await onTerminal('--port 0 --json');
    assert.ok(jsonLines(json).some((l) => l.msg === 'listening'), json);

    const { child, out } = serve(dir, configFile);
    try {
      await until('the server listens', () => /"msg":"listening"/.test(out()), 30_000);
      assert.ok(out().trim().split('\n').every((l) => JSON.parse(l) !== null), 'piped: every line is JSON');
    } finally {
      await stop(child);
    }
  });
});
