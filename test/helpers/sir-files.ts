import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small sir (organization) files for the cluster test and bench:cluster: file i of an account
 * carries `rows` organizations of its own (codes O<i>-1…), so a row written twice, or by the
 * wrong file, is countable in the directory.
 */

/** File i of an account: a valid exchange name whose timestamp is unique within the account (receipts are named by flux and time). */
export function sirFileName(account: string, i: number): string {
  const hh = String(Math.floor(i / 60)).padStart(2, '0');
  const mm = String(i % 60).padStart(2, '0');
  return `ndmat_${account}_${account}_sir_261201${hh}${mm}00.csv`;
}

export const sirOrgCode = (i: number, row: number): string => `O${String(i).padStart(4, '0')}-${row}`;

/** Writes `count` files for `account` into `dir`; returns their names in order. */
export function writeSirFiles(dir: string, account: string, count: number, rows: number): string[] {
  if (count > 24 * 60) throw new Error('at most 1,440 files per account (one a minute of a day)');
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = sirFileName(account, i);
    const lines = Array.from({ length: rows }, (_, r) => `${sirOrgCode(i, r + 1)};${account} site ${i}.${r + 1};;Paris;FR`);
    writeFileSync(join(dir, name), ['organization_code;name;parent_organization_code;city;country', ...lines, ''].join('\r\n'));
    names.push(name);
  }
  return names;
}
