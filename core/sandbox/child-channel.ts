import { constants, openSync, writeSync } from 'node:fs';
import { spoolBatch } from './batch-spool';
import { encodeFrame, NOTHING_YET, pollFrame, readFrame, writeBytes } from './frames';
import type { Answer, ChildMessage } from './protocol';

/** How often an awaited answer is looked for while the plugin works (ms). */
const POLL_MS = 1;

interface Waiting { resolve: (value: unknown) => void; reject: (err: Error) => void }

/**
 * The sandbox child's end of the protocol (frames.ts): its requests out, the engine's answers
 * in, in order. A synchronous call (`ask`) waits for its answer. A batch (`request`) does not:
 * its Promise settles when its answer is read, so the plugin goes on (parsing the next rows,
 * sending the next batch) while the engine applies the batch: the two processes work at once.
 * An answer is read when a poll finds it, before a call's own answer, or while a request waits
 * on a full pipe (the pipes are 64 KiB: the engine may be blocked writing an answer the child
 * has not read, and would never read the child's request).
 */
export class ChildChannel {
  private readonly waiting: Waiting[] = [];
  private polling?: NodeJS.Timeout;
  private readonly requests: number;
  private readonly answers: number;
  /** The answers' FIFO again, non-blocking: for polls. */
  private readonly answersNonBlocking: number;
  /** The requests' FIFO again, non-blocking: for writes while answers are owed. */
  private readonly requestsNonBlocking: number;

  /** Batches spooled so far: each one's file is named by its number. */
  private spooled = 0;
  /** Milliseconds blocked opening the FIFOs: waiting for the engine's side to be ready (run-timings.ts). */
  readonly connectMs: number;
  /** Milliseconds blocked reading answers (run-timings.ts): the plugin waiting for the engine. */
  blockedMs = 0;

  /** Opened in the engine's order (requests, then answers): each open waits for the other end. `spool`: the batches' folder. */
  constructor(requestPath: string, answerPath: string, private readonly spool: string, private readonly onGone: () => never) {
    const since = performance.now();
    this.requests = openSync(requestPath, 'w');
    this.answers = openSync(answerPath, 'r');
    this.connectMs = performance.now() - since;
    this.answersNonBlocking = openSync(answerPath, constants.O_RDONLY | constants.O_NONBLOCK);
    this.requestsNonBlocking = openSync(requestPath, constants.O_WRONLY | constants.O_NONBLOCK);
  }

  /** The next answer, whatever it is (the job, first). */
  read<T>(): T {
    return readFrame<T>(this.answers) ?? this.onGone();
  }

  /** Sends a message that has no answer (report items, log lines, the end). A batch's operations go through the spool (batch-spool.ts). */
  send(message: ChildMessage): void {
    const frame = encodeFrame(message.t === 'batch' && 'ops' in message ? spoolBatch(this.spool, ++this.spooled, message.ops) : message);
    if (this.waiting.length === 0) writeBytes(this.requests, frame); // nothing owed: the engine is reading
    else this.writeWhileAnswered(frame);
  }

  /** Sends a request and waits for its answer (the batches' before it come first). */
  ask(message: ChildMessage): unknown {
    this.send(message);
    this.settleWaiting();
    return unwrap(this.readAnswer());
  }

  /** Sends a request now; its answer settles the Promise when it comes. */
  request(message: ChildMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.send(message); // a message too big throws: the Promise rejects
      this.waiting.push({ resolve, reject });
      this.polling ??= setTimeout(this.poll, POLL_MS);
    });
  }

  /**
   * Writes a frame while answers are owed. When the pipe is full the engine is busy (applying an
   * earlier batch) or blocked writing an answer: the oldest answer owed is read, waiting for it,
   * then the write goes on; once none is owed the engine can only be reading, and the rest is
   * written blocking. (Never a timed wait: a writer woken by the kernel keeps the pipe's pace.)
   */
  private writeWhileAnswered(frame: Buffer): void {
    let written = 0;
    while (written < frame.length) {
      if (this.waiting.length === 0) {
        writeBytes(this.requests, written === 0 ? frame : frame.subarray(written));
        return;
      }
      try {
        written += writeSync(this.requestsNonBlocking, frame, written, frame.length - written);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        this.settle(this.readAnswer());
      }
    }
  }

  /** Reads every awaited answer, waiting for them. */
  private settleWaiting(): void {
    while (this.waiting.length > 0) this.settle(this.readAnswer());
  }

  /** The next answer, waiting for it (timed). */
  private readAnswer(): Answer {
    const since = performance.now();
    const answer = this.read<Answer>();
    this.blockedMs += performance.now() - since;
    return answer;
  }

  private settle(answer: Answer): void {
    const { resolve, reject } = this.waiting.shift()!;
    try {
      resolve(unwrap(answer));
    } catch (err) {
      reject(err as Error);
    }
  }

  private readonly poll = (): void => {
    this.polling = undefined;
    while (this.waiting.length > 0) {
      const answer = pollFrame<Answer>(this.answersNonBlocking, this.answers);
      if (answer === NOTHING_YET) break;
      this.settle(answer ?? this.onGone());
    }
    if (this.waiting.length > 0) this.polling = setTimeout(this.poll, POLL_MS);
  };
}

function unwrap(answer: Answer): unknown {
  if ('error' in answer) {
    throw Object.assign(new Error(answer.error.message), { name: answer.error.name, code: answer.error.code, details: answer.error.details });
  }
  return 'absent' in answer ? undefined : answer.ok;
}
