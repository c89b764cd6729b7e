import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server';
import { run } from '../helpers/clients';
import { skipUnless } from '../helpers/tools';

const skip = skipUnless('sftp');
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const made: string[] = [];
after(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

interface Running { port: number; stderr: () => string; logs: Array<Record<string, unknown>>; stop: () => Promise<number | null> }

/** `fluxgate serve` as `npm start` runs it: cwd-relative ./var, no config file unless given. */
async function serve(cwd: string, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args, 'serve', '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  let buffer = '';
  const logs: Array<Record<string, unknown>> = [];
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) { try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ } }
  });
  const deadline = Date.now() + 60_000;
  let listening: Record<string, unknown> | undefined;
  while (!(listening = logs.find((l) => l.msg === 'listening'))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: listening.port as number, stderr: () => stderr, logs,
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
}

test('first start on embedded defaults: host keys, demo account, the printed sftp command works; SIGTERM exits 0', { skip }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'fg-start-'));
  made.push(cwd);
  const first = await serve(cwd, []);
  try {
    const command = /(sftp -i \S+ -P (\d+) demo@127\.0\.0\.1)/.exec(first.stderr());
    assert.ok(command, first.stderr());
    assert.equal(Number(command[2]), first.port);
    assert.equal(command[1], `sftp -i var/demo/id_ed25519 -P ${first.port} demo@127.0.0.1`);
    assert.equal(statSync(join(cwd, 'var', 'demo', 'id_ed25519')).mode & 0o777, 0o600);
    for (const k of ['ssh_host_ed25519_key', 'ssh_host_rsa_key']) assert.equal(statSync(join(cwd, 'var', 'hostkeys', k)).mode & 0o777, 0o600);
    const listening = first.logs.find((l) => l.msg === 'listening')!;
    assert.equal(listening.component, 'sftp');
    assert.equal(listening.host, '127.0.0.1');
    // The printed command, as a user would paste it (plus batch-mode options), from the same directory.
    const args = command[1].split(' ').slice(1);
    const r = await run('sftp', ['-b', '-', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', ...args], { cwd, input: 'ls /\nbye\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\/dev\s+\/in\s+\/out/);
  } finally {
    assert.equal(await first.stop(), 0);
  }
  // A second start on the same data creates no second demo account.
  const second = await serve(cwd, []);
  assert.ok(!second.logs.some((l) => l.msg === 'demo account created'));
  assert.doesNotMatch(second.stderr(), /demo account created/);
  assert.equal(await second.stop(), 0);
});

test('with a config file present, no demo account is ever created', { skip }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'fg-start-'));
  made.push(cwd);
  writeFileSync(join(cwd, 'fluxgate.yaml'), 'dataDir: ./data\npgp:\n  keyType: curve25519\n');
  const s = await serve(cwd, []);
  try {
    assert.ok(existsSync(join(cwd, 'data', 'hostkeys', 'ssh_host_ed25519_key')));
    assert.ok(!existsSync(join(cwd, 'data', 'demo')));
    assert.doesNotMatch(s.stderr(), /demo/);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
