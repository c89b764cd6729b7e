import { lstat, rename } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { linkIfAbsent } from '../atomic-write';
import { FluxgateError } from '../errors';

/** Who an output name belongs to (the journal's outputs, for the file being processed). */
export interface OutputClaims {
  /** Is the output at this path this file's own (a retry or replay rewrites it)? */
  owned(path: string): boolean | Promise<boolean>;
  /** Records the path as this file's output; resolves to what withdraws that record. */
  claim(path: string): Promise<() => Promise<void>>;
}

/** How many names (`x.csv`, `x.2.csv` … `x.999.csv`) are tried before the write fails. */
const MAX_NAMES = 999;
/** A name whose signature is there is taken too: a report is never paired with another one's signature. */
const SIGNATURES = ['.sig', '.asc'];

/**
 * Gives a finished temporary output (report, receipt) its name in out/ without ever replacing
 * another file's output: different inputs can map to one report name (`x.csv` and `x.zip`, a
 * name that differs by an invisible character in its extension, the same name uploaded again).
 * `wanted` is used when it is free, or when it is this file's own output (a retry or replay
 * rewrites it: `ownedByThisFile`); otherwise the first free `name.N.ext`, N = 2, 3…. link(2)
 * makes the claim atomic: two files placing the same name at once get two names. Returns the
 * path used; the temporary file stays (the caller removes it).
 *
 * The name is recorded as this file's (`claim`) before it appears, never after: a process killed
 * right after the link (another node takes the file over) leaves an output its retry finds its
 * own and rewrites, where recording after the link left an output of no file, and the retry
 * wrote a second one under `name.2.ext` (seen in the three-node test). A claim whose link loses
 * the name to another file is withdrawn.
 */
export async function placeOutput(temp: string, wanted: string, claims: OutputClaims): Promise<string> {
  for (let n = 1; n <= MAX_NAMES; n++) {
    const candidate = n === 1 ? wanted : numbered(wanted, n);
    if (await placeAt(temp, candidate, claims)) return candidate;
  }
  throw new FluxgateError('FG_FILE_EXISTS',
    `${dirname(wanted)} already holds ${MAX_NAMES} outputs named like ${basename(wanted)} (other files' reports or receipts, never replaced): delete old ones from the folder`,
    { path: wanted });
}

/** `cdmat_x.csv` → `cdmat_x.2.csv`: the input's name stays whole, the number before the extension. */
export function numbered(path: string, n: number): string {
  const name = basename(path);
  const ext = extname(name);
  return join(dirname(path), `${name.slice(0, name.length - ext.length)}.${n}${ext}`);
}

async function taken(path: string): Promise<boolean> {
  for (const p of [path, ...SIGNATURES.map((s) => path + s)]) {
    try {
      await lstat(p);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return false;
}

/**
 * placeOutput's one name: `path` when it is free or this file's own output, undefined when
 * another file's output holds it (nothing written). A receipt's name chosen at the same instant
 * by another node's file is chosen again rather than numbered (receipt names have a form).
 */
export async function placeOutputAt(temp: string, path: string, claims: OutputClaims): Promise<string | undefined> {
  return await placeAt(temp, path, claims) ? path : undefined;
}

async function placeAt(temp: string, candidate: string, claims: OutputClaims): Promise<boolean> {
  if (await taken(candidate)) {
    if (!await claims.owned(candidate)) return false;
    await claims.claim(candidate);
    await rename(temp, candidate);
    return true;
  }
  const withdraw = await claims.claim(candidate);
  if (await linkIfAbsent(temp, candidate)) return true;
  await withdraw();
  return false;
}
