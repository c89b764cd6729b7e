import type { Migration } from './types';

/**
 * The key lists of employee attributes stored in the shaped form (core/store/attribute-shapes.ts):
 * `id` is a hash of `keys` (a JSON array of names), so a shape is never changed or removed.
 * Existing rows keep their JSON object: both forms are read.
 */
export const attributeShapesMigration: Migration = {
  version: 6,
  name: 'attribute-shapes',
  sql: `
    CREATE TABLE dir_attribute_shapes (
      id TEXT PRIMARY KEY,
      keys TEXT NOT NULL
    ) WITHOUT ROWID;
  `,
};
