import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import type { Employee } from '../../core/plugin-api';
import { addAccount, directory, reportLines, uploadAndWait, uploadOrganizations } from './fixtures-support';

// A sal file whose lines end in lone CRs (old Mac style) mixed with CRLF and LF, uploaded over
// OpenSSH's sftp: every row is in the report and in the directory, on its own line number.
const skip = skipUnless('sftp', 'ssh-keygen');
let server: TestServer;
let key: TestKey;

const HEADER = 'organization_code;registration_reference;lastname;firstname;professional_email;birth_date;starting_date;active';
const row = (i: number) => `ACME-FR;${String(i).padStart(4, '0')};Martin;Anna;a${i}@acme.example;1980-01-01;2020-01-01;true`;
const ENDINGS = ['\r', '\r\n', '\n', '\r', '\r'];

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'acme');
  await uploadOrganizations(server, 'acme', key);
});
after(async () => { await server?.cleanup(); });

test('sal with lone-CR line ends mixed with CRLF and LF: all 20 rows applied and reported', { skip }, async () => {
  let text = `${HEADER}\r\n`;
  for (let i = 1; i <= 20; i++) text += row(i) + ENDINGS[i % ENDINGS.length];
  const path = join(mkdtempSync(join(tmpdir(), 'fg-cr-')), 'ndmat_acme_acme_sal_hrmanager_v6_261121130000.csv');
  writeFileSync(path, text);

  const f = await uploadAndWait(server, 'acme', key, path, 'in/sal/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  assert.deepEqual({ ...f.outcome?.counts }, { created: 20, updated: 0, unchanged: 0, rejected: 0 });
  const report = reportLines(server, 'acme', f);
  assert.deepEqual(report.filter((l) => l.message === 'created').map((l) => Number(l.line)),
    Array.from({ length: 20 }, (_, i) => i + 2), 'one report line per row, on the row\'s own line number');
  assert.deepEqual(report.filter((l) => l.severity === 'error'), []);
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.deepEqual(employees.map((e) => e.registrationReference).sort(), Array.from({ length: 20 }, (_, i) => String(i + 1).padStart(4, '0')));
});
