import { statSync } from 'node:fs';
import { FluxgateError, type ErrorCode } from '../errors';
import { checkHeader } from '../records/header';
import { parseRows, translateCsvError } from '../records/csv-rows';

/**
 * The accounts CSV of `account import` and `account export` (docs/accounts.md, "Bulk import
 * and export"): UTF-8, comma-separated, `"` quotes, a header row naming the columns.
 *
 *   id,profile,partner,keys,allow_ips,enabled
 *   acme,exchange,hrtech,ssh-ed25519 AAAA… ops@acme|ssh-ed25519 AAAA… backup,203.0.113.0/24,true
 *
 * `keys` holds one or more public keys separated by `|`: OpenSSH lines, or RFC 4716 blocks,
 * which span several lines and so sit in a quoted cell. `allow_ips` holds CIDRs separated by `|`.
 */

export const ACCOUNT_COLUMNS = ['id', 'profile', 'partner', 'keys', 'allow_ips', 'enabled'] as const;
export type AccountColumn = (typeof ACCOUNT_COLUMNS)[number];
const REQUIRED_COLUMNS: AccountColumn[] = ['id', 'keys'];

/** An account as one row of the file describes it, before AccountService checks it. */
export interface AccountRecord {
  id: string;
  /** Empty cell or no column: exchange. */
  profile?: string;
  /** Empty cell or no column: none (the account id is the partner). */
  partner: string | null;
  keys: string[];
  allowIps: string[];
  /** No column or an empty cell: not said (a new account is enabled; an existing one is not compared). */
  enabled?: boolean;
}

/** A data row: its record, or why the row cannot be read (the other rows still can). */
export interface AccountCsvRow {
  /** The line the row starts on (a quoted RFC 4716 key makes a row span several lines). */
  line: number;
  /** As written, for the report ('' when the row has none). */
  id: string;
  record?: AccountRecord;
  problem?: { code: ErrorCode; message: string };
}

/**
 * A `|` between keys, not one inside a key's comment: it is followed by the start of a key, an
 * RFC 4716 block or `<algorithm> AAAA…` (every key blob starts with the length of its algorithm
 * name, which base64 writes as AAAA).
 */
const KEY_SEPARATOR = /\|(?=\s*(?:---- BEGIN SSH2 PUBLIC KEY ----|[a-z0-9@.-]+[ \t]+AAAA))/;

export function splitKeys(cell: string): string[] {
  return cell.split(KEY_SEPARATOR).map((k) => k.trim()).filter((k) => k !== '');
}

export function splitList(cell: string): string[] {
  return cell.split('|').map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Reads the whole file (every row is checked before anything is written). File-level problems
 * (not UTF-8, not CSV, a missing, doubled or unknown column) throw, with the line; row-level
 * ones are the row's `problem`.
 */
export async function readAccountCsv(path: string): Promise<AccountCsvRow[]> {
  assertReadableFile(path);
  const rows: AccountCsvRow[] = [];
  let header: AccountHeader | undefined;
  try {
    for await (const batch of parseRows(path, 'dropbox', { clean: true })) {
      for (let i = 0; i < batch.fields.length; i++) {
        const fields = batch.fields[i];
        if (fields.every((f) => f === '')) continue;
        if (!header) {
          header = readHeader(fields);
          continue;
        }
        rows.push(readRow(fields, batch.lines[i], header));
      }
    }
  } catch (err) {
    throw await translateCsvError(err, path, 'dropbox');
  }
  if (!header) throw new FluxgateError('FG_EMPTY_FILE', `${path} holds no header row: the first line names the columns (${ACCOUNT_COLUMNS.join(',')})`);
  return rows;
}

/** Name → 1-based column, and how many cells the header has (each row must have as many). */
interface AccountHeader { columns: Record<string, number>; width: number }

function readHeader(fields: string[]): AccountHeader {
  const header = checkHeader(fields, { dialect: 'dropbox', required: REQUIRED_COLUMNS }, fields.join(','));
  // An unknown column is refused rather than ignored: `allow_ip` for `allow_ips` would open the account to any address.
  const unknown = header.names.filter((n) => n !== '' && !(ACCOUNT_COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new FluxgateError('FG_CSV', `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} in the header (line 1): the columns are ${ACCOUNT_COLUMNS.join(', ')}`, { line: 1, unknown });
  }
  return { columns: header.columns, width: fields.length };
}

function assertReadableFile(path: string): void {
  let problem: string | undefined;
  try {
    if (!statSync(path).isFile()) problem = 'it is not a file';
  } catch (err) {
    problem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  if (problem) throw new FluxgateError('FG_USAGE', `cannot read the accounts file ${path}: ${problem}`);
}

function readRow(fields: string[], line: number, { columns, width }: AccountHeader): AccountCsvRow {
  const cell = (name: AccountColumn): string => (columns[name] === undefined ? '' : fields[columns[name] - 1] ?? '');
  const id = cell('id');
  const refuse = (code: ErrorCode, message: string): AccountCsvRow => ({ line, id, problem: { code, message } });
  if (fields.length !== width) return refuse('FG_FIELD_COUNT', `the row has ${fields.length} fields, the header ${width}: quote a value that holds a comma`);
  if (id === '') return refuse('FG_REQUIRED', 'the row has no id');
  const keys = splitKeys(cell('keys'));
  if (keys.length === 0) return refuse('FG_REQUIRED', 'no key: give at least one public key in the keys column');
  const enabledCell = cell('enabled').toLowerCase();
  if (enabledCell !== '' && enabledCell !== 'true' && enabledCell !== 'false') {
    return refuse('FG_BOOL', `enabled is "${cell('enabled')}": use true or false (or leave it empty)`);
  }
  return {
    line, id,
    record: {
      id,
      profile: cell('profile') || undefined,
      partner: cell('partner') || null,
      keys,
      allowIps: splitList(cell('allow_ips')),
      ...(enabledCell === '' ? {} : { enabled: enabledCell === 'true' }),
    },
  };
}

/** The file `account export` writes: every column, keys as OpenSSH lines. */
export function toAccountCsv(records: readonly AccountRecord[]): string {
  const lines = [ACCOUNT_COLUMNS.join(',')];
  for (const r of records) {
    lines.push([r.id, r.profile ?? 'exchange', r.partner ?? '', r.keys.join('|'), r.allowIps.join('|'), r.enabled === false ? 'false' : 'true'].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
