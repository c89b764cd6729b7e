/**
 * `fluxgate/plugin-api/testing`: unit-testing a flux handler without a server.
 *
 *   const t = createTestContext({ input: 'sample.csv', handler: AbcHandler, directory: { employees: [...] } });
 *   const outcome = await new AbcHandler().handle(t.file, t.ctx);
 *   assert.equal(t.report.counts.created, 3);
 *   assert.equal(t.directory.rows().employees.length, 3);
 *
 * The records come from the given file through the engine's own reader, the directory is in
 * memory (MemoryDirectory, bound to the account as the engine binds it), the report is
 * collected (counts and messages), ctx.files works below a temporary folder with the
 * manifest's grant checks.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { configSchema } from '../config/schema';
import { DataPaths } from '../config/paths';
import { FluxgateError } from '../errors';
import type { FluxContext, IncomingFile, PluginSettings } from '../plugin-api/context';
import { getManifest, type FluxManifest } from '../plugin-api/manifest';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import { readRecords } from '../records';
import { bindDirectory } from '../workflow/account-directory';
import { checkName, plainName } from '../workflow/naming';
import { CollectingReportBuilder } from '../workflow/report-builder';
import { ManifestScopedFiles } from '../workflow/scoped-files';
import { MemoryDirectory, type DirectoryRows } from './memory-directory';

export { MemoryDirectory, type DirectoryRows } from './memory-directory';

export interface TestContextOptions {
  /** The file the handler processes (its records, openInput(), inputPath). */
  input: string;
  /** The name it was uploaded under (default: the file's own name): chooses CSV or XLSX, gives `file.naming`. */
  name?: string;
  /** The handler class, whose manifest ctx.files checks (or give `manifest`). */
  handler?: abstract new (...args: never[]) => unknown;
  manifest?: FluxManifest;
  /** The account the file belongs to (default `acme`, exchange). */
  accountId?: string;
  profile?: 'exchange' | 'dropbox';
  accountOptions?: Record<string, unknown>;
  /** The account's partner id in file names (default: the account id). */
  partner?: string;
  /** ctx.apply (default true); false as for a test file in production. */
  apply?: boolean;
  attempt?: number;
  environment?: string;
  /** The directory's rows before the run. */
  directory?: Partial<DirectoryRows>;
  /** Where ctx.files reads and writes (`<root>/sftp/<account>/…`, `<root>/vault/<account>/…`); default a new temporary folder. */
  root?: string;
  signal?: AbortSignal;
}

export interface TestContext {
  ctx: FluxContext;
  file: IncomingFile;
  /** The report the handler built: `counts`, `messages`. */
  report: CollectingReportBuilder;
  /** The directory after (and during) the run: `rows()`. */
  directory: MemoryDirectory;
  /** The temporary folder (or `root`) holding the account's tree and vault. */
  root: string;
  /** Absolute path of an account-relative path (`out/abc/x.csv`, `vault/abc/…`) under `root`. */
  path(relative: string): string;
  /** Log lines the handler wrote through ctx.log. */
  logs: Array<{ level: string; obj: object | string; msg?: string }>;
}

export function createTestContext(options: TestContextOptions): TestContext {
  const input = resolve(options.input);
  const manifest = options.manifest ?? getManifest(options.handler);
  if (!manifest) {
    throw new FluxgateError('FG_PLUGIN_INVALID', 'createTestContext needs the handler class (decorated with @fluxHandler) or its manifest: { handler: MyHandler }');
  }
  const accountId = options.accountId ?? 'acme';
  const profile = options.profile ?? (manifest.profiles?.[0] ?? 'exchange');
  const name = options.name ?? basename(input);
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'fluxgate-plugin-test-'));
  const paths = new DataPaths(root);
  const content = readFileSync(input);
  const naming = checkName(name, { partner: options.partner ?? accountId, client: accountId, flux: [manifest.flux] });
  const file: IncomingFile = {
    id: `test-${createHash('sha1').update(content).digest('hex').slice(0, 12)}`, accountId, profile, flux: manifest.flux, name,
    originalPath: `in/${manifest.flux}/${name}`, size: statSync(input).size,
    sha1: createHash('sha1').update(content).digest('hex'), sha256: createHash('sha256').update(content).digest('hex'),
    receivedAt: new Date(), isTest: naming.ok ? (naming.parts.version ?? '').toLowerCase() === 'tst' : false,
    naming: naming.ok ? { ...naming.parts } : undefined,
  };
  const defaults = configSchema.parse({});
  const settings: PluginSettings = {
    environment: options.environment ?? 'test',
    account: { id: accountId, profile, partner: options.partner ?? null, options: { ...options.accountOptions } },
    userProfiles: defaults.directory.userProfiles,
    documents: { maxEntries: defaults.documents.maxEntries, maxTotalUncompressedBytes: defaults.documents.maxTotalUncompressedBytes, maxCompressionRatio: defaults.documents.maxCompressionRatio },
  };
  const report = new CollectingReportBuilder();
  const directory = new MemoryDirectory(options.directory);
  const logs: TestContext['logs'] = [];
  const at = (level: string) => (obj: object | string, msg?: string) => { logs.push({ level, obj, msg }); };
  const signal = options.signal ?? new AbortController().signal;
  const ctx: FluxContext = {
    file,
    inputPath: input,
    openInput: (): Readable => createReadStream(input),
    records: (o: RecordReaderOptions): AsyncIterable<SourceRecord> => readRecords(input, { fileName: plainName(name), ...o }, signal),
    files: new ManifestScopedFiles(paths, accountId, manifest),
    report,
    directory: bindDirectory(directory, accountId, manifest.flux),
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    signal,
    apply: options.apply ?? true,
    attempt: options.attempt ?? 1,
    settings,
    fetch: () => Promise.reject(new FluxgateError('FG_PLUGIN_PERMISSION', 'ctx.fetch is not available in createTestContext: stub it (t.ctx.fetch = …) to test a handler that calls the network')),
  };
  const path = (relative: string): string => (relative === 'vault' || relative.startsWith('vault/')
    ? join(paths.vault(accountId), relative.slice('vault'.length))
    : join(paths.accountRoot(accountId), relative));
  return { ctx, file, report, directory, root, path, logs };
}
