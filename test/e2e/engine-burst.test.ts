import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

// A burst of files of one flux (issue #17, item 14): receipt names once took "the next free
// second", so 1,500 files got names 10 minutes in the future. They must stay at the real time
// (the protocol's 14-digit second, else with milliseconds) and never be shared.
const skip = skipUnless('sftp', 'ssh-keygen');
const FILES = 40;
let server: TestServer;
let probe: JournalProbe;
let key: TestKey;

before(async () => {
  if (skip) return;
  server = new TestServer({ config: { pgp: { signReports: false } } });
  key = await createAccount(server, 'acme');
  await server.start();
  probe = new JournalProbe(server);
});
after(async () => {
  if (skip) return;
  await server.cleanup();
});

/** `…_yyyymmddhhmmss[fff].xml` → epoch ms (server local time). */
function stampOf(path: string): number {
  const m = /_(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d{3})?\.xml$/.exec(path)!;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s, m[7] ? Number(m[7]) : 0).getTime();
}

test(`${FILES} files of one flux at once: receipt names within a second of the real time, none shared`, { skip }, async () => {
  const local = mkdtempSync(join(tmpdir(), 'fg-burst-'));
  const fixture = join(REPO_ROOT, 'test', 'fixtures', 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
  const names = Array.from({ length: FILES }, (_, i) => `ndmat_acme_acme_sir_hrmanager_v6_2611200900${String(i).padStart(2, '0')}.csv`);
  for (const name of names) copyFileSync(fixture, join(local, name));
  const r = await sftpBatch(server.port, 'acme', key.privatePath, names.map((n) => `put ${join(local, n)} in/sir/`));
  assert.equal(r.code, 0, r.stderr);

  const files = [];
  for (const name of names) files.push(await probe.finished(name, 60_000));
  const receipts = files.map((f) => f.receiptPath!);
  assert.equal(new Set(receipts).size, FILES, 'every file has its own receipt');
  for (const f of files) {
    assert.equal(f.state, 'processed');
    assert.match(basename(f.receiptPath!), /^cdmat_acme_tra_sir_\d{14}(\d{3})?\.xml$/);
    // The name is chosen just before the receipt is written: never after it, at most the
    // second's truncation before it (a second's margin for a slow write).
    const ahead = stampOf(f.receiptPath!) - f.receiptWrittenAt!;
    assert.ok(ahead <= 0 && ahead > -2000, `${basename(f.receiptPath!)} is ${ahead} ms from the time it was written`);
    assert.match(readFileSync(f.receiptPath!, 'utf8'), new RegExp(`<file_name>${f.name}</file_name>`));
  }
});
