import { strict as assert } from 'node:assert';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { PRIVATE_KEY_FILE } from '../../core/pgp/server-key';
import { TestServer } from '../helpers/server';

/**
 * `pgp export-public -o` and `pgp decrypt -o` create their output: an existing file is refused
 * input (exit 1, FG_FILE_EXISTS, the one-line error without the usage), and is left as it was.
 * Through the real CLI, on a data dir no server has used.
 */
describe('pgp CLI: an -o output that exists is refused with FG_FILE_EXISTS', () => {
  // Not started: only its config file, data dir and `cli()` are used.
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const paths = new DataPaths(server.dataDir);
  const refusal = (file: string) => `fluxgate: ${file} already exists: give the name of a new file, or remove that one first [FG_FILE_EXISTS]\n`;
  after(async () => { await server.cleanup(); });

  test('export-public -o onto an existing file: exit 1, the file unchanged, and no key generated for nothing', async () => {
    const existing = join(server.dir, 'fluxgate.yaml.bak');
    writeFileSync(existing, 'operator notes\n');
    const r = await server.cli('pgp', 'export-public', '-o', existing);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, refusal(existing));
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(existing, 'utf8'), 'operator notes\n');
    assert.equal(existsSync(join(paths.pgpDir, PRIVATE_KEY_FILE)), false, 'refused before the key pair is generated');
  });

  test('export-public -o a new file writes the key; a second export onto it is refused and keeps it', async () => {
    const file = join(server.dir, 'server.asc');
    const first = await server.cli('pgp', 'export-public', '-o', file);
    assert.equal(first.code, 0, first.stderr);
    const printed = await server.cli('pgp', 'export-public');
    assert.equal(readFileSync(file, 'utf8'), printed.stdout);
    assert.match(printed.stdout, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);

    const again = await server.cli('pgp', 'export-public', '-o', file);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, refusal(file));
    assert.equal(readFileSync(file, 'utf8'), printed.stdout);
  });

  test('export-public -o a dangling symbolic link is refused too: nothing is created where it points', async () => {
    const link = join(server.dir, 'link.asc');
    const target = join(server.dir, 'elsewhere.asc');
    symlinkSync(target, link);
    const r = await server.cli('pgp', 'export-public', '-o', link);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, refusal(link));
    assert.equal(existsSync(target), false);
  });

  test('decrypt -o onto an existing file: exit 1 with FG_FILE_EXISTS (checked before the input is read), the file unchanged', async () => {
    const input = join(server.dir, 'upload.csv.pgp');
    writeFileSync(input, 'not even a PGP message');
    const out = join(server.dir, 'upload.csv');
    writeFileSync(out, 'kept\n');
    const r = await server.cli('pgp', 'decrypt', input, '-o', out);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, refusal(out));
    assert.doesNotMatch(r.stderr, /Usage:/);
    assert.equal(readFileSync(out, 'utf8'), 'kept\n');
  });

  test('decrypt -o a dangling symbolic link is refused too: the link stays, nothing is written where it points', async () => {
    const input = join(server.dir, 'other.csv.pgp');
    writeFileSync(input, 'not even a PGP message');
    const link = join(server.dir, 'plain-link.csv');
    const target = join(server.dir, 'plain-elsewhere.csv');
    symlinkSync(target, link);
    const r = await server.cli('pgp', 'decrypt', input, '-o', link);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, refusal(link));
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(existsSync(target), false);
  });
});
