import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { copyFileAtomicSync, writeFileAtomic, writeFileAtomicSync } from '../../core/atomic-write';
import { isServerTemporary, temporaryOwnerPid } from '../../core/upload-names';
import { REPO_ROOT } from '../helpers/server';

const dir = (): string => mkdtempSync(join(tmpdir(), 'fg-atomic-'));

test('a streamed write is invisible under its name until complete: the only name meanwhile is the hidden temporary one', async () => {
  const d = dir();
  const target = join(d, 'report.csv');
  const source = new PassThrough();
  const writing = writeFileAtomic(target, source, { mode: 0o640 });
  source.write('line 1\n');
  let during: string[] = [];
  for (let i = 0; i < 100 && during.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    during = await readdir(d);
  }
  assert.equal(during.length, 1, during.join(', '));
  assert.ok(isServerTemporary(during[0]), `${during[0]} is one of the server's temporary names (swept at start-up)`);
  assert.equal(temporaryOwnerPid(during[0]), process.pid, 'it names its writer');
  source.end('line 2\n');
  assert.equal(await writing, true);
  assert.deepEqual(readdirSync(d), ['report.csv']);
  assert.equal(readFileSync(target, 'utf8'), 'line 1\nline 2\n');
});

test('the mode is the one asked for, whatever the umask; an existing file is replaced whole', async () => {
  const d = dir();
  const target = join(d, 'key.asc');
  writeFileSync(target, 'old content, longer than the new one');
  const umask = process.umask(0o077);
  try {
    assert.equal(await writeFileAtomic(target, 'new', { mode: 0o644 }), true);
    assert.equal(writeFileAtomicSync(join(d, 'sync.asc'), 'sync', { mode: 0o644, durable: true }), true);
  } finally {
    process.umask(umask);
  }
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.equal(statSync(target).mode & 0o777, 0o644);
  assert.equal(statSync(join(d, 'sync.asc')).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(d).sort(), ['key.asc', 'sync.asc']);
});

test('exclusive: never replaces what is there (returns false), leaves no temporary file', async () => {
  const d = dir();
  const target = join(d, 'private.key');
  assert.equal(await writeFileAtomic(target, 'first', { mode: 0o600, exclusive: true }), true);
  assert.equal(await writeFileAtomic(target, 'second', { mode: 0o600, exclusive: true }), false);
  assert.equal(writeFileAtomicSync(target, 'third', { mode: 0o600, exclusive: true }), false);
  assert.equal(readFileSync(target, 'utf8'), 'first');
  assert.deepEqual(readdirSync(d), ['private.key']);
});

test('a stream that fails part way leaves neither the target nor a temporary file, and the error is the stream\'s', async () => {
  const d = dir();
  const failing = new Readable({
    read() {
      this.push('some bytes\n');
      this.destroy(Object.assign(new Error('source broke'), { code: 'ESOURCE' }));
    },
  });
  await assert.rejects(writeFileAtomic(join(d, 'out.csv'), failing, { mode: 0o640 }), /source broke/);
  const upper = new Transform({ transform(chunk: Buffer, _enc, cb) { cb(null, chunk.toString().toUpperCase()); } });
  assert.equal(await writeFileAtomic(join(d, 'upper.txt'), Readable.from(['abc']), { mode: 0o640, through: [upper] }), true);
  assert.deepEqual(readdirSync(d), ['upper.txt']);
  assert.equal(readFileSync(join(d, 'upper.txt'), 'utf8'), 'ABC');
});

test('a writer function (sync) and a copy: complete files or nothing', () => {
  const d = dir();
  const target = join(d, 'export.json');
  assert.throws(() => writeFileAtomicSync(target, () => { throw new Error('export failed'); }, { mode: 0o640, durable: true }), /export failed/);
  assert.deepEqual(readdirSync(d), []);
  writeFileAtomicSync(target, (fd) => { writeFileSync(fd, '{"a":'); writeFileSync(fd, '1}'); }, { mode: 0o640, durable: true });
  copyFileAtomicSync(target, join(d, 'copy.json'));
  assert.equal(readFileSync(join(d, 'copy.json'), 'utf8'), '{"a":1}');
  assert.deepEqual(readdirSync(d).sort(), ['copy.json', 'export.json']);
});

/**
 * One helper, one convention: no other module of the engine writes a file and renames or links
 * it into place itself (there were seven, with three temporary-name conventions). Moves that
 * write nothing (an upload published, an input archived, a tree moved aside) are not writes.
 */
test('no module but core/atomic-write.ts writes a file and renames or links it into place', () => {
  const offenders: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !path.endsWith(join('core', 'atomic-write.ts'))) {
        const source = readFileSync(path, 'utf8');
        const writes = /\b(writeFile|writeFileSync|createWriteStream|writeSync|copyFile|copyFileSync)\(/.test(source);
        const places = /\b(rename|renameSync|link|linkSync)\(/.test(source);
        if (writes && places) offenders.push(relative(REPO_ROOT, path));
      }
    }
  };
  walk(join(REPO_ROOT, 'core'));
  walk(join(REPO_ROOT, 'plugins'));
  assert.deepEqual(offenders, [], 'use writeFileAtomic / writeFileAtomicSync / copyFileAtomicSync (core/atomic-write.ts)');
});
