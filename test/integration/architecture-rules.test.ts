/**
 * The architecture rules (`npm run deps`, docs/architecture.md) catch what they are for: the
 * repository's own `deps` script, its dependency-cruiser config and list of known violations,
 * run over small source trees that break one rule each.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, type RunResult } from '../helpers/clients';
import { parseJson } from '../helpers/json';
import { REPO_ROOT } from '../helpers/server';

const DEPS_SCRIPT = parseJson<{ scripts: Record<string, string> }>(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.deps;
const made: string[] = [];
after(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

/** The folders the script names, each with a harmless module, plus `files` (path → source). */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-deps-'));
  made.push(dir);
  mkdirSync(join(dir, 'test'));
  for (const file of ['.dependency-cruiser.cjs', '.dependency-cruiser-known-violations.json', 'test/deps.mjs']) copyFileSync(join(REPO_ROOT, file), join(dir, file));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node20', moduleResolution: 'node16', strict: true } }));
  const base: Record<string, string> = {
    'core/plugin-api/index.ts': 'export const api = 1;\n',
    'core/store/database.ts': 'export class Database {}\n',
    'core/intake/watcher.ts': 'export const watch = 1;\n',
    'core/records/csv-reader.ts': 'export const read = 1;\n',
    'plugins/fine/handler.ts': "import { api } from '../../core/plugin-api/index';\nexport const handler = api;\n",
    'examples/fine/handler.ts': "import { api } from '../../core/plugin-api/index';\nexport const example = api;\n",
    'bench/fine.ts': "import { Database } from '../core/store/database';\nexport const bench = Database;\n",
    'bin/fine.js': "module.exports = {};\n",
  };
  for (const [path, source] of Object.entries({ ...base, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
}

const deps = (dir: string): Promise<RunResult> => run('/bin/sh', ['-c', DEPS_SCRIPT], {
  cwd: dir, env: { PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` }, timeoutMs: 120_000,
});

describe('npm run deps', { concurrency: true }, () => {
  test('passes on a tree that keeps the rules (so a failure below is the rule, not the setup)', async () => {
    const r = await deps(tree({}));
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('refuses a plugin, an SFTP module and a store module importing what they must not', async () => {
    const r = await deps(tree({
      'plugins/bad/handler.ts': "import { Database } from '../../core/store/database';\nexport const bad = Database;\n",
      'core/sftp/server.ts': "import { watch } from '../intake/watcher';\nexport const server = watch;\n",
      'core/store/rows.ts': "import { read } from '../records/csv-reader';\nexport const rows = read;\n",
    }));
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, 0, out);
    assert.match(out, /error plugins-only-plugin-api: plugins\/bad\/handler\.ts → core\/store\/database\.ts/);
    assert.match(out, /error sftp-knows-no-engine: core\/sftp\/server\.ts → core\/intake\/watcher\.ts/);
    assert.match(out, /error store-reads-no-file-format: core\/store\/rows\.ts → core\/records\/csv-reader\.ts/);
  });

  test('refuses better-sqlite3 or the Database handle outside core/store, and allows them inside', async () => {
    const r = await deps(tree({
      'core/http/metrics.ts': "import { Database } from '../store/database';\nexport const metrics = Database;\n",
      'core/queue/queue.ts': "import Sqlite from 'better-sqlite3';\nexport const queue = Sqlite;\n",
      'core/store/queue-repository.ts': "import Sqlite from 'better-sqlite3';\nimport { Database } from './database';\nexport const repo = [Sqlite, Database];\n",
    }));
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, 0, out);
    assert.match(out, /error sqlite-stays-in-store: core\/http\/metrics\.ts → core\/store\/database\.ts/);
    assert.match(out, /error sqlite-stays-in-store: core\/queue\/queue\.ts → better-sqlite3/);
    assert.doesNotMatch(out, /sqlite-stays-in-store: core\/store\//);
  });

  test('refuses a cycle between two folders even when no module is in a cycle', async () => {
    const r = await deps(tree({
      'core/alpha/start.ts': "import { middle } from '../beta/middle';\nexport const start = middle;\n",
      'core/beta/middle.ts': "import type { End } from '../alpha/end';\nexport const middle: End = 1;\n",
      'core/alpha/end.ts': 'export type End = number;\n',
    }));
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, 0, out);
    assert.match(out, /error no-folder-cycles: core\/alpha → core\/beta → core\/alpha/);
  });

  test('a folder cycle listed in the known violations passes, counted as known', async () => {
    // core ↔ plugins ↔ core/plugin-api is in .dependency-cruiser-known-violations.json (the
    // composition root imports the built-in handlers): dependency-cruiser's --ignore-known alone
    // still fails it.
    const r = await deps(tree({
      'core/root.ts': "import { builtIn } from '../plugins/index';\nexport const root = builtIn;\n",
      'plugins/index.ts': "import { api } from '../core/plugin-api/index';\nexport const builtIn = api;\n",
      'core/plugin-api/index.ts': "import type { Root } from '../root-type';\nexport const api: Root = 1;\n",
      'core/root-type.ts': 'export type Root = number;\n',
    }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no dependency violations found: .*; [1-9]\d* known violations? ignored/);
  });
});
