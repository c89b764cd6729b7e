import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { descriptorBudget, openFileLimit } from '../../core/sftp/descriptor-limit';

test('open-file limit: read from /proc/self/limits (what `ulimit -n` shows), undefined when unknown or unlimited', () => {
  const shell = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  // Node raises its soft limit to the hard one at start; the shell shows the soft limit it inherited.
  const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  const own = openFileLimit();
  assert.ok(own === shell || own === hard, `read ${own}, ulimit -n ${shell}, -Hn ${hard}`);
  const table = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63772                63772                processes \nMax open files            1024                 4096                 files     \n';
  assert.equal(openFileLimit(() => table), 1024);
  assert.equal(openFileLimit(() => table.replace('1024 ', 'unlimited')), undefined);
  assert.equal(openFileLimit(() => { throw new Error('ENOENT'); }), undefined);
});

test('descriptor budget: a quarter kept back (at least 256, at most half), handlesTotal never beyond what is left', () => {
  assert.deepEqual(descriptorBudget(20_000, {}), { descriptorLimit: 20_000, headroom: 5000, handlesTotal: 15_000 });
  assert.deepEqual(descriptorBudget(1024, {}), { descriptorLimit: 1024, headroom: 256, handlesTotal: 768 });
  assert.deepEqual(descriptorBudget(400, {}), { descriptorLimit: 400, headroom: 200, handlesTotal: 200 });
  assert.deepEqual(descriptorBudget(20_000, { handlesTotal: 100 }), { descriptorLimit: 20_000, headroom: 5000, handlesTotal: 100 });
  assert.deepEqual(descriptorBudget(20_000, { descriptorHeadroom: 1000, handlesTotal: 50_000 }),
    { descriptorLimit: 20_000, headroom: 1000, handlesTotal: 19_000, clampedFrom: 50_000 });
  assert.deepEqual(descriptorBudget(undefined, {}), { headroom: 0, handlesTotal: Infinity });
});
