import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { workflowSchema } from './schema';
import type { AnyStep } from './step';

export const JSON_SCHEMA_FILE = 'workflow.schema.json';

/** The JSON Schema of workflow files, generated from the same zod source the engine validates with. */
export function workflowJsonSchema(steps: readonly AnyStep[]): Record<string, unknown> {
  const schema = z.toJSONSchema(workflowSchema(steps), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://fluxgate.invalid/workflow.schema.json',
    title: 'fluxgate workflow',
    description: 'One flux: which files it takes, the steps run for each, what runs on error. Regenerate with `fluxgate workflows schema --write`.',
  };
}

export function writeWorkflowJsonSchema(dir: string, steps: readonly AnyStep[]): string {
  const file = join(dir, JSON_SCHEMA_FILE);
  writeFileSync(file, `${JSON.stringify(workflowJsonSchema(steps), null, 2)}\n`);
  return file;
}
