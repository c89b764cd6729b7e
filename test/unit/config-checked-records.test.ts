import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkedDataDir, ownDirectory } from '../../core/config/checked-cache';
import { KEPT_RECORDS, rememberChecked } from '../../core/config/remember-checked';

/** The record of checked configurations (core/config/remember-checked.ts) stays bounded in the temporary directory. */
describe('records of checked configurations', () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-checked-'));
  const previousTmp = process.env.TMPDIR;
  after(() => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    rmSync(root, { recursive: true, force: true });
  });

  test('writing a record beyond the bound drops the oldest ones, keeps the newest and the one just written', () => {
    process.env.TMPDIR = join(root, 'tmp');
    mkdirSync(process.env.TMPDIR);
    const dir = ownDirectory(true);
    assert.ok(dir !== undefined && dir.startsWith(join(root, 'tmp')), `cache directory under the test's TMPDIR: ${String(dir)}`);

    const stale = KEPT_RECORDS + 10;
    for (let i = 0; i < stale; i++) {
      const file = join(dir, `old${String(i).padStart(3, '0')}.json`);
      writeFileSync(file, '{}');
      const when = new Date(Date.UTC(2020, 0, 1) + i * 60_000);
      utimesSync(file, when, when);
    }

    const cwd = join(root, 'site');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'fluxgate.yaml'), 'dataDir: ./var\n');
    rememberChecked({ cwd, env: {} }, join(cwd, 'var'));

    const left = readdirSync(dir).sort();
    assert.equal(left.length, KEPT_RECORDS);
    assert.equal(checkedDataDir({ cwd, env: {} }), join(cwd, 'var'), 'the record just written is kept and read back');
    assert.ok(!left.includes('old000.json') && !left.includes('old010.json'), 'the oldest records are gone');
    assert.ok(left.includes(`old${String(stale - 1).padStart(3, '0')}.json`), 'the newest old record is kept');
  });
});
