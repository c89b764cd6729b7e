import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much lower than the thread that started them the server's background threads run (nice values: 0 default, 19 lowest). */
export const BACKGROUND_NICE = 10;

/** The nice value a background thread started by a thread at `nice` runs at. */
export const backgroundNice = (nice: number): number => Math.min(19, nice + BACKGROUND_NICE);

/**
 * Gives the calling thread a lower CPU priority than the thread that started it: on Linux the
 * nice value belongs to each thread (a new one inherits its creator's), and /proc/thread-self
 * names this one. For the server's background threads (the CSV parse worker, the WAL
 * checkpoint worker): on a 2-core machine they otherwise take the core the event loop needs,
 * and the handler and the SFTP sessions wait for it. When a core is free they run as fast as
 * before. Elsewhere it does nothing and says so (false).
 */
export function lowerThreadPriority(): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, backgroundNice(getPriority(tid)));
    return true;
  } catch {
    return false;
  }
}
