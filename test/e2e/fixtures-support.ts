import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import type { TestServer } from '../helpers/server';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export interface FileView {
  id: string; name: string; state: string; flux: string | null; report: string | null; location: string;
  outcome: { result: string; code?: string; summary?: string; counts?: Record<string, number> } | null;
}

export interface ReportLine { line: string; column: string; field: string; severity: string; code: string; entity_id: string; message: string }

export async function addAccount(server: TestServer, id: string, profile: 'exchange' | 'dropbox' = 'exchange'): Promise<TestKey> {
  const key = makeKey();
  const r = await server.cli('account', 'add', id, '--key', key.publicPath, '--profile', profile);
  if (r.code !== 0) throw new Error(`account add failed: ${r.stderr}`);
  return key;
}

/** Copies a fixture under another name (a new timestamp), e.g. to send the same content twice. */
export function renamedCopy(path: string, name: string): string {
  const target = join(mkdtempSync(join(tmpdir(), 'fg-fx-')), name);
  copyFileSync(path, target);
  return target;
}

/** Uploads with OpenSSH sftp, then waits until the journal has finished with the file. */
export async function uploadAndWait(server: TestServer, account: string, key: TestKey, local: string, remoteDir: string): Promise<FileView> {
  const r = await sftpBatch(server.port, account, key.privatePath, [`put ${local} ${remoteDir}`]);
  if (r.code !== 0) throw new Error(`sftp put failed (${r.code}): ${r.stderr}`);
  return waitForFile(server, account, basename(local));
}

/** The organizations of the sir fixture, in `account`'s directory (what sal rows refer to); throws unless processed. */
export async function uploadOrganizations(server: TestServer, account: string, key: TestKey): Promise<void> {
  const sir = await uploadAndWait(server, account, key, join(FIXTURES, 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'), 'in/sir/');
  if (sir.state !== 'processed') throw new Error(`the organizations (sir fixture) were not applied: ${JSON.stringify(sir)}`);
}

export async function waitForFile(server: TestServer, account: string, name: string, timeoutMs = 30_000): Promise<FileView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await server.cli('files', '--account', account, '--json');
    const files = r.code === 0 ? JSON.parse(r.stdout) as FileView[] : [];
    const done = files.find((f) => f.name === name && ['processed', 'rejected', 'dead'].includes(f.state));
    if (done) return done;
    if (Date.now() > deadline) throw new Error(`${name} was not processed in ${timeoutMs} ms: ${JSON.stringify(files.filter((f) => f.name === name))}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

/** The messages of a report (the table after the summary block). */
export function reportLines(server: TestServer, account: string, file: FileView): ReportLine[] {
  if (!file.report) throw new Error(`${file.name} has no report`);
  const path = file.report.startsWith('/') ? file.report : join(server.dataDir, 'sftp', account, file.report);
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const table = text.slice(text.indexOf('line;column;field'));
  return parse<ReportLine>(table, { delimiter: ';', columns: true, relax_quotes: true, skip_empty_lines: true });
}

export async function directory<T = Record<string, unknown>>(server: TestServer, kind: 'organizations' | 'employees' | 'users' | 'documents', account: string): Promise<T[]> {
  const r = await server.cli('directory', kind, '--account', account, '--json');
  if (r.code !== 0) throw new Error(`directory ${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}
