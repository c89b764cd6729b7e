import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FluxContext, IncomingFile, RecordReaderOptions } from '../../core/plugin-api';
import { readRecords } from '../../core/records';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { bindDirectory } from '../../core/workflow/account-directory';
import { CollectingReportBuilder } from '../../core/workflow/report-builder';
import { DropboxHandler } from '../../plugins/dropbox/handler';

// The drop-box handler looks the file's employees up first (batches of findEmployees), then
// writes every row in one batch (plugin API 2: no transaction(fn) to read and write in). Each
// row must still find what it would have found had the rows before it been written one by one,
// on the engine's own store: an e-mail a row moves away from an employee no longer finds it.

async function handle(directory: SqliteDirectoryRepository, file: string) {
  const report = new CollectingReportBuilder();
  const signal = new AbortController().signal;
  const ctx = {
    report, directory: bindDirectory(directory, 'drop', 'dropbox'), signal, apply: true, attempt: 1,
    settings: { account: { id: 'drop', profile: 'dropbox', partner: null, options: {} } },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    records: (options: RecordReaderOptions) => readRecords(file, { fileName: 'employees.csv', ...options }, signal),
  } as unknown as FluxContext;
  await new DropboxHandler().handle({ id: `file-${file}`, accountId: 'drop', receivedAt: new Date() } as IncomingFile, ctx);
  return report;
}

test('dropbox: a row that moves an e-mail (by Employee ID) frees it for a later row, in the same file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-dropbox-lookups-'));
  try {
    const directory = new SqliteDirectoryRepository(openDatabase(join(dir, 'directory.sqlite')));
    const first = join(dir, 'first.csv');
    writeFileSync(first, 'Name,Email,Employee ID\nAnn Lee,ann@acme.example,E1\n');
    assert.deepEqual((await handle(directory, first)).counts, { created: 1, updated: 0, unchanged: 0, rejected: 0 });

    // Line 2: E1 changes her e-mail. Line 3: a new colleague without an ID gets the old one.
    // Line 4: line 2 again, identical: found by the new e-mail, unchanged.
    const second = join(dir, 'second.csv');
    writeFileSync(second, [
      'Name,Email,Employee ID',
      'Ann Lee,ann.lee@acme.example,E1',
      'Ann Other,ann@acme.example,',
      'Ann Lee,ann.lee@acme.example,E1',
    ].join('\n') + '\n');
    const report = await handle(directory, second);
    assert.deepEqual(report.counts, { created: 1, updated: 1, unchanged: 1, rejected: 0 }, JSON.stringify(report.messages));
    const stored = (await directory.listEmployees('drop')).map((e) => [e.registrationReference, e.technicalId, e.email, e.lastname]);
    assert.deepEqual(stored, [['E1', 'E1', 'ann.lee@acme.example', 'Lee'], ['ann@acme.example', null, 'ann@acme.example', 'Other']],
      'E1 keeps her new e-mail; the old one is a new employee, not written over E1');

    assert.deepEqual((await handle(directory, second)).counts, { created: 0, updated: 0, unchanged: 3, rejected: 0 }, 'the same file again changes nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
