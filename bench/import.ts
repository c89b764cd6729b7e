/**
 * `npm run bench:import`: `fluxgate account import` of N exchange accounts (default 10,000),
 * each with a real ed25519 key, into an empty data directory, timed as the operator sees it (the
 * whole CLI process); then the same file again (every row unchanged). Target (issue #19): 10,000
 * rows in under 60 s.
 *
 * Env: BENCH_ACCOUNTS (default 10000). The figures are printed before the temporary data
 * directory is removed: its 310,000 directories take minutes to delete on a loaded machine.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/helpers/server';

const N = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');

/** An OpenSSH `ssh-ed25519 AAAA… comment` line: the raw key is the last 32 bytes of its SPKI DER form. */
function ed25519PublicLine(comment: string): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([u32(b.length), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} ${comment}`;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function timedImport(dataDir: string, file: string): { seconds: number; counts: Record<string, number> } {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, 'account', 'import', file, '--json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`account import exited with ${r.status}: ${r.stderr}`);
  return { seconds, counts: (JSON.parse(r.stdout) as { counts: Record<string, number> }).counts };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-import-'));
  try {
    const t0 = Date.now();
    const lines = ['id,profile,partner,keys,allow_ips'];
    for (let i = 0; i < N; i++) {
      const id = `client${String(i).padStart(5, '0')}`;
      lines.push(`${id},exchange,hrtech,${ed25519PublicLine(`ops@${id}`)},${i % 10 === 0 ? '203.0.113.0/24|2001:db8::/32' : ''}`);
    }
    const file = join(dir, 'accounts.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const generated = (Date.now() - t0) / 1000;
    const dataDir = join(dir, 'var');
    const first = timedImport(dataDir, file);
    const trees = readdirSync(join(dataDir, 'sftp')).length;
    const again = timedImport(dataDir, file);
    const rate = (s: number): string => `${Math.round(N / s).toLocaleString('en')} rows/s`;
    process.stdout.write([
      `account import of ${N.toLocaleString('en')} exchange accounts (ed25519 keys, ${generated.toFixed(1)} s to generate the file):`,
      `  empty data dir: ${first.seconds.toFixed(2)} s (${rate(first.seconds)}): ${first.counts.created} created, ${first.counts.refused} refused; ${trees} account trees`,
      `  same file again: ${again.seconds.toFixed(2)} s (${rate(again.seconds)}): ${again.counts.unchanged} unchanged, ${again.counts.created} created`,
      `  target: under 60 s for 10,000 rows: ${N === 10_000 ? (first.seconds < 60 ? 'met' : 'NOT met') : 'n/a (another N)'}`,
      '',
    ].join('\n'));
    if (first.counts.created !== N || again.counts.unchanged !== N) process.exitCode = 1;
    process.stdout.write(`removing ${dir}…\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
