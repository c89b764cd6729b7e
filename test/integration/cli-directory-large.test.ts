import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { JobsFixture } from './jobs-support';

// The CLI's tables used Math.max(...cells), which overflows the stack past ~100,000 rows.
const EMPLOYEES = 150_000;
let fx: JobsFixture;

before(async () => {
  fx = new JobsFixture();
  await (await fx.accountService()).create({ id: 'big' });
  const directory = new SqliteDirectoryRows(fx.db);
  directory.transaction(() => {
    directory.upsertOrganization('big', { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
    for (let n = 0; n < EMPLOYEES; n++) {
      directory.createEmployee('big', {
        organizationCode: 'ACME', registrationReference: String(n).padStart(6, '0'), technicalId: null, email: null,
        lastname: `Name${n}`, firstname: 'Ann', active: true, departureDate: null, attributes: {},
      });
    }
  });
});
after(async () => { await fx.cleanup(); });

test(`fluxgate directory employees prints a table of ${EMPLOYEES.toLocaleString('en')} employees`, async () => {
  const r = await fx.srv.cli('directory', 'employees', '--account', 'big');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, EMPLOYEES + 2, 'the header, a line per employee, the count');
  assert.match(lines[0], /^organizationCode +registrationReference +lastname +firstname/);
  assert.match(lines[EMPLOYEES], /^ACME +149999 +Name149999 +Ann/);
  assert.equal(lines[EMPLOYEES + 1], '150000 employees');
});
