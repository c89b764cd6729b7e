import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { isoWithOffset, receiptName, receiptNameCandidates, renderReceipt } from '../../core/workflow/receipt';

describe('proof of receipt', () => {
  test('the XML has exactly the protocol form, SHA1 then SHA256', () => {
    const madeAt = new Date(2013, 0, 16, 14, 20, 0);
    const xml = renderReceipt({ fileName: 'ndmat_x_sal_rhw_930_20130206113837.csv', madeAt, sha1: '9849a4d500126203a099aca0cd7017cb8748fb2a', sha256: 'ab'.repeat(32), size: 238 });
    assert.equal(xml, [
      "<?xml version='1.0' encoding='utf-8'?>",
      '<transfert_report version="1">',
      '<file>',
      '<file_name>ndmat_x_sal_rhw_930_20130206113837.csv</file_name>',
      `<file_timestamp>${isoWithOffset(madeAt)}</file_timestamp>`,
      '<file_fingerprint algorithm="SHA1">9849a4d500126203a099aca0cd7017cb8748fb2a</file_fingerprint>',
      `<file_fingerprint algorithm="SHA256">${'ab'.repeat(32)}</file_fingerprint>`,
      '<file_size>238</file_size>',
      '</file>',
      '</transfert_report>',
      '',
    ].join('\n'));
    assert.match(isoWithOffset(madeAt), /^2013-01-16T14:20:00[+-]\d\d:\d\d$/);
  });

  test('names are cdmat_{client}_tra_{flux}_{yyyymmddhhmmss}.xml', () => {
    assert.equal(receiptName('acme', 'sal', new Date(2026, 10, 20, 9, 5, 7)), 'cdmat_acme_tra_sal_20261120090507.xml');
  });
});

describe('receipt names under a burst', () => {
  test('the protocol\'s second first, then that time with milliseconds, from the millisecond it was made', () => {
    const madeAt = new Date(2026, 10, 20, 9, 5, 7, 42);
    const names = receiptNameCandidates('acme', 'sal', madeAt);
    assert.equal(names.next().value, 'cdmat_acme_tra_sal_20261120090507.xml');
    assert.equal(names.next().value, 'cdmat_acme_tra_sal_20261120090507042.xml');
    assert.equal(names.next().value, 'cdmat_acme_tra_sal_20261120090507043.xml');
  });

  test('past the end of a second the milliseconds carry into the next one', () => {
    const names = receiptNameCandidates('acme', 'sal', new Date(2026, 11, 31, 23, 59, 59, 999));
    names.next();
    assert.equal(names.next().value, 'cdmat_acme_tra_sal_20261231235959999.xml');
    assert.equal(names.next().value, 'cdmat_acme_tra_sal_20270101000000000.xml');
  });
});
