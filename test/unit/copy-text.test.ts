import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CopyText, copyField } from '../../core/store/postgres/copy-in';

// COPY's text, field by field (copy-in.ts): short ASCII values are copied code unit by code
// unit, the rest by Buffer.write; both must give exactly copyField's text, escapes included.
test('CopyText writes each field as copyField encodes it, short or long, ASCII or not, escaped or not', () => {
  const values: Array<string | null> = ['', 'plain', 'a\tb\\c', 'line\nbreak\rreturn', '\\', 'x\\', '\u0001\u001f\u007f', null, 'Müller',
    'ascii then é', '😀', 'N', '\\N', 'a'.repeat(48), `${'a'.repeat(47)}\t`, 'b'.repeat(49), `${'c'.repeat(60)}\n\\`, `${'é'.repeat(60)}`];
  const text = new CopyText(16);
  let expected = '';
  for (const [i, value] of values.entries()) {
    const last = i === values.length - 1;
    text.reserve((value?.length ?? 2) + 1);
    text.field(value, !last);
    expected += copyField(value) + (last ? '' : '\t');
  }
  assert.equal(text.bytes.toString('utf8'), expected);
  assert.equal(text.byteLength, Buffer.byteLength(expected));
});

test('an empty first field and a field right after a non-ASCII one land where they should', () => {
  const text = new CopyText(16);
  for (const value of ['', 'ü', 'z', '']) {
    text.reserve(4);
    text.field(value);
  }
  assert.equal(text.bytes.toString('utf8'), '\tü\tz\t\t');
});
