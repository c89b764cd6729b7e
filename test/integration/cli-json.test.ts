import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import * as openpgp from 'openpgp';
import { stringify } from 'yaml';
import { run, type RunResult } from '../helpers/clients';
import { parseJson, type JsonSchema } from '../helpers/json';
import { makeKey } from '../helpers/keys';
import { freshDatabase } from '../helpers/postgres';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { buildProgram } from '../../core/cli/main';
import { restoreYoungGenerationGrowth } from '../../core/cli/startup-heap';
import { SqliteBanRepository } from '../../core/store/bans-repository';
import { openDatabase } from '../../core/store/database';

// Importing the CLI holds V8's young generation for the program's start-up: not wanted in a test process.
restoreYoungGenerationGrowth();

const skip = skipUnless('ssh-keygen');
/** The walk below runs `store copy`, into a PostgreSQL database of its own. */
const skipStore = skipUnless('ssh-keygen', 'postgres');
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const made: string[] = [];
after(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

function setup(): { dir: string; configFile: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cli-json-'));
  made.push(dir);
  const dataDir = join(dir, 'var');
  const configFile = join(dir, 'fluxgate.yaml');
  writeFileSync(configFile, stringify({
    dataDir, environment: 'test',
    sftp: { hostKeysDir: join(tmpdir(), 'fluxgate-test-hostkeys-shared') },
    pgp: { keyType: 'curve25519' },
    engine: { pollIntervalMs: 100 },
    http: { port: 0 },
    // A webhook nobody listens at (port 9, discard): the server's deliveries fail, for `deliveries retry`.
    events: {
      webhooks: [{ name: 'nowhere', url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` }],
      delivery: { pollIntervalMs: 100, baseDelayMs: 100, maxDelayMs: 200, timeoutMs: 500, leaseMs: 1000 },
    },
    expectations: [{ name: 'acme-daily-sir', account: 'acme', flux: 'sir', schedule: '0 7 * * *', timezone: 'Europe/Paris', grace: '2h' }],
  }));
  return { dir, configFile, dataDir };
}

/** Every command that does something (has an action), by its path: `account add`, `files`, `files show`… */
function leafCommands(): Map<string, Command> {
  const found = new Map<string, Command>();
  const walk = (cmd: Command, prefix: string[]): void => {
    for (const sub of cmd.commands) {
      const path = [...prefix, sub.name()];
      if ((sub as unknown as { _actionHandler?: unknown })._actionHandler) found.set(path.join(' '), sub);
      walk(sub, path);
    }
  };
  walk(buildProgram().program, []);
  return found;
}

/** The error a --json command printed: one JSON object on stderr, nothing on stdout. */
/** What the commands print with --json, as far as the tests below read it. */
interface AccountJson { id: string; partner: string | null; enabled: boolean; passwordFallback: boolean; keys: unknown[]; root: string }
interface FileJson { id: string; state: string; events: Array<{ type: string }> }
interface KeyJson { fingerprint: string }

function jsonError(r: RunResult): { code: string; message: string } {
  assert.equal(r.stdout, '', `nothing on stdout when a command fails; got ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]) as { error: { code: string; message: string } };
  assert.match(last.error.code, /^FG_[A-Z_]+$/);
  assert.ok(last.error.message.length > 0);
  return last.error;
}

describe('fluxgate --json', { concurrency: true }, () => {
  test('every command declares --json (a new command without it fails here)', () => {
    const missing = [...leafCommands()].filter(([, cmd]) => !cmd.options.some((o) => o.long === '--json')).map(([path]) => path);
    assert.deepEqual(missing, []);
    assert.ok(leafCommands().size >= 30, 'the whole command tree was enumerated');
  });

  test('every command, run with --json, prints one JSON result (the ones that change things too)', { skip: skipStore, timeout: 170_000 }, async () => {
    const { dir, configFile, dataDir } = setup();
    const exercised = new Set<string>();
    /** Runs `fluxgate --config … <path…> <args…> --json`, expects exit 0 and a JSON result on stdout. */
    const ok = async <T>(path: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, input?: string): Promise<T> => {
      const r = await run(process.execPath, [BIN, '--config', configFile, ...path.split(' '), ...args, '--json'], { cwd: dir, env, input });
      assert.equal(r.code, 0, `${path}: ${r.stderr}`);
      exercised.add(path);
      try { return parseJson<T>(r.stdout); } catch { assert.fail(`${path} --json printed no JSON: ${r.stdout}`); }
    };
    const first = makeKey('ed25519');
    const second = makeKey('ed25519');

    assert.equal((await ok<{ valid: boolean }>('config check')).valid, true);
    assert.equal((await ok<JsonSchema>('config schema')).properties.sftp.type, 'object');
    const added = await ok<AccountJson>('account add', ['acme', '--key', first.publicPath]);
    assert.deepEqual([added.id, added.enabled, added.keys.length, added.root], ['acme', true, 1, join(dataDir, 'sftp', 'acme')]);

    // serve --json: JSON log lines on stdout; it processes one file for files/replay/directory below.
    const server = spawn(process.execPath, [BIN, '--config', configFile, 'serve', '--port', '0', '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.on('data', (d) => { out += d; });
    try {
      await until('the server listens', () => /"msg":"listening"/.test(out), 30_000);
      exercised.add('serve');
      const sir = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
      copyFileSync(join(REPO_ROOT, 'test', 'fixtures', 'exchange', sir), join(dataDir, 'sftp', 'acme', 'in', 'sir', sir));
      let files: Array<{ id: string; state: string }> = [];
      const deadline = Date.now() + 60_000;
      while (!files.some((f) => f.state === 'processed')) {
        assert.ok(Date.now() < deadline, `the file was not processed: ${JSON.stringify(files)}`);
        await new Promise((r) => setTimeout(r, 300));
        files = await ok<FileJson[]>('files');
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    for (const line of out.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `serve --json logged a line that is not JSON: ${line}`);

    const [stoppedNode] = await ok<Array<{ state: string }>>('nodes', ['--all']);
    assert.equal(stoppedNode.state, 'stopped');
    // A ban as the SFTP server writes one after failed logins (test/integration/sftp-bans-store.test.ts makes real ones).
    const db = openDatabase(join(dataDir, 'fluxgate.db'));
    try {
      await new SqliteBanRepository(db).ban({ address: '203.0.113.7', bannedAt: Date.now(), until: Date.now() + 600_000, user: 'intruder', nodeId: 'node-a' });
    } finally {
      db.close();
    }
    assert.deepEqual((await ok<Array<{ address: string; user: string }>>('bans')).map((b) => [b.address, b.user]), [['203.0.113.7', 'intruder']]);
    assert.equal((await ok<{ removed: { address: string } }>('bans remove', ['203.0.113.7'])).removed.address, '203.0.113.7');
    // The server is stopped: the data directory may be copied.
    assert.equal((await ok<{ engine: string; applied: unknown[] }>('store migrate')).applied.length, 0);
    const pg = await freshDatabase();
    try {
      const copied = await ok<{ tables: Array<{ table: string; rows: number }> }>('store copy', ['--to', pg.url]);
      assert.equal(copied.tables.find((t) => t.table === 'accounts')?.rows, 1);
    } finally {
      await pg.drop();
    }

    const [file] = await ok<FileJson[]>('files');
    assert.equal((await ok<FileJson>('files show', [file.id])).events[0].type !== undefined, true);
    const replayed = await ok<{ id: string; from: string; queued: boolean }>('replay', [file.id]);
    assert.deepEqual([replayed.id, replayed.from, replayed.queued], [file.id, 'processed', true]);
    assert.equal((await ok<FileJson>('files show', [file.id])).state, 'received', 'replay --json reported what it did');
    assert.ok((await ok<unknown[]>('directory organizations', ['--account', 'acme'])).length > 0);
    for (const view of ['employees', 'users', 'documents']) assert.ok(Array.isArray(await ok<unknown>(`directory ${view}`, ['--account', 'acme'])));

    assert.equal((await ok<AccountJson[]>('account list'))[0].id, 'acme');
    assert.equal((await ok<AccountJson>('account show', ['acme'])).id, 'acme');
    assert.equal((await ok<AccountJson>('account update', ['acme', '--partner', 'hrtech'])).partner, 'hrtech');
    assert.equal((await ok<AccountJson>('account disable', ['acme'])).enabled, false);
    assert.equal((await ok<AccountJson>('account enable', ['acme'])).enabled, true);
    assert.equal((await ok<AccountJson>('account password', ['acme'], { FLUXGATE_PASSWORD: 'a long enough pass phrase' })).passwordFallback, true);
    assert.equal((await ok<KeyJson>('key add', ['acme', second.publicPath])).fingerprint, second.fingerprint);
    assert.equal((await ok<KeyJson[]>('key list', ['acme'])).length, 2);
    const removedKey = await ok<{ removed: string; keys: unknown[] }>('key remove', ['acme', second.fingerprint]);
    assert.deepEqual([removedKey.removed, removedKey.keys.length], [second.fingerprint, 1]);
    assert.ok(Array.isArray(await ok<unknown>('hostkeys')));

    assert.equal((await ok<unknown[]>('jobs list')).length, 5);
    const dry = await ok<{ job: string; dryRun: boolean }>('jobs run', ['retention', '--dry-run']);
    assert.deepEqual([dry.job, dry.dryRun], ['retention', true]);
    assert.ok(Array.isArray(await ok<unknown>('jobs history', ['retention'])));
    assert.ok(Array.isArray(await ok<unknown>('jobs tombstones')));

    const info = await ok<{ fingerprint: string }>('pgp info');
    const exported = await ok<{ fingerprint: string; armoredPublicKey: string }>('pgp export-public');
    assert.equal(exported.fingerprint, info.fingerprint);
    assert.equal(typeof (await ok<{ unchanged: unknown }>('pgp publish')).unchanged, 'number');
    assert.equal((await ok<{ requireEncryption: boolean }>('pgp require-encryption', ['acme', 'on'])).requireEncryption, true);
    const encrypted = join(dir, 'secret.pgp');
    const publicKey = await openpgp.readKey({ armoredKey: exported.armoredPublicKey });
    writeFileSync(encrypted, await openpgp.encrypt({ message: await openpgp.createMessage({ binary: Buffer.from('hello') }), encryptionKeys: publicKey, format: 'binary' }));
    const decrypted = await ok<{ bytes: number }>('pgp decrypt', [encrypted, '-o', join(dir, 'secret.txt')]);
    assert.equal(decrypted.bytes, 5);
    assert.equal(readFileSync(join(dir, 'secret.txt'), 'utf8'), 'hello');

    const events = await ok<Array<{ id: string; type: string }>>('events list', ['--type', 'file.*']);
    assert.ok(events.some((e) => e.type === 'file.processed'));
    assert.equal((await ok<{ oneOf: unknown[] }>('events schema')).oneOf.length, 12);
    assert.match((await ok<{ secret: string }>('events secret')).secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const failed = (await ok<Array<{ id: number; state: string }>>('deliveries list')).find((d) => d.state === 'failed' || d.state === 'dead');
    assert.ok(failed, 'the server tried the unreachable webhook');
    assert.equal((await ok<{ state: string }>('deliveries retry', [String(failed.id)])).state, 'pending');
    assert.equal((await ok<Array<{ name: string }>>('expectations list'))[0].name, 'acme-daily-sir');
    assert.equal((await ok<Array<{ state: string }>>('expectations status', ['--at', '2027-03-28T06:00:00Z']))[0].state, 'late');
    assert.equal((await ok<{ acknowledged: { by: string } }>('expectations ack', ['acme-daily-sir', '--at', '2027-03-28T06:00:00Z', '--by', 'ci'])).acknowledged.by, 'ci');
    assert.equal((await ok<{ added: { name: string } }>('expectations add', ['weekly', '--account', 'acme', '--flux', 'usr', '--schedule', '0 9 * * 1'])).added.name, 'weekly');
    assert.equal((await ok<{ removed: string }>('expectations remove', ['weekly'])).removed, 'weekly');
    assert.deepEqual((await ok<Array<{ id: string; target: string }>>('events subscriptions')).map((x) => [x.id, x.target]), [['webhook:nowhere', 'http://127.0.0.1:9/hook']]);
    assert.equal((await ok<{ added: string }>('events subscribe', ['--name', 'more', '--webhook', 'http://127.0.0.1:9/more'])).added, 'webhook:more');
    assert.equal((await ok<{ removed: string }>('events unsubscribe', ['webhook:more'])).removed, 'webhook:more');

    assert.equal((await ok<{ valid: boolean }>('workflows check')).valid, true);
    const statuses = await ok<Array<{ flux: string; state: string }>>('workflows status');
    assert.ok(statuses.some((w) => w.flux === 'sal' && w.state === 'file'), JSON.stringify(statuses));
    const scaffold = await ok<{ files: string[] }>('plugin init', ['xyz', '--dir', join(dir, 'xyz')]);
    assert.ok(scaffold.files.includes('handler.ts'));
    const tried = await ok<{ result: string; counts: { created: number } }>('plugin test', [join(dir, 'xyz', 'index.ts'), join(dir, 'xyz', 'sample', 'ndmat_acme_acme_xyz_261121090000.csv')]);
    assert.deepEqual([tried.result, tried.counts.created], ['processed', 2]);
    assert.equal(typeof (await ok<JsonSchema>('workflows schema')).properties, 'object');

    const operator = await ok<{ name: string; role: string }>('admin add', ['alice', '--role', 'viewer', '--password-stdin'], {}, 'a long enough pass phrase\n');
    assert.deepEqual([operator.name, operator.role], ['alice', 'viewer']);
    assert.equal((await ok<{ name: string }>('admin password', ['alice', '--password-stdin'], {}, 'another long pass phrase\n')).name, 'alice');
    assert.equal((await ok<Array<{ name: string }>>('admin list'))[0].name, 'alice');
    assert.equal((await ok<{ removed: { name: string } }>('admin remove', ['alice'])).removed.name, 'alice');
    const token = await ok<Record<string, unknown>>('token create', ['--name', 'ci', '--role', 'admin', '--expires-days', '30']);
    assert.deepEqual(Object.keys(token).slice(0, 4), ['id', 'name', 'role', 'token']);
    assert.equal((await ok<Array<{ status: string }>>('token list'))[0].status, 'active');
    assert.equal((await ok<{ status: string }>('token revoke', ['ci'])).status, 'revoked');
    assert.ok((await ok<Array<{ action: string }>>('audit')).some((e) => e.action === 'token revoke'));

    const removal = await ok<{ accountId: string; account: { id: string } }>('account remove', ['acme']);
    assert.deepEqual([removal.accountId, removal.account.id], ['acme', 'acme']);
    assert.equal((await ok<AccountJson[]>('account list')).length, 0);
    const accountsCsv = join(dir, 'accounts.csv');
    writeFileSync(accountsCsv, `id,profile,keys\nbeta,dropbox,${first.publicKey}\n`);
    type ImportJson = { counts: { created: number }; rows: Array<{ line: number; status: string }> };
    const imported = await ok<ImportJson>('account import', [accountsCsv]);
    assert.deepEqual([imported.counts.created, imported.rows[0].line, imported.rows[0].status], [1, 2, 'created']);
    assert.equal((await ok<ImportJson>('account import', [accountsCsv, '--dry-run'])).rows[0].status, 'unchanged');
    const exportedAccounts = await ok<{ accounts: Array<{ id: string; keys: string[] }> }>('account export');
    assert.deepEqual(exportedAccounts.accounts.map((a) => [a.id, a.keys.length]), [['beta', 1]]);

    const untested = [...leafCommands().keys()].filter((path) => !exercised.has(path));
    assert.deepEqual(untested, [], 'each command is run with --json above: add the new ones');
  });

  test('errors with --json: {"error":{code,message}} on stderr, exit 2 for bad arguments, 1 for refused input', { skip }, async () => {
    const { dir, configFile } = setup();
    const cli = (...args: string[]) => run(process.execPath, [BIN, '--config', configFile, ...args], { cwd: dir });

    const usage = await cli('account', 'add', 'acme', '--json');
    assert.equal(usage.code, 2);
    assert.deepEqual(jsonError(usage), { code: 'FG_USAGE', message: "required option '--key <file>' not specified" });
    assert.doesNotMatch(usage.stderr, /Usage:/, 'no text usage mixed into the JSON');
    const badChoice = await cli('jobs', 'run', 'nosuchjob', '--json');
    assert.equal(badChoice.code, 2);
    assert.match(jsonError(badChoice).message, /nosuchjob.*Allowed choices are retention/);
    const unknownCommand = await cli('acount', 'list', '--json');
    assert.equal(unknownCommand.code, 2);
    assert.equal(jsonError(unknownCommand).code, 'FG_USAGE');

    const refused = await cli('account', 'disable', 'nobody', '--json');
    assert.equal(refused.code, 1);
    assert.deepEqual(jsonError(refused).code, 'FG_ACCOUNT_NOT_FOUND');
    const badKey = join(dir, 'bad.pub');
    writeFileSync(badKey, 'not a key\n');
    const refusedKey = await cli('account', 'add', 'acme', '--key', badKey, '--json');
    assert.equal(refusedKey.code, 1);
    assert.equal(jsonError(refusedKey).code, 'FG_KEY_INVALID');

    // Without --json, the same failures stay text, with the same exit codes.
    const text = await cli('account', 'disable', 'nobody');
    assert.equal(text.code, 1);
    assert.match(text.stderr, /^fluxgate: no account "nobody".* \[FG_ACCOUNT_NOT_FOUND\]\n$/);
    const textUsage = await cli('account', 'add', 'acme');
    assert.equal(textUsage.code, 2);
    assert.match(textUsage.stderr, /required option '--key <file>' not specified[\s\S]*Usage: fluxgate account add/);
  });

  test('--version prints the version of package.json, as JSON with --json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const plain = await run(process.execPath, [BIN, '--version']);
    assert.deepEqual([plain.code, plain.stdout], [0, `${version}\n`]);
    const json = await run(process.execPath, [BIN, '--version', '--json']);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), { name: 'fluxgate', version });
  });
});
