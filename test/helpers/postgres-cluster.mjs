// A private PostgreSQL cluster for a test run: Debian's server binaries, a new data directory,
// a free port on 127.0.0.1, password authentication over TCP. Plain JavaScript: test/run.mjs
// (no tsx) starts one for the run, and test/helpers/postgres.ts starts one itself when a test
// file runs alone.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The newest installed server's bin directory (`/usr/lib/postgresql/<major>/bin`), or undefined. */
export function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(root, majors[0], 'bin') : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** initdb refuses root: as root, the cluster is the `postgres` user's (DEPENDENCIES.md). */
function asOwner(bin, args, owner) {
  if (!owner) return execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return execFileSync('/usr/sbin/runuser', ['-u', owner, '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Starts a cluster; resolves to `{ url, dir, stop() }` where `url` is its superuser's
 * `postgres://postgres:<password>@127.0.0.1:<port>/postgres`. The directory is under /tmp, not
 * under the run's private (0700) temp directory, which the postgres user could not enter.
 * `durable: true` keeps PostgreSQL's fsync and synchronous commits (benchmarks: what a
 * production server pays); tests run without them.
 */
export async function startPostgresCluster({ durable = false } = {}) {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const owner = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = mkdtempSync('/tmp/fluxgate-test-pg-');
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    const uid = Number(execFileSync('id', ['-u', owner], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', owner], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const stop = () => {
    try { asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], owner); } catch { /* not running */ }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync'], owner);
    const port = await freePort();
    // fsync off: a test cluster, thrown away after the run.
    const unsafe = durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    asOwner(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${unsafe} -c max_connections=200`, 'start'], owner);
    return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, dir, stop };
  } catch (err) {
    stop();
    const output = [err.stdout, err.stderr].filter(Boolean).map(String).join('').trim();
    throw new Error(`cannot start a private PostgreSQL cluster: ${err.message}${output ? `\n${output}` : ''}`, { cause: err });
  }
}
