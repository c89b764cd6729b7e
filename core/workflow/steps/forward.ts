import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../atomic-write';
import { FluxgateError } from '../../errors';
import { plainName } from '../naming';
import { defineStep } from '../step';

const forwardOptions = z.strictObject({
  directory: z.string().optional().describe('Copy the file into this directory (absolute, or relative to the data directory)'),
  url: z.string().url().optional().describe('POST the file to this HTTP(S) endpoint'),
  headers: z.record(z.string(), z.string()).optional().describe('Extra HTTP headers for url'),
  timeoutMs: z.number().int().min(100).default(30_000),
});

/**
 * For fluxes fluxgate does not interpret (rpa, sig, pro): hands the file on unchanged.
 * Targets come from the step options, else from config `forward.<flux>`. A failed POST is
 * retried like any transient failure.
 */
export const forwardStep = defineStep<z.output<typeof forwardOptions>>({
  name: 'forward',
  description: 'Copy the file to a directory and/or POST it to an HTTP endpoint (targets from options or config forward.<flux>)',
  options: forwardOptions,
  async run(run, options) {
    const fallback = run.config.forward[run.workflow.flux] ?? {};
    const directory = options.directory ?? fallback.directory;
    const url = options.url ?? fallback.url;
    if (!directory && !url) {
      throw new FluxgateError('FG_WORKFLOW_INVALID', `no forward target for flux "${run.workflow.flux}": set forward.directory/url in the workflow or forward.${run.workflow.flux} in the config`);
    }
    const name = run.inputPath === run.file.location ? run.file.name : plainName(run.file.name);
    if (directory) {
      const dir = isAbsolute(directory) ? directory : join(run.paths.root, directory);
      const target = join(dir, name);
      await mkdir(dirname(target), { recursive: true });
      await writeFileAtomic(target, createReadStream(run.inputPath), { mode: 0o640, signal: run.signal });
      await run.event('forwarded', { directory: dir, name });
    }
    if (url) {
      const body = await readFile(run.inputPath);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST', body,
          headers: {
            'content-type': 'application/octet-stream',
            'x-fluxgate-file-name': name, 'x-fluxgate-file-id': run.file.id,
            'x-fluxgate-account': run.account.id, 'x-fluxgate-flux': run.workflow.flux,
            'x-fluxgate-sha256': createHash('sha256').update(body).digest('hex'),
            ...options.headers,
          },
          signal: AbortSignal.any([run.signal, AbortSignal.timeout(options.timeoutMs)]),
        });
      } catch (err) {
        throw new FluxgateError('FG_FORWARD_FAILED', `POST ${url} failed: ${(err as Error).message}`);
      }
      if (!response.ok) throw new FluxgateError('FG_FORWARD_FAILED', `POST ${url} answered ${response.status} ${response.statusText}`);
      await run.event('forwarded', { url, status: response.status });
    }
  },
});
