import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { AccountProfile } from '../store/accounts-repository';
import type { RecordedOutput } from '../store/ports/jobs';
import { isPartialUpload } from '../upload-names';
import { PUBLIC_KEY_DIR, SIGNATURE_SUFFIXES, SUBSCRIPTION_DIR, type RetentionRule } from './rules';

export interface TreeFile {
  abs: string;
  /** Account-relative, with `/` separators (`out/sal/x.xml`). */
  rel: string;
  st: Stats;
}

/** Every regular file under root (symbolic links are neither followed nor touched). */
export async function* walkFiles(root: string, dir = root): AsyncGenerator<TreeFile> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const entry of entries) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* walkFiles(root, abs);
    } else if (entry.isFile()) {
      const st = await lstat(abs).catch(() => undefined);
      if (st?.isFile()) yield { abs, rel: relative(root, abs).split(sep).join('/'), st };
    }
  }
}

export type Classification =
  | { kind: 'rule'; rule: RetentionRule; since?: number; fileId?: string | null }
  | { kind: 'skip'; reason: 'engine' | 'journal' | 'public-key' | 'not-retained' };

export interface ClassifyInput {
  file: TreeFile;
  profile: AccountProfile;
  /** The journal row (not deleted) at an absolute location. */
  journalAt: (location: string) => Promise<{ state: string } | undefined>;
  /** The last recorded write of a report or receipt at a path (absolute, or account-relative in old records). */
  outputAt: (path: string) => Promise<RecordedOutput | undefined>;
}

const ENGINE_STATES = new Set(['received', 'processing', 'failed']);

/**
 * Which rule applies to a file found in an account tree. `since` is set when the journal
 * knows when the file's clock started; otherwise the caller uses the first-seen registry.
 */
export async function classify({ file, profile, journalAt, outputAt }: ClassifyInput): Promise<Classification> {
  const name = basename(file.rel);
  const row = await journalAt(file.abs);
  if (row) return { kind: 'skip', reason: ENGINE_STATES.has(row.state) ? 'engine' : 'journal' };
  if (isPartialUpload(name)) return { kind: 'rule', rule: 'partial-upload' };
  if (file.rel.startsWith('out/')) {
    const output = await findOutput(file, outputAt);
    const subscription = file.rel.startsWith(SUBSCRIPTION_DIR);
    if (output) return { kind: 'rule', rule: subscription ? 'subscription-report' : 'report', since: output.createdAt, fileId: output.fileId };
    if (subscription) return { kind: 'rule', rule: 'subscription-report' };
    if (file.rel.startsWith(PUBLIC_KEY_DIR)) return { kind: 'skip', reason: 'public-key' };
    return { kind: 'rule', rule: 'out-other' };
  }
  if (profile === 'dropbox' || file.rel.startsWith('in/')) return { kind: 'rule', rule: 'unmatched' };
  return { kind: 'skip', reason: 'not-retained' };
}

async function findOutput(file: TreeFile, outputAt: (path: string) => Promise<RecordedOutput | undefined>): Promise<RecordedOutput | undefined> {
  const direct = await outputAt(file.abs) ?? await outputAt(file.rel);
  if (direct) return direct;
  const suffix = SIGNATURE_SUFFIXES.find((s) => file.rel.endsWith(s));
  if (!suffix) return undefined;
  return await outputAt(file.abs.slice(0, -suffix.length)) ?? await outputAt(file.rel.slice(0, -suffix.length));
}
