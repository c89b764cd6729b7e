import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { FluxgateError } from '../errors';
import { FileRejection } from '../plugin-api/outcome';
import type { Dialect } from '../plugin-api/records';
import { parseRows, parseStream, translateCsvError } from './csv-rows';
import type { ThreadRequest, ThreadReply, ThreadError } from './csv-thread';
import { lowerThreadPriority } from '../thread-priority';

/**
 * The parse worker (see csv-thread.ts): reads, checks and parses CSV files for the main
 * thread, several jobs at once if asked. Each job parses at most MAX_AHEAD messages ahead of
 * its reader, but keeps them here and posts one at a time, when the reader takes the last:
 * whatever is posted is turned into JavaScript objects on the main thread as soon as its event
 * loop turns, and rows that then wait for the handler outlive the young generation (a 200,000
 * row file cost 80 MB more and 0.5 s of garbage collection when four waited there). Two kept
 * here are enough (the handler, not the parser, is the slower): with four, the server peaked
 * 25-30 MB higher for the same speed.
 */
const MAX_AHEAD = 2;
const MESSAGE_ROWS = 1000;
/** The reader waits for the first message: it goes as soon as it has this many rows. */
const FIRST_MESSAGE_ROWS = 100;
interface Job {
  /** Parsed batches not posted yet. */
  readonly ready: Array<{ fields: string[][]; lines: number[] }>;
  /** Whether a posted batch is not taken yet. */
  posted: boolean;
  wake?: () => void;
  readonly controller: AbortController;
}
const jobs = new Map<number, Job>();
const port = parentPort!;
// Parsing ahead is background work: the main thread, which validates and stores the rows, comes first.
lowerThreadPriority();
void warmUp();
const reply = (message: ThreadReply) => port.postMessage(message);

port.on('message', (m: ThreadRequest) => {
  if (m.type === 'start') {
    void run(m.job, m.path, m.dialect);
    return;
  }
  const job = jobs.get(m.job);
  if (!job) return;
  if (m.type === 'ack') {
    job.posted = false;
    post(m.job, job);
  } else job.controller.abort();
  job.wake?.();
});

function post(id: number, job: Job): void {
  const next = job.posted ? undefined : job.ready.shift();
  if (!next) return;
  reply({ type: 'rows', job: id, fields: next.fields, lines: next.lines });
  job.posted = true;
}

async function run(id: number, path: string, dialect: Dialect): Promise<void> {
  const job: Job = { ready: [], posted: false, controller: new AbortController() };
  const { signal } = job.controller;
  jobs.set(id, job);
  const until = async (done: () => boolean) => {
    while (!done() && !signal.aborted) await new Promise<void>((resolve) => { job.wake = resolve; });
  };
  try {
    let fields: string[][] = [];
    let lines: number[] = [];
    let messageRows = FIRST_MESSAGE_ROWS;
    const send = async () => {
      messageRows = MESSAGE_ROWS;
      job.ready.push({ fields, lines });
      fields = [];
      lines = [];
      post(id, job);
      await until(() => job.ready.length < MAX_AHEAD);
    };
    // csv-parse hands out a chunk's rows at a time: they travel in messages of MESSAGE_ROWS or more.
    for await (const batch of parseRows(path, dialect, { signal, clean: true })) {
      for (let i = 0; i < batch.fields.length; i++) {
        fields.push(batch.fields[i]);
        lines.push(batch.lines[i]);
      }
      if (fields.length >= messageRows) await send();
      if (signal.aborted) return; // leaving the loop closes the file
    }
    if (fields.length > 0) await send();
    await until(() => job.ready.length === 0);
    if (!signal.aborted) reply({ type: 'end', job: id });
  } catch (err) {
    if (!signal.aborted) {
      // Rows parsed before the error still go first, as on the main thread.
      await until(() => job.ready.length === 0);
      if (!signal.aborted) reply({ type: 'error', job: id, error: describe(await translateCsvError(err, path, dialect)) });
    }
  } finally {
    jobs.delete(id);
  }
}

function describe(err: unknown): ThreadError {
  if (err instanceof FluxgateError) return { code: err.code, message: err.message, details: err.details, rejection: err instanceof FileRejection };
  return { message: err instanceof Error ? err.message : String(err), rejection: false };
}

/**
 * Parses generated rows of both dialects once, from memory, when the thread starts, so that
 * csv-parse and the value cleaning are already compiled by V8's optimising JIT when a file's
 * first rows are parsed. Cold, the first 64 KiB reads of a file took up to 24 ms each to parse
 * instead of 6, while the handler waited for rows; warmed up, the first 24,000 rows of a
 * 200,000-row file reached the handler ~40 ms sooner. The thread usually starts with a small
 * file (sir before sal: csv-thread.ts), so this runs before the big one comes; it stops as soon
 * as a file is being parsed, so that it never delays one.
 */
async function warmUp(): Promise<void> {
  for (const dialect of ['exchange', 'dropbox'] as const) {
    if (jobs.size > 0) return;
    const q = dialect === 'exchange' ? "'" : '"';
    const sep = dialect === 'exchange' ? ';' : ',';
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      lines.push(['ACME-FR', String(i).padStart(7, '0'), '', `Müller-${i}`, ` Zoë `, `${q}O${q}${q}Brien${sep} jr${q}`, '1980-02-29', 'true', '', 'FR'].join(sep));
    }
    const text = Buffer.from(lines.join(dialect === 'exchange' ? '\r\n' : '\n'));
    const chunks = Array.from({ length: Math.ceil(text.length / 65_536) }, (_, i) => text.subarray(i * 65_536, (i + 1) * 65_536));
    try {
      for await (const _ of parseStream(() => Readable.from(chunks), dialect, { clean: true })) {
        if (jobs.size > 0) return;
      }
    } catch { /* only a warm-up: a real file reports its own errors */ }
  }
}
