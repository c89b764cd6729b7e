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
