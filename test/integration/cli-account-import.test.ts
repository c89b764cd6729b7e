import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOn, TestServer } from '../helpers/server';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { EXCHANGE_TREE } from '../../core/accounts/account-tree';

// `account import` / `account export` as an operator runs them: real CLI processes on a temp data
// dir, real keys from ssh-keygen, and an imported account logging in with OpenSSH's sftp.
const skip = skipUnless('ssh-keygen');

const made: string[] = [];
function workDir(): { dir: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-import-'));
  made.push(dir);
  return { dir, dataDir: join(dir, 'var') };
}
after(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });
const cli = (dataDir: string, ...args: string[]) => cliOn(dataDir, args);

interface RowJson { line: number; id: string; status: string; code?: string; message?: string }
interface ReportJson { file: string; dryRun: boolean; counts: Record<string, number>; rows: RowJson[] }
interface AccountJson { id: string; profile: string; partner: string | null; enabled: boolean; allowIps: string[]; keys: Array<{ fingerprint: string; comment: string }> }

async function importJson(dataDir: string, file: string, ...extra: string[]): Promise<{ code: number | null; report: ReportJson }> {
  const r = await cli(dataDir, 'account', 'import', file, '--json', ...extra);
  assert.equal(r.stderr.trim(), '', 'rows refused are in the result, not errors');
  return { code: r.code, report: JSON.parse(r.stdout) as ReportJson };
}

async function accounts(dataDir: string): Promise<AccountJson[]> {
  const r = await cli(dataDir, 'account', 'list', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AccountJson[];
}

/** The RFC 4716 form of a key, as `ssh-keygen -e` (and PuTTYgen) write it: several lines. */
const rfc4716 = (key: TestKey): string => execFileSync('ssh-keygen', ['-e', '-f', key.publicPath], { encoding: 'utf8' }).trim();
/** A CSV cell: quoted, quotes doubled (what a spreadsheet writes for a value with newlines). */
const quoted = (value: string): string => `"${value.replace(/"/g, '""')}"`;
/** The key's OpenSSH line with another comment (the comment is not part of the key). */
const withComment = (key: TestKey, comment: string): string => `${key.publicKey.split(' ').slice(0, 2).join(' ')} ${comment}`;

describe('fluxgate account import / export', { concurrency: true }, () => {
  test('good rows are created, bad rows refused with their line and code and nothing of them created; CRLF and multi-line cells keep line numbers', { skip }, async () => {
    const { dir, dataDir } = workDir();
    const [a, b, c] = [makeKey('ed25519'), makeKey('ed25519'), makeKey('ed25519')];
    const weak = makeKey('rsa', 2048);
    const rsa = makeKey('rsa', 3072);
    const lines = [
      'id,profile,partner,keys,allow_ips',                                       // 1
      `acme,exchange,hrtech,${a.publicKey}|${rsa.publicKey},203.0.113.0/24|2001:db8::1`, // 2
      `rfc,dropbox,,${quoted(rfc4716(b))},`,                                     // 3-6: an RFC 4716 key over 4 lines
      '',                                                                        // 7: blank lines are skipped
      `Bad!,exchange,,${c.publicKey},`,                                          // 8
      `weak,,,${weak.publicKey},`,                                               // 9
      `twice,,,${c.publicKey},`,                                                 // 10
      `twice,,,${b.publicKey},`,                                                 // 11
      'nokey,,,,',                                                               // 12
      `badip,,,${c.publicKey},10.0.0.0/40`,                                      // 13
      `badpartner,,not a partner!,${c.publicKey},`,                              // 14
      `ftp,ftp,,${c.publicKey},`,                                                // 15
      `private,,,${quoted(readFileSync(a.privatePath, 'utf8').trim())},`, // 16-22
      `twokeys,,,${c.publicKey}|${c.publicKey},`,                                // 23
      `commas,,,${c.publicKey},10.0.0.1,extra`,                                  // 24
      `plain,,,${c.publicKey},`,                                                 // 25
    ];
    const file = join(dir, 'accounts.csv');
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);

    const { code, report } = await importJson(dataDir, file);
    assert.equal(code, 1, 'refused rows make the exit code 1');
    assert.equal(report.dryRun, false);
    const got = report.rows.map((r) => [r.line, r.id, r.status, r.code ?? null]);
    assert.deepEqual(got, [
      [2, 'acme', 'created', null],
      [3, 'rfc', 'created', null],
      [8, 'Bad!', 'refused', 'FG_ACCOUNT_ID'],
      [9, 'weak', 'refused', 'FG_KEY_WEAK'],
      [10, 'twice', 'refused', 'FG_DUP_IN_FILE'],
      [11, 'twice', 'refused', 'FG_DUP_IN_FILE'],
      [12, 'nokey', 'refused', 'FG_REQUIRED'],
      [13, 'badip', 'refused', 'FG_ALLOWLIST'],
      [14, 'badpartner', 'refused', 'FG_PARTNER_ID'],
      [15, 'ftp', 'refused', 'FG_ACCOUNT_PROFILE'],
      [16, 'private', 'refused', 'FG_KEY_PRIVATE'],
      [23, 'twokeys', 'refused', 'FG_KEY_EXISTS'],
      [24, 'commas', 'refused', 'FG_FIELD_COUNT'],
      [25, 'plain', 'created', null],
    ]);
    assert.deepEqual(report.counts, { created: 3, unchanged: 0, conflict: 0, refused: 11 });
    assert.match(report.rows.find((r) => r.line === 9)!.message!, /at least 3072 bits/);
    assert.match(report.rows.find((r) => r.line === 10)!.message!, /lines 10, 11/);

    const stored = await accounts(dataDir);
    assert.deepEqual(stored.map((s) => s.id), ['acme', 'plain', 'rfc'], 'only the good rows were created');
    const acme = stored.find((s) => s.id === 'acme')!;
    assert.deepEqual([acme.profile, acme.partner, acme.allowIps, acme.enabled], ['exchange', 'hrtech', ['203.0.113.0/24', '2001:db8::1/128'], true]);
    assert.deepEqual(acme.keys.map((k) => k.fingerprint), [a.fingerprint, rsa.fingerprint]);
    const rfc = stored.find((s) => s.id === 'rfc')!;
    assert.deepEqual([rfc.profile, rfc.keys.map((k) => k.fingerprint)], ['dropbox', [b.fingerprint]]);
    for (const d of EXCHANGE_TREE) assert.ok(statSync(join(dataDir, 'sftp', 'acme', d)).isDirectory(), d);
    assert.deepEqual(readdirSync(join(dataDir, 'sftp', 'rfc')), [], 'a dropbox is just its root');
    assert.deepEqual(readdirSync(join(dataDir, 'sftp')).sort(), ['acme', 'plain', 'rfc'], 'no tree for a refused row');

    // Text output: one line per row, codes on refused rows, the counts.
    const text = await cli(dataDir, 'account', 'import', file);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^LINE\s+ID\s+STATUS\s+CODE\s+MESSAGE$/m);
    assert.match(text.stdout, /^9\s+weak\s+refused\s+FG_KEY_WEAK\s+RSA keys need at least 3072 bits/m);
    assert.match(text.stdout, /^2\s+acme\s+unchanged$/m);
    assert.match(text.stdout, /: 0 accounts created, 3 unchanged, 0 conflicts, 11 refused$/m);
  });

  test('--dry-run checks every row against the store and writes nothing', { skip }, async () => {
    const { dir, dataDir } = workDir();
    const [a, b] = [makeKey('ed25519'), makeKey('ed25519')];
    assert.equal((await cli(dataDir, 'account', 'add', 'taken', '--key', a.publicPath)).code, 0);
    const file = join(dir, 'accounts.csv');
    writeFileSync(file, ['id,keys', `fresh,${b.publicKey}`, `taken,${b.publicKey}`, `also,${a.publicKey}`, ''].join('\n'));
    const { code, report } = await importJson(dataDir, file, '--dry-run');
    assert.equal(code, 1);
    assert.equal(report.dryRun, true);
    assert.deepEqual(report.rows.map((r) => [r.id, r.status, r.code ?? null]), [
      ['fresh', 'created', null], ['taken', 'conflict', 'FG_ACCOUNT_CONFLICT'], ['also', 'created', null],
    ]);
    assert.deepEqual((await accounts(dataDir)).map((s) => s.id), ['taken'], 'no account written');
    assert.deepEqual(readdirSync(join(dataDir, 'sftp')), ['taken'], 'no tree made');
    const text = await cli(dataDir, 'account', 'import', file, '--dry-run');
    assert.match(text.stdout, /^2\s+fresh\s+would create$/m);
    assert.match(text.stdout, /^dry run of .*, nothing written: 2 accounts would be created, 0 unchanged, 1 conflict, 0 refused$/m);
  });

  test('running the same file again changes nothing and says so; a row that differs is a conflict and the account is left as it is', { skip }, async () => {
    const { dir, dataDir } = workDir();
    const [a, b] = [makeKey('ed25519'), makeKey('ed25519')];
    const file = join(dir, 'accounts.csv');
    writeFileSync(file, ['id,profile,partner,keys,allow_ips', `acme,,hrtech,${a.publicKey},10.0.0.0/8`, `beta,dropbox,,${b.publicKey},`, ''].join('\n'));
    assert.equal((await importJson(dataDir, file)).report.counts.created, 2);
    const before = await accounts(dataDir);

    const again = await importJson(dataDir, file);
    assert.equal(again.code, 0);
    assert.deepEqual(again.report.rows.map((r) => r.status), ['unchanged', 'unchanged']);
    const text = await cli(dataDir, 'account', 'import', file);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /0 accounts created, 2 unchanged, 0 conflicts, 0 refused\nnothing to do: every account of the file exists as described\n$/);
    assert.deepEqual(await accounts(dataDir), before);

    writeFileSync(file, ['id,profile,partner,keys,allow_ips,enabled', `acme,,other,${b.publicKey},10.0.0.0/8,false`, `beta,dropbox,,${b.publicKey},,`, ''].join('\n'));
    const changed = await importJson(dataDir, file);
    assert.equal(changed.code, 1);
    const [conflict, same] = changed.report.rows;
    assert.deepEqual([conflict.status, conflict.code, same.status], ['conflict', 'FG_ACCOUNT_CONFLICT', 'unchanged']);
    assert.match(conflict.message!, /partner is "hrtech" \(the file: "other"\)/);
    assert.match(conflict.message!, new RegExp(`key ${a.fingerprint.replace(/[+/]/g, '\\$&')} not in the file`));
    assert.match(conflict.message!, /it is enabled \(the file: disabled\)/);
    assert.deepEqual(await accounts(dataDir), before, 'a conflicting row modifies nothing');
  });

  test('export (CSV, JSON) → import on a fresh data dir recreates the same accounts and keys', { skip }, async () => {
    const { dir, dataDir } = workDir();
    const [a, b, c] = [makeKey('ed25519'), makeKey('ed25519'), makeKey('rsa', 3072)];
    const file = join(dir, 'accounts.csv');
    writeFileSync(file, [
      'id,profile,partner,keys,allow_ips,enabled',
      `acme,exchange,hrtech,${quoted(`${withComment(a, 'ops|team, "night"')}|${rfc4716(c)}`)},203.0.113.0/24|2001:db8::/32,`,
      `drop,dropbox,,${b.publicKey},,`,
      `off,exchange,,${b.publicKey},,false`,
      '',
    ].join('\n'));
    assert.equal((await importJson(dataDir, file)).report.counts.created, 3);
    const original = await accounts(dataDir);
    assert.deepEqual(original.find((s) => s.id === 'acme')!.keys.map((k) => [k.fingerprint, k.comment]), [[a.fingerprint, 'ops|team, "night"'], [c.fingerprint, /^Comment: "(.*)"$/m.exec(rfc4716(c))![1]]]);
    assert.equal(original.find((s) => s.id === 'off')!.enabled, false);

    const csv = await cli(dataDir, 'account', 'export');
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^id,profile,partner,keys,allow_ips,enabled\n/);
    const exported = join(dir, 'exported.csv');
    writeFileSync(exported, csv.stdout);
    const fresh = workDir().dataDir;
    const imported = await importJson(fresh, exported);
    assert.deepEqual([imported.code, imported.report.counts], [0, { created: 3, unchanged: 0, conflict: 0, refused: 0 }]);
    const shape = (list: AccountJson[]) => list.map((s) => ({
      id: s.id, profile: s.profile, partner: s.partner, enabled: s.enabled, allowIps: s.allowIps, keys: s.keys.map((k) => [k.fingerprint, k.comment]),
    }));
    assert.deepEqual(shape(await accounts(fresh)), shape(original));
    assert.deepEqual((await importJson(dataDir, exported)).report.counts, { created: 0, unchanged: 3, conflict: 0, refused: 0 }, 'the export describes the store it came from');

    const json = await cli(dataDir, 'account', 'export', '--json');
    const parsed = JSON.parse(json.stdout) as { accounts: Array<{ id: string; keys: string[]; allowIps: string[]; enabled: boolean }>; purged: string[] };
    assert.deepEqual(parsed.accounts.map((x) => [x.id, x.keys.length, x.allowIps.length, x.enabled]), [['acme', 2, 2, true], ['drop', 1, 0, true], ['off', 1, 0, false]]);
    assert.deepEqual(parsed.purged, []);
    const both = await cli(dataDir, 'account', 'export', '--csv', '--json');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /FG_USAGE/);
  });

  test('file-level problems refuse the whole file, with the line and code, and create nothing', { skip }, async () => {
    const { dir, dataDir } = workDir();
    const key = makeKey('ed25519');
    const cases: Array<[string, string | Buffer, string, RegExp]> = [
      ['missing.csv', `id,profile\nacme,exchange\n`, 'FG_MISSING_COLUMN', /keys/],
      ['typo.csv', `id,keys,allow_ip\nacme,${key.publicKey},10.0.0.0/8\n`, 'FG_CSV', /unknown column "allow_ip".*line 1/],
      ['semicolons.csv', `id;keys\nacme;${key.publicKey}\n`, 'FG_SEPARATOR', /semicolon/],
      ['latin1.csv', Buffer.concat([Buffer.from(`id,partner,keys\nacme,`), Buffer.from([0xe9]), Buffer.from(`,${key.publicKey}\n`)]), 'FG_ENCODING', /line 2/],
      ['quote.csv', `id,keys\nacme,${key.publicKey}\nbeta,"${key.publicKey}\n`, 'FG_UNTERMINATED_QUOTE', /line 3/],
      ['empty.csv', '', 'FG_EMPTY_FILE', /header/],
    ];
    for (const [name, content, code, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      const r = await cli(dataDir, 'account', 'import', file, '--json');
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      const error = (JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code, `${name}: ${error.message}`);
      assert.match(error.message, message, name);
    }
    const missing = await cli(dataDir, 'account', 'import', join(dir, 'nope.csv'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the accounts file .*nope\.csv: ENOENT \[FG_USAGE\]/);
    assert.deepEqual(await accounts(dataDir), []);
    assert.ok(!existsSync(join(dataDir, 'sftp')) || readdirSync(join(dataDir, 'sftp')).length === 0);
  });

});

// After the others, not beside them: a server starting next to a dozen CLI processes can miss its 30 s start-up budget on a loaded machine.
describe('fluxgate account import with the server running', () => {
  test('an imported account logs in with OpenSSH sftp (server running during the import)', { skip: skipUnless('sftp', 'ssh-keygen') }, async () => {
    const server = new TestServer();
    made.push(server.dir);
    try {
      await server.start();
      const [a, b] = [makeKey('ed25519'), makeKey('ed25519')];
      const file = join(server.dir, 'accounts.csv');
      writeFileSync(file, ['id,profile,partner,keys,allow_ips', `acme,exchange,,${quoted(rfc4716(a))},127.0.0.1`, `fenced,exchange,,${b.publicKey},203.0.113.0/24`, ''].join('\n'));
      const r = await server.cli('account', 'import', file);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const ls = await sftpBatch(server.port, 'acme', a.privatePath, ['ls -1 /', 'ls -1 /in']);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /^\/?in$/m);
      assert.match(ls.stdout, /\bsal\b/);
      const refused = await sftpBatch(server.port, 'fenced', b.privatePath, ['ls /']);
      assert.notEqual(refused.code, 0, 'the imported allowlist applies');
    } finally {
      await server.cleanup();
    }
  });
});
