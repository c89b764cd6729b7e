import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { accountServiceOn } from '../helpers/accounts';

/**
 * The server started from another directory than its config file's: the relative log file and
 * forward directory of the file land next to the file, as README "Configuration" says (they
 * went to the working directory and to the data directory). Real server, OpenSSH sftp upload.
 */
describe('relative paths of the config file, with the server running elsewhere', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-relpaths-'));
  const etc = join(root, 'etc');
  const cwd = join(root, 'run');
  const configFile = join(etc, 'fluxgate.yaml');
  let child: ChildProcess | undefined;
  let port = 0;
  let key: TestKey;

  before(async () => {
    mkdirSync(etc);
    mkdirSync(cwd);
    writeFileSync(configFile, stringify({
      dataDir: './var',
      environment: 'test',
      log: { level: 'debug', file: './server.log' },
      engine: { pollIntervalMs: 100 },
      sftp: { port: 0, hostKeysDir: join(tmpdir(), 'fluxgate-test-hostkeys-shared') },
      pgp: { keyType: 'curve25519', signReports: false },
      forward: { 'rpa/emp': { directory: './rpa-inbox' } },
    }));
    const loaded = loadConfig({ configFile, cwd, env: {} });
    const paths = new DataPaths(loaded.dataDir);
    mkdirSync(paths.root, { recursive: true });
    const db = openDatabase(paths.database);
    key = makeKey();
    await accountServiceOn(db, paths, loaded.config).create({ id: 'acme', partner: 'acme', publicKey: key.publicKey });
    db.close();
    // A relative --config from another working directory.
    const spawned = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'fluxgate.js'), '--config', '../etc/fluxgate.yaml', 'serve', '--port', '0'],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    let stderr = '';
    spawned.stderr.on('data', (d) => { stderr += d; });
    const logFile = join(etc, 'server.log');
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const line = logLines(logFile).find((l) => l.msg === 'listening' && typeof l.port === 'number');
      if (line) { port = line.port as number; break; }
      if (spawned.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not log "listening" to ${logFile}:\n${stderr}`);
    }
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
  });

  test('log.file is next to the config file, not in the working directory', () => {
    assert.ok(logLines(join(etc, 'server.log')).some((l) => l.msg === 'workflows loaded'));
    assert.equal(existsSync(join(cwd, 'server.log')), false);
  });

  test('a forward directory is next to the config file, not in the data directory', async () => {
    const name = 'ndmat_acme_acme_emp_261120090000.csv';
    const local = join(root, name);
    writeFileSync(local, 'opaque rpa content\n');
    const r = await sftpBatch(port, 'acme', key.privatePath, [`put ${local} in/rpa/emp/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    const forwarded = join(etc, 'rpa-inbox', name);
    for (const deadline = Date.now() + 20_000; !existsSync(forwarded); await new Promise((res) => setTimeout(res, 50))) {
      if (Date.now() > deadline) {
        const outcome = logLines(join(etc, 'server.log')).filter((l) => l.msg === 'file processed' || l.msg === 'file rejected' || String(l.msg).includes('dead'));
        assert.fail(`${forwarded} did not appear; data dir has rpa-inbox: ${existsSync(join(etc, 'var', 'rpa-inbox'))}; ${JSON.stringify(outcome)}`);
      }
    }
    assert.equal(readFileSync(forwarded, 'utf8'), 'opaque rpa content\n');
    assert.equal(existsSync(join(etc, 'var', 'rpa-inbox')), false);
  });
});

function logLines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try { return [JSON.parse(line) as Record<string, unknown>]; } catch { return []; }
  });
}
