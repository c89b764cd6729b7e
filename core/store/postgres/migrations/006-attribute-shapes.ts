import type { Migration } from '../../migrations/types';

/** SQLite's 006: the key lists of employee attributes in the shaped form. */
export const pgAttributeShapesMigration: Migration = {
  version: 6,
  name: 'attribute-shapes',
  sql: `
    CREATE TABLE dir_attribute_shapes (
      id TEXT PRIMARY KEY,
      keys TEXT NOT NULL
    );
  `,
};
