import type { IncomingFile, PluginSettings } from '../plugin-api/context';
import { ABSENT_FIELDS } from '../plugin-api/directory';
import type { FluxManifest } from '../plugin-api/manifest';
import type { FluxCounts, FluxOutcome } from '../plugin-api/outcome';
import type { ReportMessage } from '../plugin-api/report';
import type { RecordReaderOptions } from '../plugin-api/records';
import type { EngineTimings } from './run-timings';

/**
 * Messages between a sandboxed plugin (child.ts) and the engine's side of the sandbox
 * (host-worker.ts). The child's fd 3 carries its requests and events, fd 4 the answers.
 */

/** A plugin module compiled to one CommonJS file (its npm dependencies stay outside). */
export interface PluginBundle {
  /** The module's own path: relative requires and node_modules resolve from there. */
  filename: string;
  code: string;
}

/** The first frame the child reads: what to run, on what, with which grants. */
export interface Job {
  bundle: PluginBundle;
  className: string;
  manifest: FluxManifest;
  incoming: Omit<IncomingFile, 'receivedAt'> & { receivedAt: string };
  settings: PluginSettings;
  apply: boolean;
  attempt: number;
  inputPath: string;
  /** The uploaded name, which chooses the record reader's format (the input may be a work file). */
  fileName: string;
  accountRoot: string;
  vaultRoot: string;
  /**
   * What a constructor's `@inject(PluginTokens.Config)` gets in a sandbox: the settings a handler
   * may need, never the whole configuration (keys, tokens, passwords of the server's parts).
   */
  config: { environment: string; directory: { userProfiles: readonly string[] }; documents: PluginSettings['documents'] };
}

/** The reader options that cross to the engine (normalizeHeader, a function, and `required` stay in the sandbox). */
export type RecordsRequest = Pick<RecordReaderOptions, 'dialect' | 'format' | 'fileName'>;

/**
 * `counts`: consecutive report.count calls, flat (kind, entity id or null, line or null, …):
 * a sal file counts every row, and 200,000 small arrays cost the sandbox, the engine's worker
 * and the main thread (structured clone) several times what one flat array does.
 * `tally`: counts whose messages the report would not keep (past its caps), and how many
 * messages it dropped so (CollectingReportBuilder.addTally): a sal file's 200,000 counts
 * cross as 5,000 triples and one tally.
 */
export type ReportItem = { add: ReportMessage } | { counts: Array<string | number | null> } | { tally: FluxCounts; dropped: number };

/** What a failure looks like on the wire (the child maps ERR_ACCESS_DENIED to FG_PLUGIN_PERMISSION first). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  details?: Record<string, unknown>;
  /** A FileRejection (rejectFile): the file is rejected, not failed. */
  rejection?: boolean;
}

export type ChildMessage =
  | { t: 'report'; items: ReportItem[] }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }
  | { t: 'call'; method: string; args: unknown[] }
  /**
   * ctx.directory.batch: its operations as encodeBatch gives them (batch-wire.ts), answered with
   * encodeResults; on the wire only their number in the spool (batch-spool.ts).
   */
  | { t: 'batch'; ops: unknown }
  | { t: 'batch'; spooled: number }
  /** ctx.records(): answered with the path of a FIFO the engine writes the input's rows to (records-feeder.ts). */
  | { t: 'records'; options: RecordsRequest }
  /** `timings`: the sandbox's own (run-timings.ts), unchecked until the engine keeps them. */
  | { t: 'done'; outcome: FluxOutcome; timings?: unknown }
  | { t: 'failed'; error: WireError }
  /** Written by the engine itself once the child has exited: the worker stops reading. */
  | { t: 'gone' };

/** `absent`: the method returned undefined (an absent key), which JSON cannot say (`ok` is then null). */
export type Answer = { ok: unknown; absent?: true } | { error: WireError };

/** The answer to a call that returned `value`. */
export function answerOf(value: unknown): Answer {
  return value === undefined ? { ok: null, absent: true } : { ok: value };
}

/** What the worker posts to the engine's main thread. */
export type WorkerEvent =
  | { t: 'report'; items: ReportItem[] }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }
  | { t: 'done'; outcome: FluxOutcome; timings?: unknown }
  | { t: 'failed'; error: WireError }
  /** The worker's last event: its own timings (run-timings.ts). */
  | { t: 'end'; timings?: EngineTimings };

const ABSENT_KEY = '__fluxgateAbsentFields';

/** Employees marked with ABSENT_FIELDS (a symbol, which JSON drops) keep the mark on the wire. */
export function encodeArgs(args: unknown[]): unknown[] {
  return args.map((a) => {
    if (a && typeof a === 'object' && ABSENT_FIELDS in a) {
      return { ...a, [ABSENT_KEY]: (a as Record<symbol, unknown>)[ABSENT_FIELDS] };
    }
    return a;
  });
}

export function decodeArgs(args: unknown[]): unknown[] {
  return args.map((a) => {
    if (a && typeof a === 'object' && ABSENT_KEY in a) {
      const { [ABSENT_KEY]: absent, ...rest } = a as Record<string, unknown>;
      return { ...rest, [ABSENT_FIELDS]: absent };
    }
    return a;
  });
}

/** A batch's results on the wire: JSON has no undefined (updateEmployee of an absent key), so their places go apart. */
export interface WireResults { results: unknown[]; undefinedAt: number[] }

export function encodeResults(results: unknown[]): WireResults {
  const undefinedAt: number[] = [];
  results.forEach((r, i) => { if (r === undefined) undefinedAt.push(i); });
  return { results, undefinedAt };
}

export function decodeResults({ results, undefinedAt }: WireResults): unknown[] {
  for (const i of undefinedAt) results[i] = undefined;
  return results;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; details?: unknown };
    return {
      name: e.name, message: e.message, stack: e.stack,
      code: typeof e.code === 'string' ? e.code : undefined,
      details: e.details && typeof e.details === 'object' ? e.details as Record<string, unknown> : undefined,
    };
  }
  return { name: 'Error', message: String(err) };
}
