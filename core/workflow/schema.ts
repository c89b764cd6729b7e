import { z } from 'zod';
import type { AnyStep } from './step';

/** A step as written in YAML: `- report` or `- forward: { url: … }`. */
export interface StepRef {
  name: string;
  options: Record<string, unknown>;
}

const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).optional().describe('Attempts before the file is dead (default: engine.retry.attempts)'),
  baseDelayMs: z.number().int().min(0).optional(),
  maxDelayMs: z.number().int().min(0).optional(),
  factor: z.number().min(1).optional(),
});

const FLUX = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;

/** The workflow format, built from the registered steps so each step's options are checked. */
export function workflowSchema(steps: readonly AnyStep[]) {
  const stepRef = stepRefSchema(steps);
  return z.strictObject({
    $schema: z.string().optional(),
    flux: z.string().regex(FLUX, 'lower-case letters, digits and "-", "/" between levels (e.g. sal, rpa/emp)')
      .describe('The flux this workflow serves: in/<flux> holds its input, out/<flux> its reports'),
    description: z.string().optional(),
    match: z.strictObject({
      profile: z.enum(['exchange', 'dropbox']).default('exchange').describe('Which kind of account this workflow serves'),
      directory: z.string().optional().describe('Account-relative directory of the input (default in/<flux>; "/" for drop-box)'),
      pattern: z.string().optional().describe('Regular expression the file name must match for this workflow to apply'),
    }).prefault({}),
    handler: z.string().optional().describe('The flux handler run by the handler step (default: the flux)'),
    createFolders: z.boolean().default(false)
      .describe('Create match.directory and report.directory in every exchange account, existing and new (default false)'),
    naming: z.strictObject({
      flux: z.array(z.string().min(1)).min(1).optional().describe('Flux codes accepted in file names (default: the last level of flux)'),
      extensions: z.array(z.string().min(1)).min(1).optional().describe('Accepted extensions (default zip, pdf, csv, xml)'),
    }).prefault({}),
    steps: z.array(stepRef).min(1).describe('Steps run in order for each file'),
    'on-error': z.array(stepRef).default(['report', 'quarantine']).describe('Steps run when the file is rejected or dead'),
    retry: retrySchema.prefault({}),
    report: z.strictObject({
      directory: z.string().optional().describe('Account-relative directory of reports (default out/<flux>)'),
    }).prefault({}),
    limits: z.strictObject({
      memoryMb: z.number().int().min(32).max(16384).optional().describe('Heap of a sandboxed plugin\'s process, MiB (over it: FG_PLUGIN_MEMORY)'),
      secondsPerFile: z.number().int().min(1).max(86400).optional().describe('How long a sandboxed plugin may take per file (over it: FG_PLUGIN_TIMEOUT)'),
    }).optional().describe('Limits of the sandboxed plugin this workflow runs, over its manifest\'s (docs/plugin-api.md)'),
  });
}

function stepRefSchema(steps: readonly AnyStep[]) {
  const names = steps.map((s) => s.name);
  const bare = z.enum(names as [string, ...string[]]).describe('A step without options');
  const withOptions = steps.map((s) => z.strictObject({ [s.name]: (s.options ?? z.strictObject({})) }).describe(s.description));
  return z.union([bare, ...withOptions]);
}

export type WorkflowInput = z.input<ReturnType<typeof workflowSchema>>;
type Parsed = z.output<ReturnType<typeof workflowSchema>>;

/** A validated workflow, with defaults resolved and steps normalised. */
export interface Workflow {
  flux: string;
  description?: string;
  /** File it came from. */
  source: string;
  match: { profile: 'exchange' | 'dropbox'; directory: string; pattern?: RegExp };
  handler: string;
  /** Its input and report folders are created in every exchange account (declared-folders.ts). */
  createFolders: boolean;
  naming: { flux: string[]; extensions?: string[] };
  steps: StepRef[];
  onError: StepRef[];
  retry: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; factor?: number };
  report: { directory: string };
  /** Over the sandboxed plugin's manifest limits. */
  limits?: { memoryMb?: number; secondsPerFile?: number };
}

export function normaliseWorkflow(p: Parsed, source: string): Workflow {
  const profile = p.match.profile;
  const lastLevel = p.flux.split('/').pop()!;
  return {
    flux: p.flux,
    description: p.description,
    source,
    match: {
      profile,
      directory: trimSlashes(p.match.directory ?? (profile === 'dropbox' ? '/' : `in/${p.flux}`)),
      pattern: p.match.pattern ? new RegExp(p.match.pattern) : undefined,
    },
    handler: p.handler ?? p.flux,
    createFolders: p.createFolders,
    naming: { flux: p.naming.flux ?? [lastLevel], extensions: p.naming.extensions },
    steps: p.steps.map(toRef),
    onError: p['on-error'].map(toRef),
    retry: p.retry,
    report: { directory: trimSlashes(p.report.directory ?? `out/${p.flux}`) },
    limits: p.limits,
  };
}

function toRef(ref: string | Record<string, unknown>): StepRef {
  if (typeof ref === 'string') return { name: ref, options: {} };
  const [name, options] = Object.entries(ref)[0];
  return { name, options: (options ?? {}) as Record<string, unknown> };
}

function trimSlashes(p: string): string {
  return p.replace(/^\/+|\/+$/g, '');
}
