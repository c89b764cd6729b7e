/**
 * `npm run bench:intake`: time from the completing rename of an SFTP upload to the report
 * being available in out/, on the real server with a real SSH client (paramiko).
 *
 *   phase 1 (latency): N files one after another, each waited for; p50 / p95 / max
 *   phase 2 (throughput): M files uploaded back to back; files per second until every report exists
 *
 * Env: BENCH_FILES (default 200), BENCH_BURST (default 300), BENCH_SIGN=1 to keep PGP report
 * signing on (default off, to time the engine itself).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { python, PARAMIKO_CONNECT } from '../test/helpers/clients';
import { makeKey } from '../test/helpers/keys';
import { TestServer } from '../test/helpers/server';

const N = Number(process.env.BENCH_FILES ?? 200);
const M = Number(process.env.BENCH_BURST ?? 300);
const SIGN = process.env.BENCH_SIGN === '1';

const CLIENT = `${PARAMIKO_CONNECT}
import os, time, json
n, m, root = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def name(phase, i): return 'ndmat_acme_acme_echo_%s%010d.csv' % ('26' if phase == 1 else '27', i)
def report(nm): return os.path.join(root, 'out', 'echo', 'cdmat_' + nm[len('ndmat_'):])
def upload(nm):
    with sftp.open('in/echo/' + nm + '.filepart', 'wb') as f:
        f.write(b'line-1\\nline-2\\nline-3\\n')
    sftp.rename('in/echo/' + nm + '.filepart', 'in/echo/' + nm)
    return time.perf_counter()
lat = []
for i in range(n):
    nm = name(1, 1120000000 + i)
    t0 = upload(nm)
    r = report(nm)
    while not os.path.exists(r):
        time.sleep(0.0005)
    lat.append((time.perf_counter() - t0) * 1000)
start = time.perf_counter()
names = [name(2, 1120000000 + i) for i in range(m)]
for nm in names: upload(nm)
uploaded = time.perf_counter()
pending = set(names)
while pending:
    pending = {nm for nm in pending if not os.path.exists(report(nm))}
    if pending: time.sleep(0.002)
end = time.perf_counter()
print(json.dumps({'latency': lat, 'burst_seconds': end - start, 'upload_seconds': uploaded - start}))
`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The server configuration the intake measurement runs under (bench:journal uses it too). */
export const INTAKE_SERVER_CONFIG = {
  // Log level info: the test helper waits for the 'listening' line; per-file lines are debug.
  log: { level: 'info' }, pgp: { signReports: SIGN, keyType: 'curve25519' }, engine: { concurrency: { global: 4, perAccount: 2 } },
};

export interface IntakeFigures { p50: number; p95: number; max: number; filesPerSecond: number; uploadSeconds: number; burstSeconds: number }

/**
 * On a started server: adds the account `acme` (CLI), then `files` uploads one at a time, each
 * waited for (rename → report in out/), then `burst` back to back.
 */
export async function measureIntake(server: TestServer, files = N, burst = M): Promise<IntakeFigures> {
  const key = makeKey();
  const add = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  if (add.code !== 0) throw new Error(add.stderr);
  const root = join(server.dataDir, 'sftp', 'acme');
  mkdirSync(join(root, 'in', 'echo'));
  const r = await python(CLIENT, [String(server.port), 'acme', key.privatePath, String(files), String(burst), root]);
  if (r.code !== 0) throw new Error(r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { latency: number[]; burst_seconds: number; upload_seconds: number };
  const sorted = [...result.latency].sort((a, b) => a - b);
  return {
    p50: pct(sorted, 50), p95: pct(sorted, 95), max: sorted[sorted.length - 1],
    filesPerSecond: burst / result.burst_seconds, uploadSeconds: result.upload_seconds, burstSeconds: result.burst_seconds,
  };
}

async function main(): Promise<void> {
  const server = new TestServer({ config: INTAKE_SERVER_CONFIG });
  await server.start();
  try {
    const f = await measureIntake(server);
    const fmt = (v: number) => `${v.toFixed(1)} ms`;
    process.stdout.write([
      `intake latency, rename → report in out/ (${N} files, one at a time, signing ${SIGN ? 'on' : 'off'}):`,
      `  p50 ${fmt(f.p50)}   p95 ${fmt(f.p95)}   max ${fmt(f.max)}`,
      `throughput (${M} files back to back): ${f.filesPerSecond.toFixed(1)} files/s`
        + ` (uploads took ${f.uploadSeconds.toFixed(2)} s, all reports after ${f.burstSeconds.toFixed(2)} s)`,
      '',
    ].join('\n'));
  } finally {
    await server.stop();
    await server.cleanup();
  }
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
