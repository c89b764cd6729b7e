import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import type { Employee, DirectoryDocument, DirectoryUser, Organization } from '../../core/plugin-api';
import { addAccount, directory, FIXTURES, renamedCopy, reportLines, uploadAndWait } from './fixtures-support';

// Every exchange fixture, uploaded over SFTP in the order the fixtures README gives (sir first),
// produces what the README says, and the directory holds the right rows afterwards.
const EX = join(FIXTURES, 'exchange');
const BAD = join(FIXTURES, 'bad');
const skip = skipUnless('sftp', 'ssh-keygen');
let server: TestServer;
let key: TestKey;

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'acme');
});
after(async () => { await server?.cleanup(); });

test('sir: 7 organizations, a tree rooted at ACME', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(EX, 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'), 'in/sir/');
  assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
  assert.equal(file.outcome?.counts?.created, 7);
  const orgs = await directory<Organization>(server, 'organizations', 'acme');
  assert.equal(orgs.length, 7);
  const byCode = new Map(orgs.map((o) => [o.code, o]));
  assert.equal(byCode.get('ACME')!.parentCode, null);
  assert.equal(byCode.get('ACME-FR-PAR')!.parentCode, 'ACME-FR');
  assert.equal(byCode.get('ACME-FR-PAR')!.name, 'Acme Paris; Siège');
  assert.ok(orgs.every((o) => o.code === 'ACME' || byCode.has(o.parentCode!)), 'every parent exists');
  const report = reportLines(server, 'acme', file);
  assert.equal(report.filter((l) => l.message === 'created').length, 7);
  // The same through the CLI's table, and its refusal of an unknown account.
  const table = await server.cli('directory', 'organizations', '--account', 'acme');
  assert.match(table.stdout, /^code\s+parentCode\s+name$/m);
  assert.match(table.stdout, /^ACME-FR-PAR\s+ACME-FR\s+Acme Paris; Siège$/m);
  assert.match(table.stdout, /^7 organizations$/m);
  const unknown = await server.cli('directory', 'employees', '--account', 'nobody');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /FG_ACCOUNT_NOT_FOUND/);
});

test('sal: 60 employees, leavers inactive with their departure date, leading zeros kept', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(EX, 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv'), 'in/sal/');
  assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
  assert.deepEqual({ ...file.outcome?.counts }, { created: 60, updated: 0, unchanged: 0, rejected: 0 });
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.equal(employees.length, 60);
  const leavers = employees.filter((e) => !e.active).map((e) => [e.registrationReference, e.departureDate]);
  assert.deepEqual(leavers.map(([r]) => r).sort(), ['000003', '000020']);
  assert.equal(leavers.find(([r]) => r === '000003')![1], '2017-06-30');
  const obrien = employees.find((e) => e.registrationReference === '000010')!;
  assert.equal(obrien.lastname, "O'Brien");
  assert.equal(obrien.organizationCode, 'ACME-DE-BER');
  assert.equal(employees.find((e) => e.registrationReference === '000017')!.attributes.address2, 'Bât. B; Esc 3');
});

test('usr: 8 users, several organizations per user, configured profiles', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(EX, 'ndmat_acme_acme_usr_hrmanager_v6_261120091000.csv'), 'in/usr/');
  assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
  assert.equal(file.outcome?.counts?.created, 8);
  assert.equal(file.outcome?.counts?.rejected, 0);
  const users = await directory<DirectoryUser>(server, 'users', 'acme');
  assert.equal(users.length, 8);
  assert.deepEqual(users.find((u) => u.login === 'hr.admin3')!.organizationCodes, ['ACME-FR', 'ACME-DE']);
  assert.equal(users.find((u) => u.login === 'hr.admin4')!.lastname, "O'Brien");
  assert.deepEqual([...new Set(users.map((u) => u.profileCode))].sort(), ['HR_ADMIN', 'HR_MANAGER', 'PAYROLL']);
});

test('dis: 5 payslips matched to their employees and stored in the vault', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(EX, 'ndmat_acme_acme_dis_payroll_v2_261120092000.zip'), 'in/dis/');
  assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
  assert.equal(file.outcome?.counts?.created, 5);
  const docs = await directory<DirectoryDocument>(server, 'documents', 'acme');
  assert.equal(docs.length, 5);
  const first = docs.find((d) => d.externalReference === 'PAY-2026-10-0001')!;
  assert.equal(first.organizationCode, 'ACME-DE-BER');
  assert.equal(first.registrationReference, '000001');
  assert.equal(first.documentDate, '2026-10-31');
  const vault = join(server.dataDir, 'vault', 'acme', 'documents');
  assert.deepEqual(readdirSync(vault).sort(), docs.map((d) => `${d.sha256}.pdf`).sort());
  assert.ok(!existsSync(join(server.dataDir, 'sftp', 'acme', 'vault')), 'the vault is outside the SFTP tree');
});

test('re-sending the same files changes nothing and reports unchanged', { skip }, async () => {
  const sal = await uploadAndWait(server, 'acme', key, renamedCopy(join(EX, 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv'), 'ndmat_acme_acme_sal_hrmanager_v6_261120100500.csv'), 'in/sal/');
  assert.deepEqual({ ...sal.outcome?.counts }, { created: 0, updated: 0, unchanged: 60, rejected: 0 });
  const dis = await uploadAndWait(server, 'acme', key, renamedCopy(join(EX, 'ndmat_acme_acme_dis_payroll_v2_261120092000.zip'), 'ndmat_acme_acme_dis_payroll_v2_261120102000.zip'), 'in/dis/');
  assert.equal(dis.outcome?.counts?.unchanged, 5);
  assert.equal(readdirSync(join(server.dataDir, 'vault', 'acme', 'documents')).length, 5);
  assert.equal((await directory(server, 'employees', 'acme')).length, 60);
});

test('bad/…093000: the row with an unknown organization is rejected, the others apply', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(BAD, 'ndmat_acme_acme_sal_hrmanager_v6_261120093000.csv'), 'in/sal/');
  assert.equal(file.state, 'processed');
  assert.equal(file.outcome?.counts?.rejected, 1);
  assert.equal(file.outcome?.counts?.unchanged, 2);
  const errors = reportLines(server, 'acme', file).filter((l) => l.code === 'FG_UNKNOWN_REF');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, '4');
  assert.equal(errors[0].field, 'organization_code');
  assert.equal(errors[0].column, '1');
  assert.match(errors[0].message, /NO-SUCH-ORG-PAR/);
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.ok(!employees.some((e) => e.organizationCode === 'NO-SUCH-ORG-PAR'));
});

test('bad/…093100: Windows-1252 is rejected whole with the byte offset, kept in quarantine, reported', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(BAD, 'ndmat_acme_acme_sal_hrmanager_v6_261120093100.csv'), 'in/sal/');
  assert.equal(file.state, 'rejected');
  assert.equal(file.outcome?.code, 'FG_ENCODING');
  assert.match(file.outcome?.summary ?? '', /byte offset 677/);
  assert.match(file.location, /quarantine/);
  assert.ok(existsSync(file.location.startsWith('/') ? file.location : join(server.dataDir, file.location)), 'the rejected file is kept');
  assert.ok(file.report, 'a report is written');
});

test('bad/…093200: the same key twice with different data rejects both rows', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(BAD, 'ndmat_acme_acme_sal_hrmanager_v6_261120093200.csv'), 'in/sal/');
  assert.equal(file.state, 'processed');
  const dups = reportLines(server, 'acme', file).filter((l) => l.code === 'FG_DUP_IN_FILE');
  assert.deepEqual(dups.map((d) => d.line).sort(), ['3', '6']);
  assert.ok(dups.every((d) => d.entity_id === 'ACME-DE/000002'));
  assert.equal(file.outcome?.counts?.rejected, 2);
  const e2 = (await directory<Employee>(server, 'employees', 'acme')).find((e) => e.registrationReference === '000002')!;
  assert.equal(e2.firstname, 'Thandiwe', 'neither version of the duplicated row was applied');
});

test('bad/wrongname_sal.csv: rejected for its name, kept, reported', { skip }, async () => {
  const file = await uploadAndWait(server, 'acme', key, join(BAD, 'wrongname_sal.csv'), 'in/sal/');
  assert.equal(file.state, 'rejected');
  assert.equal(file.outcome?.code, 'FG_NAME_CONVENTION');
  assert.match(file.location, /quarantine/);
});
