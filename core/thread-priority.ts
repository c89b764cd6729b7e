import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value of the server's background threads (0 is the default, 19 the lowest priority). */
export const BACKGROUND_NICE = 10;

/**
 * Gives the calling thread a lower CPU priority: on Linux the nice value belongs to each
 * thread, and /proc/thread-self names this one. For the server's background threads (the CSV
 * parse worker, the WAL checkpoint worker): on a 2-core machine they otherwise take the core
 * the event loop needs, and the handler and the SFTP sessions wait for it. When a core is
 * free they run as fast as before. Elsewhere it does nothing and says so (false).
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
