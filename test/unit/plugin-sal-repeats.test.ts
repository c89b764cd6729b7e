import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FluxContext, IncomingFile } from '../../core/plugin-api';
import { readRecords } from '../../core/records';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { bindDirectory } from '../../core/workflow/account-directory';
import { CollectingReportBuilder } from '../../core/workflow/report-builder';
import { BATCH_ROWS, SalHandler } from '../../plugins/sal/handler';

// The sal handler applies rows in batches (BATCH_ROWS) while the file streams. A repeated key is
// compared with its first row as the directory holds it, whether that row was applied in an
// earlier batch or earlier in the same one, and whether its key is new or was already in the
// directory (a dry run compares digests): all must give the same answer.
const HEADER = 'organization_code;registration_reference;lastname;firstname;professional_email';
const row = (i: number, lastname = 'Martin') => `ACME;${String(i).padStart(5, '0')};${lastname};Anna;p${i}@acme.example`;

async function runSal(dir: string, file: string, apply: boolean, before: string[] = []) {
  const db = openDatabase(join(dir, `directory-${apply}-${before.length}.sqlite`));
  const directory = new SqliteDirectoryRepository(db);
  await directory.upsertOrganization('acme', { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
  if (before.length > 0) {
    const earlier = join(dir, 'earlier.csv');
    writeFileSync(earlier, [HEADER, ...before].join('\n') + '\n');
    await handle(directory, earlier, true);
  }
  const report = await handle(directory, file, apply);
  const duplicates = report.messages.filter((m) => m.code === 'FG_DUP_IN_FILE').map((m) => m.line).sort((a, b) => a! - b!);
  return { counts: { ...report.counts }, duplicates, directory, db };
}

async function handle(directory: SqliteDirectoryRepository, file: string, apply: boolean) {
  const report = new CollectingReportBuilder();
  const signal = new AbortController().signal;
  const ctx = {
    report, directory: bindDirectory(directory, 'acme', 'sal'), signal, apply, attempt: 1,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    records: (options) => readRecords(file, { fileName: 'sal.csv', ...options }, signal),
  } as Partial<FluxContext> as FluxContext;
  await new SalHandler().handle({ id: `file-${file}`, accountId: 'acme' } as IncomingFile, ctx);
  return report;
}

test('sal: repeated keys far apart (first row in an earlier batch) and close together (the same batch)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sal-repeats-'));
  try {
    // Two batches and a part: rows 1 to 2 × BATCH_ROWS are applied when the repeats come, the rest pending.
    const n = 2 * BATCH_ROWS + 200;
    const lines = [HEADER];
    for (let i = 1; i <= n; i++) lines.push(row(i));
    lines.push(row(3));              // line n + 2: same as line 4, applied long ago → unchanged
    lines.push(row(4, 'Other'));     // line n + 3: differs from line 5, applied → both rejected
    lines.push(row(n - 1));          // line n + 4: same as line n, still pending → unchanged
    lines.push(row(n, 'Other'));     // line n + 5: differs from line n + 1, pending → both rejected
    const file = join(dir, 'sal.csv');
    writeFileSync(file, lines.join('\n') + '\n');

    const applied = await runSal(dir, file, true);
    assert.deepEqual(applied.counts, { created: n - 2, updated: 0, unchanged: 2, rejected: 4 });
    assert.deepEqual(applied.duplicates, [5, n + 1, n + 3, n + 5]);
    assert.equal(await applied.directory.getEmployee('acme', 'ACME', '00004'), undefined, 'a conflicting key is undone');
    assert.equal((await applied.directory.getEmployee('acme', 'ACME', '00003'))?.lastname, 'Martin');
    assert.equal((await applied.directory.listEmployees('acme')).length, n - 2);

    applied.db.close();

    const dry = await runSal(dir, file, false);
    assert.deepEqual(dry.counts, applied.counts, 'a dry run decides the same');
    assert.deepEqual(dry.duplicates, applied.duplicates);
    assert.equal((await dry.directory.listEmployees('acme')).length, 0, 'a dry run writes nothing');
    dry.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sal: repeated keys that were already in the directory (first row unchanged or updated)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sal-repeats-'));
  try {
    const before = [row(1), row(2), row(3), row(4)];
    const file = join(dir, 'sal.csv');
    writeFileSync(file, [HEADER,
      row(1), row(1),                  // lines 2, 3: as stored, twice → unchanged, unchanged
      row(2), row(2, 'Other'),         // lines 4, 5: as stored, then different → both rejected
      row(3, 'New'), row(3, 'New'),    // lines 6, 7: updated, then the same again → updated, unchanged
      row(4, 'New'), row(4, 'Other'),  // lines 8, 9: updated, then different → both rejected, 4 restored
      row(5), row(5),                  // lines 10, 11: new, twice → created, unchanged
    ].join('\n') + '\n');

    const applied = await runSal(dir, file, true, before);
    assert.deepEqual(applied.counts, { created: 1, updated: 1, unchanged: 4, rejected: 4 });
    assert.deepEqual(applied.duplicates, [4, 5, 8, 9]);
    const lastname = async (ref: number) => (await applied.directory.getEmployee('acme', 'ACME', String(ref).padStart(5, '0')))?.lastname;
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map(lastname)), ['Martin', 'Martin', 'New', 'Martin', 'Martin'], 'conflicting keys keep what they held before the file');
    applied.db.close();

    const dry = await runSal(dir, file, false, before);
    assert.deepEqual(dry.counts, applied.counts, 'a dry run decides the same');
    assert.deepEqual(dry.duplicates, applied.duplicates);
    assert.equal((await dry.directory.getEmployee('acme', 'ACME', '00003'))?.lastname, 'Martin', 'a dry run writes nothing');
    dry.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
