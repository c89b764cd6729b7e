import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { numbered, placeOutput } from '../../core/workflow/output-place';

// Outputs (reports, receipts) get their name without ever replacing another file's:
// the wanted name if free or this file's own, else the first free name.N.ext.
describe('placing an output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-place-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const temp = (text: string) => {
    const path = join(dir, `.fg-tmp-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, text);
    return path;
  };
  const wanted = join(dir, 'cdmat_x.csv');
  const owners = new Map<string, string>();
  const place = async (file: string, text: string) => {
    const t = temp(text);
    const path = await placeOutput(t, wanted, (p) => owners.get(p) === file);
    owners.set(path, file);
    rmSync(t, { force: true });
    return path;
  };

  test('numbered names keep the input name whole', () => {
    assert.equal(numbered('/o/cdmat_x.csv', 2), '/o/cdmat_x.2.csv');
    assert.equal(numbered('/o/noext', 3), '/o/noext.3');
  });

  test('free name, another file\'s name taken, this file\'s own rewritten, a taken signature avoided', async () => {
    assert.equal(await place('f1', 'one'), wanted);
    assert.equal(await place('f2', 'two'), join(dir, 'cdmat_x.2.csv'));
    assert.equal(await place('f1', 'one again'), wanted, 'a retry or replay rewrites its own');
    assert.equal(readFileSync(wanted, 'utf8'), 'one again');
    assert.equal(readFileSync(join(dir, 'cdmat_x.2.csv'), 'utf8'), 'two');
    writeFileSync(join(dir, 'cdmat_x.3.csv.sig'), 'a signature left by a report the client deleted');
    assert.equal(await place('f3', 'three'), join(dir, 'cdmat_x.4.csv'));
  });

  test('placed at the same moment, two files get two names', async () => {
    const [a, b] = await Promise.all([place('f5', 'five'), place('f6', 'six')]);
    assert.notEqual(a, b);
    assert.deepEqual([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')], ['five', 'six']);
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.fg-tmp-')));
  });
});
