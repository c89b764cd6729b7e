import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFluxgateError } from '../../core/errors';
import { PathJail } from '../../core/sftp/path-jail';
import { DropboxPolicy, ExchangePolicy } from '../../core/sftp/permissions';
import { isAddressAllowed, normalizeAllowlist } from '../../core/accounts/allowlist';

const root = mkdtempSync(join(tmpdir(), 'fg-jail-'));
const jail = new PathJail(root);

test('paths normalize inside the root: //, ., relative and .. that stays inside', () => {
  assert.equal(jail.resolve('').virtual, '/');
  assert.equal(jail.resolve('.').virtual, '/');
  assert.equal(jail.resolve('//in//sal/./x.csv').virtual, '/in/sal/x.csv');
  assert.equal(jail.resolve('in/sal/x.csv').real, join(root, 'in', 'sal', 'x.csv'));
  assert.equal(jail.resolve('/in/sal/../../out/tra').virtual, '/out/tra');
});

test('escapes and tricks are refused: .. above the root, NUL, control characters, long names, reserved temp names', () => {
  const refused = (p: string, code: 'FG_PATH_ESCAPE' | 'FG_PATH_INVALID'): void =>
    assert.throws(() => jail.resolve(p), (e) => isFluxgateError(e, code), p);
  refused('..', 'FG_PATH_ESCAPE');
  refused('/../etc/passwd', 'FG_PATH_ESCAPE');
  refused('/in/../../etc/passwd', 'FG_PATH_ESCAPE');
  refused('in/sal/../../../x', 'FG_PATH_ESCAPE');
  refused('/dev/x\u0000.csv', 'FG_PATH_INVALID');
  refused('/dev/a\nb', 'FG_PATH_INVALID');
  refused(`/dev/${'a'.repeat(201)}`, 'FG_PATH_INVALID');
  refused(`/${'a/'.repeat(600)}`, 'FG_PATH_INVALID');
  refused('/dev/.fg-upload-abc-x.csv', 'FG_PATH_INVALID');
  // What ssh2 makes of names that are not UTF-8 (each invalid byte becomes U+FFFD).
  refused(Buffer.from('/dev/bad\xff.txt', 'latin1').toString('utf8'), 'FG_PATH_INVALID');
  refused('/dev/bad\ufffd.txt', 'FG_PATH_INVALID');
  assert.equal(jail.resolve('/dev/café-日本.txt').name, 'café-日本.txt');
});

test('symbolic links anywhere on the way are refused', async () => {
  mkdirSync(join(root, 'dev'), { recursive: true });
  symlinkSync('/etc', join(root, 'dev', 'etc'));
  await assert.rejects(jail.assertNoSymlinks(jail.resolve('/dev/etc/passwd')), (e) => isFluxgateError(e, 'FG_PATH_INVALID'));
  await assert.rejects(jail.assertNoSymlinks(jail.resolve('/dev/etc')), (e) => isFluxgateError(e, 'FG_PATH_INVALID'));
  await jail.assertNoSymlinks(jail.resolve('/dev/missing/x')); // nothing there, nothing followed
});

test('exchange policy: in/ upload-only, out/ read and delete, dev/ scratch, nothing at the root', () => {
  const p = new ExchangePolicy();
  const path = (s: string) => jail.resolve(s);
  const denied = (fn: () => unknown): void => assert.throws(fn, (e) => isFluxgateError(e, 'FG_PERMISSION_DENIED'));
  assert.deepEqual(p.upload(path('/in/sal/x.csv')), { mayReplace: false });
  assert.deepEqual(p.upload(path('/dev/x.csv')), { mayReplace: true });
  denied(() => p.upload(path('/x.csv')));
  denied(() => p.upload(path('/out/sal/x.csv')));
  denied(() => p.read(path('/in/sal/x.csv')));
  p.read(path('/out/tra/r.xml'));
  p.remove(path('/out/tra/r.xml'));
  p.remove(path('/in/sal/x.csv.filepart'));
  denied(() => p.remove(path('/in/sal/x.csv')));
  p.rename(path('/in/sal/x.csv.filepart'), path('/in/sal/x.csv'));
  denied(() => p.rename(path('/in/sal/x.csv'), path('/in/sal/y.csv')));
  denied(() => p.rename(path('/in/sal/x.csv.filepart'), path('/in/usr/x.csv')));
  denied(() => p.rename(path('/out/sal/x.csv.filepart'), path('/out/sal/x.csv')));
  assert.equal(p.announces(path('/in/sal/x.csv')), true);
  assert.equal(p.announces(path('/dev/x.csv')), false);
});

test('dropbox policy: PUT at / only; no read, delete or listing', () => {
  const p = new DropboxPolicy();
  const denied = (fn: () => unknown): void => assert.throws(fn, (e) => isFluxgateError(e, 'FG_PERMISSION_DENIED'));
  assert.equal(p.listingsVisible, false);
  assert.deepEqual(p.upload(jail.resolve('/employees.csv')), { mayReplace: false });
  denied(() => p.upload(jail.resolve('/sub/employees.csv')));
  denied(() => p.read(jail.resolve('/employees.csv')));
  denied(() => p.remove(jail.resolve('/employees.csv')));
  p.rename(jail.resolve('/employees.csv.filepart'), jail.resolve('/employees.csv'));
});

test('allowlists: IPv4/IPv6 CIDRs, bare addresses, mapped IPv4, limits', () => {
  assert.deepEqual(normalizeAllowlist(['10.0.0.0/8', '192.0.2.7', '2001:DB8::/32']), ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32']);
  const list = normalizeAllowlist(['10.0.0.0/8', '2001:db8::/32']);
  assert.equal(isAddressAllowed('10.1.2.3', list), true);
  assert.equal(isAddressAllowed('::ffff:10.1.2.3', list), true);
  assert.equal(isAddressAllowed('127.0.0.1', list), false);
  assert.equal(isAddressAllowed('2001:db8::1', list), true);
  assert.equal(isAddressAllowed('2001:db9::1', list), false);
  assert.equal(isAddressAllowed('127.0.0.1', []), true);
  for (const bad of ['10.0.0.0/33', 'nonsense', '10.0.0.0/8/1', '::/129']) {
    assert.throws(() => normalizeAllowlist([bad]), (e) => isFluxgateError(e, 'FG_ALLOWLIST'), bad);
  }
  assert.throws(() => normalizeAllowlist(Array.from({ length: 255 }, (_, i) => `10.0.${i}.0/24`)), (e) => isFluxgateError(e, 'FG_ALLOWLIST'));
});
