import { z } from 'zod';
import { configSchema } from './schema';

/** The JSON Schema of the config file, generated from the zod schema the server validates with (for editors and CI). */
export function configJsonSchema(): Record<string, unknown> {
  // `unrepresentable: 'any'`: the cron and timezone checks are code, not JSON Schema; `config check` runs them.
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://fluxgate.invalid/fluxgate.schema.json',
    title: 'fluxgate configuration',
    description: 'fluxgate.yaml: every key is optional (embedded defaults). Keys can also be set from the environment: FLUXGATE_SFTP__PORT=2022. Print with `fluxgate config schema`.',
  };
}
