import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { SqliteJournalRepository, type JournalFile } from '../../core/store/journal-repository';
import { REPO_ROOT } from '../helpers/server';

// `fluxgate files show ID` takes a short way once its configuration was checked (#19: < 50 ms
// with a million files; core/cli/fast-path.ts): the same output without loading commander, the
// configuration's schemas or the YAML parser; a configuration changed since is checked in full.
const dir = mkdtempSync(join(tmpdir(), 'fg-cli-fast-'));
const config = join(dir, 'fluxgate.yaml');
const loadsFile = join(dir, 'loads.txt');
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
// The record of checked configurations lives under the temporary directory: this test's own.
const env = { ...process.env, TMPDIR: join(dir, 'tmp'), FG_RECORD_LOADS: loadsFile };
mkdirSync(env.TMPDIR, { recursive: true });

function fluxgate(...args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  writeFileSync(loadsFile, '');
  const r = spawnSync(process.execPath, ['--require', join(REPO_ROOT, 'test', 'fixtures', 'record-loads.cjs'), BIN, '--config', config, ...args],
    { encoding: 'utf8', cwd: dir, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(loadsFile, 'utf8').split('\n') };
}
const loads = (loaded: string[], pkg: string): boolean => loaded.some((p) => p.includes(`/node_modules/${pkg}/`));

describe('fluxgate files and files show: the short way', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(config, 'dataDir: ./var\nenvironment: test\n');
  let file: JournalFile;
  before(async () => {
  const db = openDatabase(new DataPaths(join(dir, 'var')).database);
  const journal = new SqliteJournalRepository(db);
  file = (await journal.insert({
    accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/x.csv', name: 'x.csv',
    size: 3, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: join(dir, 'x.csv'),
  }))!;
  await journal.finish(file.id, 'rejected', { result: 'rejected', code: 'FG_MISSING_COLUMN', summary: 'the column lastname is missing' });
  // A second file: a page of one has a next page.
  await journal.insert({
    accountId: 'acme', profile: 'exchange', flux: 'sir', workflow: 'sir', originalPath: 'in/sir/y.csv', name: 'y.csv',
    size: 3, sha1: 'c'.repeat(40), sha256: 'd'.repeat(64), location: join(dir, 'y.csv'),
  });
  db.close();
  });

  it('answers the same, text and JSON, without commander, zod or yaml once the configuration was checked', () => {
    const first = fluxgate('files', 'show', file.id);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(loads(first.loaded, 'commander') && loads(first.loaded, 'zod'), 'the first run checks the configuration in full');
    assert.match(first.stdout, /state\s+rejected/);
    assert.match(first.stdout, /FG_MISSING_COLUMN/);

    const second = fluxgate('files', 'show', file.id);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    for (const pkg of ['commander', 'zod', 'yaml']) assert.ok(!loads(second.loaded, pkg), `the second run loaded ${pkg}`);
    // It reads through Node's own SQLite: no native addon to load.
    assert.ok(!loads(second.loaded, 'better-sqlite3'), 'the second run loaded better-sqlite3');

    const json = fluxgate('files', 'show', file.id, '--json');
    assert.ok(!loads(json.loaded, 'commander'));
    const full = fluxgate('files', '--json', 'show', file.id);
    assert.ok(loads(full.loaded, 'commander'), 'another form of the arguments goes the usual way');
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(full.stdout));
    assert.equal((JSON.parse(json.stdout) as { events: unknown[] }).events.length, 2);
  });

  it('lists a page of the journal the same, text and JSON, without commander, zod or yaml', () => {
    const first = fluxgate('files', '--account', 'acme', '--state', 'rejected');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${file.id}\\s+acme\\s+sal\\s+rejected`));
    const second = fluxgate('files', '--account', 'acme', '--state', 'rejected');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    for (const pkg of ['commander', 'zod', 'yaml']) assert.ok(!loads(second.loaded, pkg), `the second run loaded ${pkg}`);
    assert.equal(fluxgate('files', '--account', 'globex').stdout, 'no files\n');

    // JSON, and the next page's command on stderr, as the full CLI prints them.
    const json = fluxgate('files', '--limit', '1', '--json');
    assert.ok(!loads(json.loaded, 'commander'));
    const full = fluxgate('files', '--limit=1', '--json');
    assert.ok(loads(full.loaded, 'commander'), 'another form of the arguments goes the usual way');
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(full.stdout));
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 1);
    assert.match(json.stderr, /^more files: fluxgate files --limit 1 --json --cursor \S+\n$/);
    assert.equal(json.stderr, full.stderr.replace('--limit=1', '--limit 1'));
  });

  it('leaves a bad option to the full CLI, which says what is wrong', () => {
    fluxgate('files');
    const state = fluxgate('files', '--state', 'lost');
    assert.notEqual(state.status, 0);
    assert.ok(loads(state.loaded, 'commander'));
    assert.match(state.stderr, /--state.*must be one of/);
    const since = fluxgate('files', '--since', 'yesterday');
    assert.notEqual(since.status, 0);
    assert.match(since.stderr, /--since "yesterday" is not an ISO date.*\[FG_USAGE\]/);
  });

  it('reports an unknown file as the full CLI does', () => {
    fluxgate('files', 'show', file.id);
    const r = fluxgate('files', 'show', 'f_20000101000000_00000000');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no file f_20000101000000_00000000 in the journal.*\[FG_FILE_NOT_FOUND\]/);
  });

  it('checks a configuration changed since in full: an invalid one is refused', () => {
    assert.equal(fluxgate('files', 'show', file.id).status, 0);
    writeFileSync(config, 'dataDir: ./var\nenvironment: test\nsftp: { port: not-a-port }\n');
    const r = fluxgate('files', 'show', file.id);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FG_CONFIG/);
    assert.ok(loads(r.loaded, 'zod'));
    // A FLUXGATE_ variable is part of what was checked too.
    writeFileSync(config, 'dataDir: ./var\nenvironment: test\n');
    assert.equal(fluxgate('files', 'show', file.id).status, 0);
    const withVar = spawnSync(process.execPath, [BIN, '--config', config, 'files', 'show', file.id],
      { encoding: 'utf8', cwd: dir, env: { ...env, FLUXGATE_SFTP__PORT: 'nope' } });
    assert.notEqual(withVar.status, 0);
    assert.match(withVar.stderr, /FG_CONFIG/);
  });
});
