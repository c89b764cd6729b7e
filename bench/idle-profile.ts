/**
 * `node --import tsx bench/idle-profile.ts [ACCOUNTS]`: where an idle server's CPU goes.
 *
 * Creates ACCOUNTS (default 10) exchange accounts like bench:scale, starts the server with
 * V8's sampling profiler (--cpu-prof), waits for the background start-up work, then lets it
 * rest BENCH_REST_SECONDS (60) and prints the CPU used at rest (/proc) and the functions the
 * profile's samples of that window fall in (self time, top 25). The profile itself costs a
 * little CPU: compare figures with bench:scale's, not with each other's absolute values.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKey } from '../test/helpers/keys';
import { TestServer } from '../test/helpers/server';
import { cpuSeconds, threadCpu } from './proc-stat';
import { createAccounts } from './scale';

const COUNT = Number(process.argv[2] ?? 10);
const REST_MS = Number(process.env.BENCH_REST_SECONDS ?? 60) * 1000;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }


/** Self samples per function between two monotonic times (µs). */
function topFunctions(profile: Profile, fromUs: number, toUs: number): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) return;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return [...counts].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const profiles = mkdtempSync(join(tmpdir(), 'fg-prof-'));
  const server = new TestServer({
    config: { log: { level: 'info' }, pgp: { signReports: false, keyType: 'curve25519' }, ...(process.env.QUEUE_POLL_MS ? { engine: { pollIntervalMs: Number(process.env.QUEUE_POLL_MS) } } : {}) },
    nodeArgs: process.env.PROFILE === '0' ? [] : ['--cpu-prof', '--cpu-prof-dir', profiles],
  });
  try {
    await server.start();
    await server.stop();
    for (const f of readdirSync(profiles)) rmSync(join(profiles, f));
    createAccounts(server, COUNT, makeKey());
    server.logs = [];
    await server.start();
    // At rest: once the background start-up work is over (as bench:scale waits for it).
    await Promise.all([
      (l: Record<string, unknown>) => l.msg === 'intake: start-up scan of every account tree done',
      (l: Record<string, unknown>) => l.component === 'startup' && /temporary files left/.test(String(l.msg)),
      (l: Record<string, unknown>) => l.msg === 'PGP public key published to exchange accounts',
    ].map((pred) => server.waitForLog(pred, 15 * 60_000)));
    await new Promise((r) => setTimeout(r, 5000));
    const pid = server.pid!;
    const from = Number(process.hrtime.bigint() / 1000n);
    const cpu0 = cpuSeconds(pid);
    const threads0 = threadCpu(pid);
    // PERF=FILE: the whole process, native code and kernel included, sampled by perf(1) too.
    const perf = process.env.PERF
      ? spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', process.env.PERF, '--', 'sleep', String(REST_MS / 1000)], { stdio: 'ignore' })
      : process.env.STRACE
        ? spawn('timeout', ['-s', 'INT', String(REST_MS / 1000), 'strace', ...(process.env.STRACE_ARGS ?? '-f -c').split(' '), '-o', process.env.STRACE, '-p', String(pid)], { stdio: 'ignore' })
        : undefined;
    await new Promise((r) => setTimeout(r, REST_MS));
    if (perf) await new Promise((r) => perf.once('exit', r));
    const cpu = cpuSeconds(pid) - cpu0;
    const threads = [...threadCpu(pid)].map(([t, s]) => [t, s - (threads0.get(t) ?? 0)] as const).filter(([, s]) => s > 0);
    const to = Number(process.hrtime.bigint() / 1000n);
    await server.stop();
    const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile')) ?? '';
    const top = file ? topFunctions(JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile, from, to) : [];
    const total = top.reduce((s, [, n]) => s + n, 0);
    process.stdout.write(`${COUNT} accounts: CPU at rest ${cpu.toFixed(2)} s over ${REST_MS / 1000} s (${((cpu * 1000 / REST_MS) * 100).toFixed(2)} % of one core); ${total} samples in the window (profile ${join(profiles, file)})\n`);
    process.stdout.write(`threads: ${threads.map(([t, s]) => `${t} ${s.toFixed(2)} s`).join(', ')}\n`);
    for (const [name, n] of top.slice(0, 25)) process.stdout.write(`${String(n).padStart(7)}  ${name}\n`);
  } finally {
    await server.stop();
    await server.cleanup();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
