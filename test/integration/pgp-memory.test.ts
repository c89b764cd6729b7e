import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Gpg } from '../helpers/pgp-gpg';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';

const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const BIG_MB = 96;

/** Runs a command and samples its peak resident memory (VmHWM, Linux) until it exits. */
function peakRssKb(args: string[]): Promise<{ code: number | null; peakKb: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d) => { stderr += d; });
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited between samples */ }
    };
    const timer = setInterval(sample, 20);
    child.on('error', reject);
    child.on('exit', (code) => { clearInterval(timer); resolve({ code, peakKb, stderr }); });
  });
}

/**
 * GnuPG's default message format can only be authenticated at its very end; openpgp.js buffers
 * such messages whole unless told to stream. Decrypting a large file must not cost memory in
 * proportion to its size (docs/pgp.md).
 */
describe('pgp decryption memory', { skip: process.platform !== 'linux' ? 'reads /proc' : skipUnless('gpg') }, () => {
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const gpg = new Gpg(join(server.dir, 'client-gnupg'));
  after(async () => {
    await gpg.close();
    await server.cleanup();
  });

  test(`a ${BIG_MB} MB upload decrypts without holding it in memory`, async (t) => {
    mkdirSync(gpg.home, { mode: 0o700 });
    const exported = await server.cli('pgp', 'export-public', '-o', join(server.dir, 'server.asc'));
    assert.equal(exported.code, 0, exported.stderr);
    await gpg.importKey(join(server.dir, 'server.asc'));

    const small = join(server.dir, 'small.bin');
    const big = join(server.dir, 'big.bin');
    const fd = openSync(small, 'w');
    writeSync(fd, randomBytes(1024 * 1024));
    closeSync(fd);
    const bigFd = openSync(big, 'w');
    for (let i = 0; i < BIG_MB; i++) writeSync(bigFd, randomBytes(1024 * 1024)); // incompressible
    closeSync(bigFd);
    for (const f of [small, big]) {
      await gpg.ok('--trust-model', 'always', '-r', 'fluxgate@localhost', '--compress-algo', 'none', '--output', `${f}.gpg`, '--encrypt', f);
    }

    const decrypt = (f: string) => peakRssKb([BIN, '--config', server.configFile, 'pgp', 'decrypt', `${f}.gpg`, '-o', `${f}.out`]);
    const baseline = await decrypt(small);
    assert.equal(baseline.code, 0, baseline.stderr);
    const large = await decrypt(big);
    assert.equal(large.code, 0, large.stderr);
    assert.equal(statSync(`${big}.out`).size, BIG_MB * 1024 * 1024);
    assert.deepEqual(readFileSync(`${big}.out`).subarray(-4096), readFileSync(big).subarray(-4096));

    // Buffered, the extra memory is about twice the file's size (ciphertext and plaintext held
    // whole); streamed, it is a constant few tens of MB (buffers, garbage not yet collected).
    const extraMb = (large.peakKb - baseline.peakKb) / 1024;
    assert.ok(baseline.peakKb > 0 && large.peakKb > 0, 'memory was sampled');
    t.diagnostic(`peak RSS: 1 MB → ${baseline.peakKb} kB, ${BIG_MB} MB → ${large.peakKb} kB`);
    assert.ok(extraMb < BIG_MB, `decrypting ${BIG_MB} MB took ${extraMb.toFixed(0)} MB more than 1 MB did (${baseline.peakKb} → ${large.peakKb} kB)`);
  });
});
