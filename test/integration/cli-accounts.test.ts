import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOn } from '../helpers/server';
import { makeKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { EXCHANGE_TREE } from '../../core/accounts/account-tree';
import { ensureHostKeys } from '../../core/sftp/host-keys';

const skip = skipUnless('ssh-keygen');
const DAY = 86_400_000;

const made: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
  made.push(dir);
  return join(dir, 'var');
}
after(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });
const cli = (dir: string, ...args: string[]) => cliOn(dir, args);

interface KeyJson { type: string; bits: number; fingerprint: string; comment: string; added: string; expires: string; expired: boolean }

// Each test has its own data directory: they run concurrently (every CLI call is a process start).
describe('fluxgate account/key/hostkeys commands', { concurrency: true }, () => {
  test('account add (RFC 4716 key, partner, allowlist) creates the tree; show, update and list', { skip }, async () => {
    const dir = dataDir();
    const key = makeKey('ed25519');
    const rfc = join(dir, '..', 'key.rfc');
    execFileSync('sh', ['-c', `ssh-keygen -e -f ${key.publicPath} > ${rfc}`]);
    const add = await cli(dir, 'account', 'add', 'acme', '--key', rfc, '--partner', 'hrtech', '--allow-ip', '203.0.113.0/24', '--allow-ip', '2001:db8::1');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, new RegExp(`key ${key.fingerprint.replace(/[+/]/g, '\\$&')} \\(ed25519 256\\)`));
    for (const d of EXCHANGE_TREE) assert.ok(statSync(join(dir, 'sftp', 'acme', d)).isDirectory(), d);
    for (const flux of ['sal', 'sir', 'usr', 'dis', 'pro']) assert.ok(EXCHANGE_TREE.includes(`out/${flux}`), `out/${flux}: where in/${flux}'s reports go`);

    const shown = JSON.parse((await cli(dir, 'account', 'show', 'acme', '--json')).stdout) as Record<string, unknown> & { keys: KeyJson[] };
    assert.equal(shown.profile, 'exchange');
    assert.equal(shown.partner, 'hrtech');
    assert.deepEqual(shown.allowIps, ['203.0.113.0/24', '2001:db8::1/128']);
    assert.equal(shown.enabled, true);
    assert.equal(shown.keys.length, 1);
    const k = shown.keys[0];
    assert.equal(k.fingerprint, key.fingerprint);
    assert.equal(k.type, 'ed25519');
    assert.equal(Date.parse(k.expires) - Date.parse(k.added), 1826 * DAY, 'ed25519 keys are valid 1826 days');

    const updated = await cli(dir, 'account', 'update', 'acme', '--allow-ip', '10.0.0.0/8', '--partner', 'other');
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /partner other, allow-ip 10\.0\.0\.0\/8/);
    const open = await cli(dir, 'account', 'update', 'acme', '--any-ip');
    assert.match(open.stdout, /allow-ip any address/);
    const list = await cli(dir, 'account', 'list');
    assert.match(list.stdout, /^ID\s+PROFILE/m);
    assert.match(list.stdout, /^acme\s+exchange\s+other\s+enabled\s+1\s+any\s+never/m);
  });

  test('key add/list/remove: RSA 3072 valid 730 days; weak and private keys refused; unknown fingerprint refused', { skip }, async () => {
    const dir = dataDir();
    const first = makeKey('ed25519');
    const rsa = makeKey('rsa', 3072);
    const weak = makeKey('rsa', 2048);
    assert.equal((await cli(dir, 'account', 'add', 'acme', '--key', first.publicPath)).code, 0);
    const add = await cli(dir, 'key', 'add', 'acme', rsa.publicPath);
    assert.equal(add.code, 0, add.stderr);
    const keys = JSON.parse((await cli(dir, 'key', 'list', 'acme', '--json')).stdout) as KeyJson[];
    const rsaKey = keys.find((k) => k.fingerprint === rsa.fingerprint)!;
    assert.equal(rsaKey.type, 'rsa');
    assert.equal(rsaKey.bits, 3072);
    assert.equal(rsaKey.comment, 'test-rsa3072');
    assert.equal(Date.parse(rsaKey.expires) - Date.parse(rsaKey.added), 730 * DAY, 'RSA 3072 keys are valid 730 days');
    const table = await cli(dir, 'key', 'list', 'acme');
    assert.match(table.stdout, /^TYPE\s+BITS\s+FINGERPRINT\s+ADDED\s+EXPIRES\s+STATUS\s+COMMENT/m);
    assert.match(table.stdout, /^rsa\s+3072\s+SHA256:\S+\s+\d{4}-\d\d-\d\d\s+\d{4}-\d\d-\d\d\s+valid\s+test-rsa3072$/m);

    const weakAdd = await cli(dir, 'key', 'add', 'acme', weak.publicPath);
    assert.equal(weakAdd.code, 1);
    assert.match(weakAdd.stderr, /at least 3072 bits.*\[FG_KEY_WEAK\]/);
    const priv = await cli(dir, 'key', 'add', 'acme', rsa.privatePath);
    assert.equal(priv.code, 1);
    assert.match(priv.stderr, /private key.*\[FG_KEY_PRIVATE\]/);
    const dup = await cli(dir, 'key', 'add', 'acme', rsa.publicPath);
    assert.match(dup.stderr, /FG_KEY_EXISTS/);

    assert.equal((await cli(dir, 'key', 'remove', 'acme', rsa.fingerprint)).code, 0);
    const after = JSON.parse((await cli(dir, 'key', 'list', 'acme', '--json')).stdout) as KeyJson[];
    assert.deepEqual(after.map((k) => k.fingerprint), [first.fingerprint]);
    const missing = await cli(dir, 'key', 'remove', 'acme', rsa.fingerprint);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /FG_KEY_NOT_FOUND/);
  });

  test('bad arguments: one-line error and usage, non-zero exit; a refused key creates nothing', { skip }, async () => {
    const dir = dataDir();
    const key = makeKey('ed25519');
    const noKey = await cli(dir, 'account', 'add', 'acme');
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /error: required option '--key <file>' not specified/);
    assert.match(noKey.stderr, /Usage: fluxgate account add/);
    const profile = await cli(dir, 'account', 'add', 'acme', '--key', key.publicPath, '--profile', 'ftp');
    assert.equal(profile.code, 2);
    assert.match(profile.stderr, /Allowed choices are exchange, dropbox/);
    const port = await cli(dir, 'serve', '--port', 'abc');
    assert.equal(port.code, 2);
    assert.match(port.stderr, /port number/);
    const id = await cli(dir, 'account', 'add', 'Bad!', '--key', key.publicPath);
    assert.equal(id.code, 1);
    assert.match(id.stderr, /FG_ACCOUNT_ID/);
    const cidr = await cli(dir, 'account', 'add', 'acme', '--key', key.publicPath, '--allow-ip', '10.0.0.0/40');
    assert.match(cidr.stderr, /FG_ALLOWLIST/);
    const priv = await cli(dir, 'account', 'add', 'acme', '--key', key.privatePath);
    assert.match(priv.stderr, /FG_KEY_PRIVATE/);
    assert.ok(!existsSync(join(dir, 'sftp', 'acme')), 'nothing created for refused input');
    assert.match((await cli(dir, 'account', 'show', 'acme')).stderr, /FG_ACCOUNT_NOT_FOUND/);
  });

  test('refused input exits 1 with its code, as documented: invalid partner id (add, update), too short a password', { skip }, async () => {
    const dir = dataDir();
    const key = makeKey('ed25519');
    const add = await cli(dir, 'account', 'add', 'acme', '--key', key.publicPath, '--partner', 'not a partner!');
    assert.equal(add.code, 1, add.stderr);
    assert.match(add.stderr, /^fluxgate: "not a partner!" is not a valid partner id.*\[FG_PARTNER_ID\]$/m);
    assert.doesNotMatch(add.stderr, /FG_USAGE|Usage:/);
    assert.ok(!existsSync(join(dir, 'sftp', 'acme')), 'nothing created for refused input');
    assert.equal((await cli(dir, 'account', 'add', 'acme', '--key', key.publicPath)).code, 0);
    const update = await cli(dir, 'account', 'update', 'acme', '--partner', '-dash');
    assert.equal(update.code, 1, update.stderr);
    assert.match(update.stderr, /\[FG_PARTNER_ID\]/);
    const short = await cliOn(dir, ['account', 'password', 'acme'], { env: { FLUXGATE_PASSWORD: 'too short' } });
    assert.equal(short.code, 1, short.stderr);
    assert.match(short.stderr, /^fluxgate: passwords must be at least 12 characters.*\[FG_PASSWORD_WEAK\]$/m);
    const shown = JSON.parse((await cli(dir, 'account', 'show', 'acme', '--json')).stdout) as { partner: string | null; passwordFallback: boolean };
    assert.equal(shown.partner, null);
    assert.equal(shown.passwordFallback, false);
  });

  test('disable, enable, and remove (files moved aside, not deleted); a dropbox is just its root', { skip }, async () => {
    const dir = dataDir();
    const key = makeKey('ed25519');
    assert.equal((await cli(dir, 'account', 'add', 'drop', '--profile', 'dropbox', '--key', key.publicPath)).code, 0);
    assert.deepEqual(readdirSync(join(dir, 'sftp', 'drop')), []);
    assert.equal((await cli(dir, 'account', 'disable', 'drop')).code, 0);
    assert.equal((JSON.parse((await cli(dir, 'account', 'show', 'drop', '--json')).stdout) as { enabled: boolean }).enabled, false);
    assert.equal((await cli(dir, 'account', 'enable', 'drop')).code, 0);
    assert.equal((JSON.parse((await cli(dir, 'account', 'show', 'drop', '--json')).stdout) as { enabled: boolean }).enabled, true);
    const removed = await cli(dir, 'account', 'remove', 'drop');
    assert.equal(removed.code, 0, removed.stderr);
    const moved = /moved to (\S+)/.exec(removed.stdout)?.[1];
    assert.ok(moved && moved.startsWith(join(dir, 'removed', 'drop-')), removed.stdout);
    // The root is in the folder's sftp/, next to the (empty) exports of its rows.
    assert.ok(statSync(join(moved, 'sftp')).isDirectory());
    for (const f of ['directory.json', 'journal.json', 'removal.json']) assert.ok(existsSync(join(moved, f)), f);
    assert.ok(!existsSync(join(dir, 'sftp', 'drop')));
    assert.deepEqual(JSON.parse((await cli(dir, 'account', 'list', '--json')).stdout), []);
  });

  test('hostkeys: type, bits, SHA256 and MD5 fingerprints as ssh-keygen prints them', { skip }, async () => {
    const dir = dataDir();
    await ensureHostKeys(join(dir, 'hostkeys'));
    assert.equal(statSync(join(dir, 'hostkeys', 'ssh_host_ed25519_key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'hostkeys', 'ssh_host_rsa_key')).mode & 0o777, 0o600);
    const r = await cli(dir, 'hostkeys');
    assert.equal(r.code, 0, r.stderr);
    for (const [file, type, bits] of [['ssh_host_ed25519_key', 'ed25519', 256], ['ssh_host_rsa_key', 'rsa', 4096]] as const) {
      const pub = join(dir, 'hostkeys', `${file}.pub`);
      const sha = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub], { encoding: 'utf8' }).split(' ')[1];
      const md5 = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', pub], { encoding: 'utf8' }).split(' ')[1];
      assert.match(r.stdout, new RegExp(`^${type}\\s+${bits}\\s+${sha.replace(/[+/]/g, '\\$&')}\\s+${md5}$`, 'm'));
    }
  });
});
