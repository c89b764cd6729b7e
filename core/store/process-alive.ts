import { hostname } from 'node:os';

/** Whether a process of this machine exists (EPERM: it exists but belongs to someone else). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a holder recorded as (pid, host) may still be running: another host's cannot be checked, so it may. */
export function holderMayBeAlive(pid: number | null, host: string | null): boolean {
  if (pid === null || host === null || host !== hostname()) return true;
  return processIsAlive(pid);
}

/**
 * Whether a lease holder recorded as (pid, host) is provably gone: a process of this host that
 * no longer exists. Not this process (at start-up it holds nothing yet, and a pid it shares with
 * a dead predecessor, pid 1 in a container, cannot tell them apart), nor another host's, nor an
 * unrecorded holder: those leases are left to run out (engine.leaseMs) and are claimed then.
 */
export function holderIsDeadHere(pid: number | null, host: string | null): boolean {
  return pid !== null && host === hostname() && pid !== process.pid && !processIsAlive(pid);
}
