/**
 * JSON a test reads (a command's --json output, a file), typed as the shape the test expects:
 * the type is the test's claim about the output, and its assertions check it.
 */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** A JSON Schema as the schema tests read it (`fluxgate config schema`, `workflows schema`). */
export interface JsonSchema {
  $schema?: string;
  type?: string;
  enum?: unknown[];
  maximum?: number;
  additionalProperties?: boolean;
  properties: Record<string, JsonSchema>;
}
