import { parentPort } from 'node:worker_threads';
import { FluxgateError } from '../errors';
import { FileRejection } from '../plugin-api/outcome';
import type { Dialect } from '../plugin-api/records';
import { parseRows, translateCsvError } from './csv-rows';
import type { ThreadRequest, ThreadReply, ThreadError } from './csv-thread';

/**
 * The parse worker (see csv-thread.ts): reads, checks and parses CSV files for the main
 * thread, several jobs at once if asked, each at most MAX_AHEAD messages ahead of its reader.
 */
const MAX_AHEAD = 4;
const MESSAGE_ROWS = 1000;
interface Job { ahead: number; wake?: () => void; readonly controller: AbortController }
const jobs = new Map<number, Job>();
const port = parentPort!;
const reply = (message: ThreadReply) => port.postMessage(message);

port.on('message', (m: ThreadRequest) => {
  if (m.type === 'start') {
    void run(m.job, m.path, m.dialect);
    return;
  }
  const job = jobs.get(m.job);
  if (!job) return;
  if (m.type === 'ack') job.ahead--;
  else job.controller.abort();
  job.wake?.();
});

async function run(id: number, path: string, dialect: Dialect): Promise<void> {
  const job: Job = { ahead: 0, controller: new AbortController() };
  const { signal } = job.controller;
  jobs.set(id, job);
  try {
    let fields: string[][] = [];
    let lines: number[] = [];
    const send = async () => {
      reply({ type: 'rows', job: id, fields, lines });
      fields = [];
      lines = [];
      job.ahead++;
      while (job.ahead >= MAX_AHEAD && !signal.aborted) await new Promise<void>((resolve) => { job.wake = resolve; });
    };
    // csv-parse hands out a few rows at a time: they travel in messages of MESSAGE_ROWS or more.
    for await (const batch of parseRows(path, dialect, signal, undefined, true)) {
      for (let i = 0; i < batch.fields.length; i++) {
        fields.push(batch.fields[i]!);
        lines.push(batch.lines[i]!);
      }
      if (fields.length >= MESSAGE_ROWS) await send();
      if (signal.aborted) return; // leaving the loop closes the file
    }
    if (fields.length > 0) await send();
    if (!signal.aborted) reply({ type: 'end', job: id });
  } catch (err) {
    if (!signal.aborted) reply({ type: 'error', job: id, error: describe(await translateCsvError(err, path, dialect)) });
  } finally {
    jobs.delete(id);
  }
}

function describe(err: unknown): ThreadError {
  if (err instanceof FluxgateError) return { code: err.code, message: err.message, details: err.details, rejection: err instanceof FileRejection };
  return { message: err instanceof Error ? err.message : String(err), rejection: false };
}
