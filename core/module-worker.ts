import { dirname, extname, join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of the program that sits beside `caller` (its __filename):
 * `<name>.js` when the program runs compiled (dist/, bin/build.js), `<name>.ts` when it runs
 * from its sources through tsx (tests, benchmarks). A worker thread does not inherit its
 * creator's loader, so for a .ts module a one-line boot registers tsx before requiring it
 * (its path and tsx's travel in the worker's argv, leaving workerData to the module).
 */
export function startModuleWorker(caller: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(caller);
  const entry = join(dirname(caller), `${name}${ext}`);
  if (ext !== '.ts') return new Worker(entry, options);
  const argv: unknown[] = options.argv ?? [];
  return new Worker(TSX_BOOT, { ...options, eval: true, argv: [...argv, require.resolve('tsx/cjs'), entry] });
}

const TSX_BOOT = `const [tsx, entry] = process.argv.slice(-2); require(tsx); require(entry);`;
