import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { isFluxgateError } from '../../core/errors';
import { ManifestScopedFiles } from '../../core/workflow/scoped-files';

describe('scoped file access for plugins', () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-scoped-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const paths = new DataPaths(root);
  const files = new ManifestScopedFiles(paths, 'acme', {
    flux: 'abc', permissions: { read: ['in/abc', 'out/shared'], write: ['out/abc', 'vault/abc'], network: false },
  });
  const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err) => isFluxgateError(err, 'FG_PLUGIN_PERMISSION') && pattern.test(err.message));

  test('granted paths resolve into the account tree; vault/ into the account vault', () => {
    assert.equal(files.resolve('in/abc/x.csv', 'read'), join(paths.accountRoot('acme'), 'in/abc/x.csv'));
    assert.equal(files.resolve('./out//abc/r.csv', 'write'), join(paths.accountRoot('acme'), 'out/abc/r.csv'));
    assert.equal(files.resolve('vault/abc/doc.pdf', 'write'), join(paths.vault('acme'), 'abc/doc.pdf'));
    assert.equal(files.resolve('out/abc/r.csv', 'read'), join(paths.accountRoot('acme'), 'out/abc/r.csv'), 'write implies read');
  });

  test('anything else is refused with FG_PLUGIN_PERMISSION and a message naming the grant', () => {
    refused(() => files.resolve('out/shared/x', 'write'), /may not write "out\/shared\/x": its manifest grants write on "out\/abc", "vault\/abc"/);
    refused(() => files.resolve('in/abcd/x', 'read'), /may not read/);
    refused(() => files.resolve('in', 'read'), /may not read/);
    refused(() => files.resolve('vault/other/x', 'read'), /may not read/);
    refused(() => files.resolve('../other/in/abc/x', 'read'), /leaves the account's tree/);
    refused(() => files.resolve('in/abc/../../../other/x', 'read'), /leaves the account's tree/);
    refused(() => files.resolve('/etc/passwd', 'read'), /leaves the account's tree/);
  });

  test('writeFile is atomic and creates directories; list and remove stay in scope', async () => {
    await files.writeFile('out/abc/r.csv', 'report');
    const dir = join(paths.accountRoot('acme'), 'out/abc');
    assert.equal(readFileSync(join(dir, 'r.csv'), 'utf8'), 'report');
    assert.deepEqual(readdirSync(dir), ['r.csv'], 'no temporary file left');
    assert.deepEqual(await files.list('out/abc'), ['r.csv']);
    assert.deepEqual(await files.list('vault/abc'), []);
    await files.remove('out/abc/r.csv');
    assert.ok(!existsSync(join(dir, 'r.csv')));
    mkdirSync(join(paths.accountRoot('acme'), 'in/abc'), { recursive: true });
    writeFileSync(join(paths.accountRoot('acme'), 'in/abc/x'), 'x');
    await assert.rejects(files.remove('in/abc/x'), (err) => isFluxgateError(err, 'FG_PLUGIN_PERMISSION'));
  });
});
