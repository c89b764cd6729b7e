import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RowLog } from '../../plugins/sal/row-log';

// sal's row log (plugins/sal/row-log.ts) keeps its columns in chunks of 4,096 rows: each row
// reads back what was logged and set for it, on both sides of the chunk boundaries.
test('RowLog: every row reads back its line, key, kind and digest across chunks', () => {
  const rows = 10_000;
  const log = new RowLog();
  for (let i = 0; i < rows; i++) assert.equal(log.add(i + 2, `ORG${i % 7}`, `R${i}`, `h${i}`), i);
  assert.equal(log.length, rows);
  for (const i of [0, 4095, 4096, 8191, 8192, rows - 1]) log.setKind(i, i % 2 === 0 ? 'created' : 'updated');
  for (let i = 0; i < rows; i++) {
    assert.equal(log.line(i), i + 2);
    assert.equal(log.org(i), `ORG${i % 7}`);
    assert.equal(log.ref(i), `R${i}`);
    assert.equal(log.hash(i), `h${i}`);
    const set = [0, 4095, 4096, 8191, 8192, rows - 1].includes(i);
    assert.equal(log.kind(i), set ? (i % 2 === 0 ? 'created' : 'updated') : undefined);
  }
});

test('RowLog: without digests (a run that applies), rows still log and read back', () => {
  const log = new RowLog();
  for (let i = 0; i < 5000; i++) log.add(i, 'A', String(i));
  assert.equal(log.length, 5000);
  assert.equal(log.ref(4999), '4999');
  assert.equal(log.kind(4999), undefined);
});
