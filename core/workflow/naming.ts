import type { NamingParts } from '../store/journal-repository';

export const DEFAULT_EXTENSIONS = ['zip', 'pdf', 'csv', 'xml'] as const;
const ENCRYPTED_SUFFIX = /\.(pgp|gpg)$/i;
const ENCRYPTED_SUFFIXES = /(\.(pgp|gpg))+$/i;
const VERSION = /^(v?\d+([.-]\d+)*|tst)$/i;

export interface NamingExpectation {
  /** Partner id of the account (the account id again for direct clients). */
  partner: string;
  /** The account id. */
  client: string;
  /** Flux codes accepted in the name (the directory's flux). */
  flux: readonly string[];
  extensions?: readonly string[];
}

/**
 * Characters a listing does not show, or shows as a blank: controls, format characters (zero-width
 * space U+200B, joiners, bidi controls, BOM), default-ignorable ones (Hangul fillers, variation
 * selectors) and every space but the ASCII one. A name holding one looks like another file's.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');

/** The first invisible character of a name, as `U+200B`, and its position (1-based, in characters). */
export function invisibleCharacter(name: string): { codePoint: string; position: number } | undefined {
  const m = INVISIBLE.exec(name);
  if (!m) return undefined;
  const codePoint = `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return { codePoint, position: [...name.slice(0, m.index)].length + 1 };
}

/** Invisible characters written out (`[U+200B]`), so that an output named after the input shows them. */
export function visibleName(name: string): string {
  return name.replace(INVISIBLE_ALL, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

export type NameCheck =
  | { ok: true; parts: NamingParts }
  | { ok: false; part: 'name' | 'dest' | 'partner' | 'client' | 'flux' | 'app/version' | 'timestamp' | 'extension'; message: string };

/**
 * The name without its trailing `.pgp`/`.gpg` suffixes (all of them: `x.csv.pgp.pgp` → `x.csv`):
 * what check-name, handlers and reports look at.
 */
export function plainName(name: string): string {
  return name.replace(ENCRYPTED_SUFFIXES, '');
}

/**
 * Checks `{dest}_{partner}_{client}_{flux}[_{app}][_{version}]_{timestamp}.{ext}[.pgp|.gpg]`
 * against the account. Account and partner ids may contain `_`, so the expected values are
 * matched as prefixes rather than by splitting; the message names the first wrong part.
 */
export function checkName(name: string, expect: NamingExpectation): NameCheck {
  const encrypted = ENCRYPTED_SUFFIX.test(name);
  const plain = plainName(name);
  const suffixes = name.slice(plain.length);
  if (suffixes.length > 4) {
    return { ok: false, part: 'extension', message: `"${name}" ends with ${suffixes.length / 4} encryption suffixes ("${suffixes}"): `
      + `an encrypted file takes exactly one .pgp or .gpg after its extension (${plain}.pgp); encrypt the file once and name it so` };
  }
  const dot = plain.lastIndexOf('.');
  if (dot <= 0) return { ok: false, part: 'extension', message: `"${name}" has no extension; expected one of ${exts(expect)}` };
  const ext = plain.slice(dot + 1);
  const base = plain.slice(0, dot);
  if (!/^[A-Za-z0-9_-]+$/.test(base)) {
    return { ok: false, part: 'name', message: `"${name}" contains characters other than letters, digits, "_" and "-" before the extension` };
  }
  const tokens = base.split('_');
  const fail = (part: Exclude<NameCheck, { ok: true }>['part'], message: string): NameCheck => ({ ok: false, part, message });

  if (tokens[0] !== 'ndmat') return fail('dest', `destination part is "${tokens[0]}", expected "ndmat" (client to server)`);
  let rest = base.slice('ndmat_'.length);
  if (!rest.startsWith(`${expect.partner}_`)) {
    return fail('partner', `partner part is "${rest.split('_')[0]}", expected "${expect.partner}"`);
  }
  rest = rest.slice(expect.partner.length + 1);
  if (!rest.startsWith(`${expect.client}_`)) {
    return fail('client', `client part is "${rest.split('_')[0]}", expected "${expect.client}" (the account id)`);
  }
  rest = rest.slice(expect.client.length + 1);
  const fluxToken = rest.split('_')[0] ?? '';
  if (!expect.flux.includes(fluxToken)) {
    return fail('flux', `flux part is "${fluxToken}", expected ${expect.flux.map((f) => `"${f}"`).join(' or ')} for this directory`);
  }
  const tail = rest.slice(fluxToken.length + 1).split('_');
  if (rest.length <= fluxToken.length || tail.length === 0 || tail[tail.length - 1] === '') {
    return fail('timestamp', 'timestamp part is missing, expected yymmddhhmmss or yyyymmddhhmmss');
  }
  const timestamp = tail[tail.length - 1];
  const middle = tail.slice(0, -1);
  if (middle.length > 2) {
    return fail('app/version', `too many parts between the flux and the timestamp ("${middle.join('_')}"): at most an application and a version`);
  }
  if (middle.some((m) => m === '')) return fail('name', 'the name contains an empty part ("__")');
  const stampError = checkTimestamp(timestamp);
  if (stampError) return fail('timestamp', stampError);
  const allowed = expect.extensions ?? DEFAULT_EXTENSIONS;
  if (!allowed.includes(ext)) return fail('extension', `extension is ".${ext}", expected one of ${exts(expect)}`);

  let app: string | undefined;
  let version: string | undefined;
  if (middle.length === 2) [app, version] = middle as [string, string];
  else if (middle.length === 1) {
    if (VERSION.test(middle[0])) version = middle[0]; else app = middle[0];
  }
  return {
    ok: true,
    parts: { dest: 'ndmat', partner: expect.partner, client: expect.client, flux: fluxToken, app, version, timestamp, ext, encrypted },
  };
}

/** 12 digits (yymmddhhmmss) or 14 (yyyymmddhhmmss) forming a real date and time. */
export function checkTimestamp(stamp: string): string | undefined {
  if (!/^\d{12}(\d{2})?$/.test(stamp)) return `timestamp part is "${stamp}", expected 12 digits (yymmddhhmmss) or 14 (yyyymmddhhmmss)`;
  const full = stamp.length === 12 ? `20${stamp}` : stamp;
  const [y, mo, d, h, mi, s] = [full.slice(0, 4), full.slice(4, 6), full.slice(6, 8), full.slice(8, 10), full.slice(10, 12), full.slice(12, 14)].map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
    && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return real ? undefined : `timestamp part "${stamp}" is not a real date and time`;
}

function exts(expect: NamingExpectation): string {
  return (expect.extensions ?? DEFAULT_EXTENSIONS).map((e) => `.${e}`).join(', ') + ' (optionally followed by .pgp or .gpg)';
}

/**
 * Report name: `ndmat` → `cdmat`, every `.pgp`/`.gpg` dropped, extension `.csv`: the report of
 * `x.csv`, `x.csv.pgp` and (rejected) `x.csv.pgp.pgp` is `cdmat_….csv`. A badly named input keeps its
 * name, invisible characters written out (`[U+200B]`). Several inputs can map to one name: the
 * report step never replaces another file's report (output-place.ts).
 */
export function reportName(inputName: string): string {
  const plain = plainName(visibleName(inputName));
  const dot = plain.lastIndexOf('.');
  const base = dot > 0 ? plain.slice(0, dot) : plain;
  return `${base.startsWith('ndmat_') ? `cdmat_${base.slice('ndmat_'.length)}` : base}.csv`;
}
