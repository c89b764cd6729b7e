import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { FluxgateError } from '../errors';

/** The first line of standard input (for `--password-stdin`: `echo "$PW" | fluxgate admin add …`). */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Asks for a password on the terminal, twice, without echoing it. */
export async function askPassword(what: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new FluxgateError('FG_USAGE', 'standard input is not a terminal: give the password with --password-stdin');
  }
  const ask = (prompt: string): Promise<string> => new Promise((resolve) => {
    let muted = false;
    const output = new Writable({ write(chunk: Buffer, _enc, done) { if (!muted) process.stderr.write(chunk); done(); } });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(prompt, (answer) => { rl.close(); process.stderr.write('\n'); resolve(answer); });
    muted = true;
  });
  const first = await ask(`${what}: `);
  const second = await ask('again: ');
  if (first !== second) throw new FluxgateError('FG_USAGE', 'the two passwords differ: nothing changed');
  return first;
}
