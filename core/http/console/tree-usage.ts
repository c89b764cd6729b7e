import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export interface TreeUsage { top: Array<{ dir: string; files: number; bytes: number }>; files: number; bytes: number; truncated: boolean }

/**
 * Files and bytes under an account's tree, by top-level folder (in/, out/, dev/…). Walked on
 * demand for the account's page; stops after `maxEntries` so a huge tree cannot stall a request.
 */
export function treeUsage(root: string, maxEntries = 50_000): TreeUsage {
  let seen = 0;
  const walk = (dir: string): { files: number; bytes: number } => {
    const sum = { files: 0, bytes: 0 };
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return sum; }
    for (const e of entries) {
      if (++seen > maxEntries) break;
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        const sub = walk(path);
        sum.files += sub.files;
        sum.bytes += sub.bytes;
      } else if (e.isFile()) {
        sum.files++;
        try { sum.bytes += lstatSync(path).size; } catch { /* removed meanwhile */ }
      }
    }
    return sum;
  };
  const top: TreeUsage['top'] = [];
  let entries: Dirent[] = [];
  try { entries = readdirSync(root, { withFileTypes: true }); } catch { /* no tree (yet): nothing used */ }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) top.push({ dir: `${e.name}/`, ...walk(join(root, e.name)) });
    else if (e.isFile()) top.push({ dir: e.name, files: 1, bytes: lstatSync(join(root, e.name)).size });
  }
  return { top, files: top.reduce((n, t) => n + t.files, 0), bytes: top.reduce((n, t) => n + t.bytes, 0), truncated: seen > maxEntries };
}
