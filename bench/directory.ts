/**
 * `npm run bench:directory`: what a sal file's directory batch costs on each engine (issue #20).
 * On a fresh store per engine (SQLite: a temporary file; PostgreSQL: a fresh database on
 * FLUXGATE_TEST_POSTGRES_URL, else a private cluster, as the tests get one), times, each
 * BENCH_DIRECTORY_ROUNDS times (default 5, on a new account each round), the median of:
 *
 *   - create: one batch of BENCH_DIRECTORY_ROWS (default 2,000) createEmployee ops sharing one
 *     options object, as sal sends them (PostgreSQL: multi-row INSERTs);
 *   - create, one op at a time: the same rows with an options object each (PostgreSQL: one
 *     INSERT per row, what the batch would cost without the multi-row path);
 *   - update: one batch of as many updateEmployee ops with keepPrevious (a file changing every
 *     employee; PostgreSQL: a few multi-row statements).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/logging/logger';
import type { Employee, WriteOptions } from '../core/plugin-api/directory';
import type { DirectoryRepository } from '../core/store/ports/directory';
import { PostgresStore } from '../core/store/postgres/postgres-store';
import { SqliteStore } from '../core/store/sqlite-store';
import { freshDatabase } from '../test/helpers/postgres';

const ROWS = Number(process.env.BENCH_DIRECTORY_ROWS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_DIRECTORY_ROUNDS ?? 5);

const employee = (i: number, lastname = 'Martin'): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: String(i).padStart(6, '0'), technicalId: `T${i}`, email: `e${i}@acme.example`,
  lastname, firstname: 'Anna', active: true, departureDate: null,
  attributes: { birth_date: '1980-01-01', city: 'Paris', country: 'FR', job_title: 'Engineer', manager_reference: '000001', cost_center: 'CC-12' },
});

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(directory: DirectoryRepository): Promise<Record<string, number>> {
  const figures: Record<string, number[]> = { create: [], 'create, one op at a time': [], update: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const account = `bench-${round}`;
    const rows = Array.from({ length: ROWS }, (_, i) => employee(i));
    const options: WriteOptions = { sourceFile: `f${round}` };
    figures.create.push(await time(() => directory.batch(account, rows.map((e) => ({ method: 'createEmployee', args: [e, options] })))));
    const apart = Array.from({ length: ROWS }, (_, i) => employee(i + ROWS));
    figures['create, one op at a time'].push(await time(() => directory.batch(account, apart.map((e) => ({ method: 'createEmployee', args: [e, { sourceFile: `f${round}` }] })))));
    const keep: WriteOptions = { sourceFile: `g${round}`, keepPrevious: true };
    figures.update.push(await time(() => directory.batch(account, rows.map((_, i) => ({ method: 'updateEmployee', args: [employee(i, 'Muller'), keep] })))));
  }
  return Object.fromEntries(Object.entries(figures).map(([name, xs]) => [name, median(xs)]));
}

async function main(): Promise<void> {
  console.log(`directory batch of ${ROWS} employees, median of ${ROUNDS} rounds (ms)`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-dir-'));
  const sqlite = SqliteStore.open(join(dir, 'fluxgate.db'));
  try {
    print('sqlite', await measure(sqlite.directory()));
  } finally {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const db = await freshDatabase();
  const pg = await PostgresStore.open(db.url, silentLogger());
  try {
    print('postgres', await measure(pg.directory()));
  } finally {
    await pg.close();
    await db.drop();
  }
}

function print(engine: string, figures: Record<string, number>): void {
  for (const [name, ms] of Object.entries(figures)) console.log(`  ${engine.padEnd(8)} ${name.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms`);
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
