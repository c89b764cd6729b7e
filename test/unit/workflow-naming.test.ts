import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { stripEncryptedSuffix } from '../../core/pgp/names';
import { checkName, checkTimestamp, invisibleCharacter, plainName, reportName, visibleName } from '../../core/workflow/naming';

const acme = { partner: 'acme', client: 'acme', flux: ['sal'] };

describe('naming convention', () => {
  test('accepts the fixture names with app and version, and parses the parts', () => {
    const r = checkName('ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv', acme);
    assert.ok(r.ok);
    assert.deepEqual(r.parts, { dest: 'ndmat', partner: 'acme', client: 'acme', flux: 'sal', app: 'hrmanager', version: 'v6', timestamp: '261120090500', ext: 'csv', encrypted: false });
  });

  test('app and version are optional; a lone part that looks like a version is the version', () => {
    const bare = checkName('ndmat_acme_acme_sal_20261120090500.csv', acme);
    assert.ok(bare.ok && bare.parts.app === undefined && bare.parts.version === undefined);
    const tst = checkName('ndmat_acme_acme_sal_tst_261120090500.csv', acme);
    assert.ok(tst.ok && tst.parts.version === 'tst' && tst.parts.app === undefined);
    const app = checkName('ndmat_acme_acme_sal_rhw_261120090500.csv', acme);
    assert.ok(app.ok && app.parts.app === 'rhw');
  });

  test('.pgp / .gpg suffixes are checked without the suffix and flagged', () => {
    const r = checkName('ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv.pgp', acme);
    assert.ok(r.ok && r.parts.encrypted && r.parts.ext === 'csv');
    assert.ok(checkName('ndmat_acme_acme_sal_261120090500.csv.gpg', acme).ok);
  });

  test('partner and client ids containing "_" are matched whole', () => {
    const r = checkName('ndmat_big_partner_client_1_sal_v2_261120090500.csv', { partner: 'big_partner', client: 'client_1', flux: ['sal'] });
    assert.ok(r.ok && r.parts.version === 'v2');
  });

  const wrong: Array<[string, string, RegExp]> = [
    ['wrongname_sal.csv', 'dest', /"wrongname".*"ndmat"/],
    ['cdmat_acme_acme_sal_261120090500.csv', 'dest', /"cdmat"/],
    ['ndmat_other_acme_sal_261120090500.csv', 'partner', /partner part is "other", expected "acme"/],
    ['ndmat_acme_beta_sal_261120090500.csv', 'client', /client part is "beta", expected "acme"/],
    ['ndmat_acme_acme_sir_261120090500.csv', 'flux', /flux part is "sir", expected "sal"/],
    ['ndmat_acme_acme_sal_261320090500.csv', 'timestamp', /not a real date/],
    ['ndmat_acme_acme_sal_2611200905.csv', 'timestamp', /12 digits/],
    ['ndmat_acme_acme_sal.csv', 'timestamp', /missing/],
    ['ndmat_acme_acme_sal_a_b_c_261120090500.csv', 'app/version', /at most/],
    ['ndmat_acme_acme_sal_261120090500.txt', 'extension', /"\.txt"/],
    ['ndmat_acme_acme_sal_261120090500', 'extension', /no extension/],
    ['ndmat_acme_acme_sal_261120090500.csv.zip.pgp', 'name', /characters/],
  ];
  for (const [name, part, message] of wrong) {
    test(`rejects ${name}: the ${part} part is named`, () => {
      const r = checkName(name, acme);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.part, part);
      assert.match(r.message, message);
    });
  }

  test('timestamps must be real dates, 12 or 14 digits', () => {
    assert.equal(checkTimestamp('20240229235959'), undefined);
    assert.match(checkTimestamp('20230229000000')!, /not a real date/);
    assert.match(checkTimestamp('261120246000')!, /not a real date/);
  });

  test('report names: ndmat → cdmat, .pgp dropped, extension .csv; a badly named input keeps its name', () => {
    assert.equal(reportName('ndmat_acme_acme_dis_payroll_v2_261120092000.zip'), 'cdmat_acme_acme_dis_payroll_v2_261120092000.csv');
    assert.equal(reportName('ndmat_acme_acme_sal_261120090500.csv.pgp'), 'cdmat_acme_acme_sal_261120090500.csv');
    assert.equal(reportName('wrongname_sal.csv'), 'wrongname_sal.csv');
    assert.equal(reportName('data.xml'), 'data.csv');
  });

  test('a doubly suffixed name is refused, naming the suffixes; its report is named after the plain name', () => {
    const name = 'ndmat_acme_acme_sal_261120090500.csv.pgp.pgp';
    const check = checkName(name, { partner: 'acme', client: 'acme', flux: ['sal'] });
    assert.ok(!check.ok);
    assert.equal(check.part, 'extension');
    assert.equal(check.message, `"${name}" ends with 2 encryption suffixes (".pgp.pgp"): an encrypted file takes exactly one .pgp or .gpg `
      + 'after its extension (ndmat_acme_acme_sal_261120090500.csv.pgp); encrypt the file once and name it so');
    assert.equal(reportName(name), 'cdmat_acme_acme_sal_261120090500.csv');
    assert.equal(reportName('ndmat_acme_acme_sal_261120090500.csv.GPG.pgp'), 'cdmat_acme_acme_sal_261120090500.csv');
    assert.equal(plainName('x.csv.gpg.pgp'), 'x.csv');
    assert.equal(stripEncryptedSuffix('x.csv.gpg.pgp'), 'x.csv');
  });
});

describe('invisible characters in names', () => {
  test('found and named (code point, position in characters); ordinary names and accents are not', () => {
    assert.deepEqual(invisibleCharacter('ndmat_a.csv\u200B'), { codePoint: 'U+200B', position: 12 });
    assert.deepEqual(invisibleCharacter('é\u00A0x'), { codePoint: 'U+00A0', position: 2 });
    for (const c of ['\u200C', '\u200D', '\u2060', '\uFEFF', '\u202E', '\u3164', '\uFE0F', '\t', '\u0007', '\u2028', '\u3000']) {
      assert.ok(invisibleCharacter(`a${c}b`), `U+${c.codePointAt(0)!.toString(16)}`);
    }
    for (const name of ['ndmat_acme_acme_sal_261120090500.csv', 'Müller Zoë.csv', 'a-b_c.d']) assert.equal(invisibleCharacter(name), undefined, name);
  });

  test('a report name shows them, so that two reports never look alike in a listing', () => {
    assert.equal(visibleName('a\u200Bb\u200Bc'), 'a[U+200B]b[U+200B]c');
    assert.equal(reportName('ndmat_acme_acme_sal_2611200905\u200B00.csv'), 'cdmat_acme_acme_sal_2611200905[U+200B]00.csv');
  });
});
