/**
 * `npm run bench`: every benchmark in turn (sftp throughput, intake latency, a burst of clients, sal pipeline, account import).
 * Each prints its own figures and its ratio against a baseline measured in the same run.
 * Not part of `npm test`: the machines are shared and noisy, targets are read, not asserted.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = ['sftp', 'intake', 'burst', 'sal', 'import'];
let failed = 0;
for (const name of BENCHES) {
  process.stdout.write(`\n=== bench:${name} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; process.stdout.write(`bench:${name} exited with ${r.status ?? r.signal}\n`); }
}
process.exit(failed ? 1 : 0);
