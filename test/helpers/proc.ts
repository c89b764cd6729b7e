import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inodes a process's inotify watches are on (one `inotify wd:` line each in /proc/<pid>/fdinfo). */
export function inotifyWatches(pid: number): number[] {
  const inodes: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    // A descriptor closed between the listing and the read has no target: skipped.
    const target = (() => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } })();
    if (!target.includes('inotify')) continue;
    for (const m of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.push(parseInt(m[1], 16));
  }
  return inodes;
}
