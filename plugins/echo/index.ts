import { setTimeout as sleep } from 'node:timers/promises';
import {
  fluxHandler, inject, rejectFile, PluginTokens,
  type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile,
} from '../../core/plugin-api';

interface LoggerLike { child(bindings: object): { debug(obj: object, msg?: string): void } }

/**
 * The trivial built-in handler the engine's tests use (flux `echo`). Every non-empty line
 * counts as one created entity. Lines starting with `#` are instructions, so tests drive
 * failures through real uploads instead of mocks:
 *   #fail            throw (a transient failure: retried, then dead)
 *   #fail-once       throw on the first attempt only
 *   #reject CODE     reject the whole file with that catalogue code
 *   #sleep MS        wait (honouring the abort signal), e.g. to crash the server meanwhile
 *   #write PATH      write an account-relative path (permission checks)
 *   #read PATH       read an account-relative path
 *   #warn TEXT       add a warning line to the report
 * Applying = writing `vault/echo/<file id>.json` (idempotent: the same file applied twice
 * leaves one record), skipped when ctx.apply is false (test files in production).
 */
@fluxHandler({
  apiVersion: 2,
  flux: 'echo',
  description: 'Test handler: counts lines, follows #instructions, records each file in vault/echo',
  permissions: { read: ['in/echo'], write: ['out/echo', 'vault/echo'], network: false },
})
export class EchoHandler implements FluxHandler {
  constructor(@inject(PluginTokens.Logger) private readonly logger: LoggerLike) {}

  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const text = (await readAll(ctx)).replace(/^\uFEFF/, '');
    const lines = text.split(/\r?\n/);
    let entities = 0;
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('#')) {
        await this.instruction(line, file, ctx);
        continue;
      }
      entities++;
      ctx.report.count('created', line.slice(0, 64), i + 1);
    }
    if (ctx.apply) {
      await ctx.files.writeFile(`vault/echo/${file.id}.json`, JSON.stringify({ id: file.id, name: file.name, sha256: file.sha256, entities }));
    }
    this.logger.child({ plugin: 'echo' }).debug({ fileId: file.id, entities }, 'echo handled');
    return { result: 'processed', summary: `${entities} line(s) echoed${ctx.apply ? '' : ' (not applied)'}` };
  }

  private async instruction(line: string, file: IncomingFile, ctx: FluxContext): Promise<void> {
    const [command, ...args] = line.slice(1).trim().split(/\s+/);
    const arg = args.join(' ');
    switch (command) {
      case 'fail':
        throw new Error('echo: failing as instructed (#fail)');
      case 'fail-once': {
        const marker = `vault/echo/${file.id}.failed-once`;
        if ((await ctx.files.list('vault/echo')).includes(`${file.id}.failed-once`)) return;
        await ctx.files.writeFile(marker, 'x');
        throw new Error('echo: failing on the first attempt as instructed (#fail-once)');
      }
      case 'reject':
        throw rejectFile((arg || 'FG_INVALID_VALUE') as never, `echo: rejecting the file as instructed (#reject ${arg})`);
      case 'sleep':
        await sleep(Number(arg) || 1000, undefined, { signal: ctx.signal });
        return;
      case 'write':
        await ctx.files.writeFile(arg, 'written by echo\n');
        return;
      case 'read':
        await ctx.files.readFile(arg);
        return;
      case 'warn':
        ctx.report.add({ severity: 'warning', code: 'FG_INVALID_VALUE', message: arg || 'warning' });
        return;
      default:
        ctx.report.add({ severity: 'warning', message: `unknown echo instruction "#${command}"` });
    }
  }
}

async function readAll(ctx: FluxContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.openInput()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
