/**
 * `npm run bench:sftp`: upload throughput of fluxgate against OpenSSH's internal-sftp.
 * One 512 MiB file (random bytes) is uploaded with OpenSSH `sftp` to fluxgate and, when
 * /usr/sbin/sshd exists, to a private sshd started here with its own config and keys
 * (internal-sftp, loopback), with the same cipher, several rounds each, alternating.
 * Prints MB/s for both, the ratio, fluxgate's peak RSS (VmHWM) and idle RSS, and the load
 * average at start and end (the machine is shared). Not part of `npm test`.
 *
 * Also prints the CPU seconds each server spent per upload (user + system, from /proc): on a
 * shared, loaded machine wall-clock MB/s swings by 2x between rounds, CPU time much less.
 *
 * Also prints fluxgate's RSS at rest, BENCH_REST_SECONDS (default 10) after its last upload:
 * what glibc's allocator keeps of the uploads' peak for later transfers (docs/sftp.md, "Memory at rest").
 *
 * Before the rounds of each cipher, each server takes BENCH_WARMUP (default 1) uploads that are
 * printed but not counted: the figures are a running server's, not a fresh process's first
 * upload, during which Node compiles its hot functions (docs/sftp.md, "Benchmark").
 *
 * Env: BENCH_MIB (default 512), BENCH_ROUNDS (default 5), BENCH_WARMUP (default 1), BENCH_CIPHERS (comma list),
 * BENCH_FSYNC=0 (fluxgate without fsync at close, as OpenSSH), BENCH_NODE_ARGS (extra node flags for the fluxgate server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_TRACE_GC=0 (no GC counts), BENCH_GC_LOG=FILE (the server's --trace-gc lines),
 * BENCH_MEMORY=0 (no breakdown of the peak: by default the server's RSS is sampled every 50 ms
 * and /proc/PID/smaps read at each new high, bench/memory-breakdown.ts).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { PeakBreakdownSampler, describeBreakdown, readBreakdown } from './memory-breakdown';
import { threadCpu } from './proc-stat';

const ROOT = resolve(__dirname, '..');
const MIB = Number(process.env.BENCH_MIB ?? 512);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Unmeasured uploads per cipher and server before the rounds (BENCH_WARMUP=0: none). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CIPHERS = (process.env.BENCH_CIPHERS ?? 'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com').split(',');
/** BENCH_FSYNC=0: fluxgate with sftp.fsyncUploads false, like OpenSSH (which never fsyncs). */
const FSYNC = process.env.BENCH_FSYNC !== '0';
/** How long fluxgate rests after its last upload before its RSS at rest is read. */
const REST_SECONDS = Number(process.env.BENCH_REST_SECONDS ?? 10);
const work = mkdtempSync(join(tmpdir(), 'fg-bench-'));
/**
 * The server runs with --trace-gc (BENCH_TRACE_GC=0: without): its garbage collections are
 * counted per upload, a figure much steadier than MB/s on a shared machine. BENCH_GC_LOG=FILE
 * also keeps the trace lines.
 */
const TRACE_GC = process.env.BENCH_TRACE_GC !== '0';
const gc = { markCompacts: 0, scavenges: 0, committedMiB: undefined as number | undefined };
const MEMORY = process.env.BENCH_MEMORY !== '0';
const gcLog = process.env.BENCH_GC_LOG ? createWriteStream(process.env.BENCH_GC_LOG) : undefined;

/** A line of the server's stdout that is not a JSON log line: V8's --trace-gc output. */
function onOtherLine(line: string): void {
  gcLog?.write(`${line}\n`);
  const committed = /-> [\d.]+ \(([\d.]+)\) MB/.exec(line);
  if (committed) gc.committedMiB = Number(committed[1]);
  if (/: Mark-Compact /.test(line)) gc.markCompacts++;
  else if (/: Scavenge /.test(line)) gc.scavenges++;
}

const mbps = (t?: number): string => (t ? `${((MIB * 1048576) / t / 1e6).toFixed(0)} MB/s` : '-');

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

async function makeSource(): Promise<string> {
  const file = join(work, 'source.bin');
  const out = createWriteStream(file);
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < MIB; i++) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return file;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], { stdio: 'ignore' });
}

/** Runs one `sftp put` and returns the seconds it took. */
async function upload(port: number, user: string, key: string, cipher: string, source: string, target: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn('sftp', [
    '-b', '-', '-i', key, '-P', String(port), '-c', cipher,
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`,
  ], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.end(`put ${source} ${target}\nbye\n`);
  const [code] = await once(child, 'exit') as [number | null];
  if (code !== 0) throw new Error(`sftp to port ${port} failed (${code}): ${stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function startFluxgate(): Promise<{ child: ChildProcess; port: number; dataDir: string }> {
  const dir = join(work, 'fluxgate');
  mkdirSync(dir);
  const dataDir = join(dir, 'var');
  writeFileSync(join(dir, 'fluxgate.yaml'), [
    `dataDir: ${dataDir}`, 'log:', '  level: info', 'pgp:', '  keyType: curve25519', 'engine:', '  watch: false',
    // Any free port for the HTTP plane: two benchmarks at once must not collide on 8080.
    'http:', '  port: 0',
    ...(FSYNC ? [] : ['sftp:', '  fsyncUploads: false']), '',
  ].join('\n'));
  const nodeArgs = [...(TRACE_GC ? ['--trace-gc'] : []), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'fluxgate.js'), '--config', join(dir, 'fluxgate.yaml'), 'serve', '--port', '0'], {
    cwd: dir, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`fluxgate exited with ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        try {
          const l = JSON.parse(line) as { msg?: string; port?: number };
          if (l.msg === 'listening' && typeof l.port === 'number') resolvePort(l.port);
        } catch { onOtherLine(line); }
      }
    });
  });
  return { child, port, dataDir };
}

async function startSshd(clientPub: string): Promise<{ child: ChildProcess; port: number } | undefined> {
  if (!existsSync('/usr/sbin/sshd')) return undefined;
  const dir = join(work, 'sshd');
  mkdirSync(dir);
  keygen(join(dir, 'host_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(clientPub));
  const port = await freePort();
  const user = process.env.USER ?? execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_ed25519')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, `PidFile ${join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    `AllowUsers ${user}`, 'Subsystem sftp internal-sftp', '',
  ].join('\n'));
  // sshd refuses to start as root without its privilege-separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100 && !/Server listening/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  if (!/Server listening/.test(stderr)) throw new Error(`sshd did not start: ${stderr}`);
  return { child, port };
}

function rssMiB(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

/** The machine is shared: figures mean little without the load they were taken under. */
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** CPU seconds (user + system) of a process, plus those of its children it has waited for. */
function cpuSeconds(pid: number, mainThreadOnly = false): number {
  const fields = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14 (clock ticks).
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return ticks / 100;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU seconds per thread group of a process (threads by name: `main`, `libuv-worker` for the
 * file system's thread pool, `V8Worker` for V8's GC and compiler helpers...), to say where the time
 * goes, not only how much.
 */
function threadGroups(pid: number): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [thread, seconds] of threadCpu(pid)) {
    const group = thread.slice(0, thread.lastIndexOf('#'));
    groups.set(group, (groups.get(group) ?? 0) + seconds);
  }
  return groups;
}

/** `after - before` per group, 0.01 s or more, biggest first: `main 0.54, libuv-worker 0.40`. */
function groupsSpent(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [group, seconds] of after) {
    const s = seconds - (before.get(group) ?? 0);
    if (s >= 0.01) spent.set(group, s);
  }
  return new Map([...spent].sort((a, b) => b[1] - a[1]));
}

const describeGroups = (groups: Map<string, number>): string => [...groups].map(([g, s]) => `${g} ${s.toFixed(2)}`).join(', ');

/** The median of each group over the rounds (a group missing from a round counts 0 there). */
function medianGroups(rounds: Array<Map<string, number>>): Map<string, number> {
  const names = new Set(rounds.flatMap((r) => [...r.keys()]));
  const medians = new Map([...names].map((g) => [g, median(rounds.map((r) => r.get(g) ?? 0))] as const));
  return new Map([...medians].filter(([, s]) => s >= 0.01).sort((a, b) => b[1] - a[1]));
}

async function main(): Promise<void> {
  const loadAtStart = load();
  console.log(`fluxgate sftp benchmark: ${MIB} MiB, ${ROUNDS} rounds per cipher, fluxgate fsyncUploads ${FSYNC}, work dir ${work}, load average ${loadAtStart}`);
  const source = await makeSource();
  const clientKey = join(work, 'client_ed25519');
  keygen(clientKey);
  const fg = await startFluxgate();
  const add = spawn(process.execPath, [join(ROOT, 'bin', 'fluxgate.js'), '--config', join(work, 'fluxgate', 'fluxgate.yaml'), 'account', 'add', 'bench', '--key', `${clientKey}.pub`], { stdio: 'inherit' });
  const [addCode] = await once(add, 'exit') as [number];
  if (addCode !== 0) throw new Error('account add failed');
  // Idle, before any upload: what the uploads add shows in the peak.
  await new Promise((r) => setTimeout(r, 500));
  const idleRss = rssMiB(fg.child.pid!, 'VmRSS');
  const idleBreakdown = MEMORY ? describeBreakdown(readBreakdown(fg.child.pid!, process.execPath)) : '';
  const sshd = await startSshd(`${clientKey}.pub`);
  if (!sshd) console.log('no /usr/sbin/sshd (apt-get install openssh-server): fluxgate figures only');
  const user = process.env.USER ?? execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  const sshdTarget = join(work, 'sshd-upload.bin');
  const sampler = new PeakBreakdownSampler(fg.child.pid!, process.execPath, () => gc.committedMiB);
  const sampling = MEMORY ? setInterval(() => sampler.sample(), 50) : undefined;
  const results: Array<{ cipher: string; fluxgate: number; openssh?: number; fgCpu: number; fgMain: number; fgThreads: Map<string, number>; osCpu?: number; markCompacts: number[]; pairRatios: number[] }> = [];
  try {
    for (const cipher of CIPHERS) {
      const fgTimes: number[] = [];
      const osTimes: number[] = [];
      const fgCpu: number[] = [];
      const fgMain: number[] = [];
      const osCpu: number[] = [];
      const fgMarkCompacts: number[] = [];
      const fgThreads: Array<Map<string, number>> = [];
      for (let w = 1; w <= WARMUP; w++) {
        // Steady state: a fresh Node process compiles its hot functions (V8's helper threads)
        // and sizes its heap during its first upload of a cipher; OpenSSH is warmed the same way.
        const fgWarm = await upload(fg.port, 'bench', clientKey, cipher, source, '/dev/bench.bin');
        rmSync(join(fg.dataDir, 'sftp', 'bench', 'dev', 'bench.bin'), { force: true });
        const osWarm = sshd ? await upload(sshd.port, user, clientKey, cipher, source, sshdTarget) : undefined;
        rmSync(sshdTarget, { force: true });
        console.log(`  ${cipher} warm-up ${w} (not counted): fluxgate ${mbps(fgWarm)}, openssh ${mbps(osWarm)}`);
      }
      for (let round = 1; round <= ROUNDS; round++) {
        let cpu = cpuSeconds(fg.child.pid!);
        const mainCpu = cpuSeconds(fg.child.pid!, true);
        const threadsBefore = threadGroups(fg.child.pid!);
        const gcBefore = { ...gc };
        fgTimes.push(await upload(fg.port, 'bench', clientKey, cipher, source, '/dev/bench.bin'));
        fgCpu.push(cpuSeconds(fg.child.pid!) - cpu);
        fgMain.push(cpuSeconds(fg.child.pid!, true) - mainCpu);
        fgThreads.push(groupsSpent(threadsBefore, threadGroups(fg.child.pid!)));
        fgMarkCompacts.push(gc.markCompacts - gcBefore.markCompacts);
        const gcs = TRACE_GC ? `, ${gc.markCompacts - gcBefore.markCompacts} mark-compacts ${gc.scavenges - gcBefore.scavenges} scavenges` : '';
        rmSync(join(fg.dataDir, 'sftp', 'bench', 'dev', 'bench.bin'), { force: true });
        if (sshd) {
          // The per-connection sshd processes are reaped by the listener: their time lands in its cutime.
          cpu = cpuSeconds(sshd.child.pid!);
          osTimes.push(await upload(sshd.port, user, clientKey, cipher, source, sshdTarget));
          await new Promise((r) => setTimeout(r, 200));
          osCpu.push(cpuSeconds(sshd.child.pid!) - cpu);
          rmSync(sshdTarget, { force: true });
        }
        const secs = (c?: number): string => (c === undefined ? '' : ` (${c.toFixed(2)} CPU-s)`);
        console.log(`  ${cipher} round ${round}: fluxgate ${mbps(fgTimes.at(-1))}${secs(fgCpu.at(-1))} main thread ${fgMain.at(-1)!.toFixed(2)} CPU-s${gcs}, openssh ${mbps(osTimes.at(-1))}${secs(osCpu.at(-1))}`);
        console.log(`    fluxgate threads (CPU-s): ${describeGroups(fgThreads.at(-1)!)}`);
      }
      const rate = (t: number): number => (MIB * 1048576) / t / 1e6;
      results.push({
        cipher, fluxgate: rate(median(fgTimes)), openssh: sshd ? rate(median(osTimes)) : undefined,
        fgCpu: median(fgCpu), fgMain: median(fgMain), fgThreads: medianGroups(fgThreads), osCpu: sshd ? median(osCpu) : undefined, markCompacts: fgMarkCompacts,
        pairRatios: osTimes.map((t, i) => t / fgTimes[i]),
      });
    }
    const rss = rssMiB(fg.child.pid!);
    // At rest: the uploads' buffers are freed (V8 collects them), but glibc keeps the memory for
    // later transfers (docs/sftp.md, "Memory at rest"). The last sshd round already counts as rest.
    await new Promise((r) => setTimeout(r, REST_SECONDS * 1000));
    const restRss = rssMiB(fg.child.pid!, 'VmRSS');
    console.log('\nmedian MB/s (10^6 bytes/s, wall time of the sftp process including connect):');
    for (const r of results) {
      const ratio = r.openssh ? (r.fluxgate / r.openssh).toFixed(2) : '-';
      // Each round's pair ran back to back: its ratio shares the machine's state of the moment.
      const paired = r.pairRatios.length ? `  (round by round ${r.pairRatios.map((x) => x.toFixed(2)).join(' ')}, median ${median(r.pairRatios).toFixed(2)})` : '';
      console.log(`  ${r.cipher.padEnd(32)} fluxgate ${r.fluxgate.toFixed(0).padStart(5)}  openssh ${r.openssh ? r.openssh.toFixed(0).padStart(5) : '    -'}  ratio ${ratio}${paired}`);
    }
    console.log('median server CPU seconds per upload (user + system; less sensitive to other load):');
    for (const r of results) {
      console.log(`  ${r.cipher.padEnd(32)} fluxgate ${r.fgCpu.toFixed(2).padStart(5)} (main thread ${r.fgMain.toFixed(2)})  openssh ${r.osCpu !== undefined ? r.osCpu.toFixed(2).padStart(5) : '    -'}`);
    }
    console.log('median fluxgate CPU seconds per upload by thread (main: JavaScript, decryption, socket reads; libuv-worker: the file writes; V8Worker: GC and compiler helpers):');
    for (const r of results) console.log(`  ${r.cipher.padEnd(32)} ${describeGroups(r.fgThreads)}`);
    if (TRACE_GC) {
      console.log('fluxgate mark-compact GCs per upload (V8 --trace-gc), round by round:');
      for (const r of results) console.log(`  ${r.cipher.padEnd(32)} ${r.markCompacts.join(' ')}`);
    }
    clearInterval(sampling);
    if (MEMORY) for (const line of sampler.report()) console.log(line);
    console.log(`fluxgate peak RSS: ${rss.toFixed(0)} MiB (${((rss * 1048576) / 1e6).toFixed(0)} MB; target < 200 MB); idle before the uploads ${idleRss.toFixed(0)} MiB${idleBreakdown ? ` (${idleBreakdown})` : ''}`);
    console.log(`fluxgate RSS at rest ${REST_SECONDS} s after its last upload: ${restRss.toFixed(0)} MiB (${((restRss * 1048576) / 1e6).toFixed(0)} MB; kept by the allocator for later transfers, not a leak: docs/sftp.md)`);
    console.log(`load average (1, 5, 15 min): ${loadAtStart} at the start, ${load()} at the end`);
  } finally {
    clearInterval(sampling);
    fg.child.kill('SIGTERM');
    sshd?.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
