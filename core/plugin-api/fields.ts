import type { ReportBuilder } from './report';
import type { RowProblem, SourceRecord } from './records';

/**
 * Field checks shared by the flux handlers. Each check records a RowProblem (line, column,
 * field, code) and returns the cleaned value, or null when the value is absent or wrong.
 * Messages never repeat the value unless the caller says it is safe to (`echo`): reports
 * travel to other systems and must not leak birth dates or phone numbers.
 */

// ISO 3166-1 alpha-2, the 249 officially assigned codes.
const COUNTRIES = new Set(('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL ' +
  'GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR ' +
  'LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK ' +
  'PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR ' +
  'TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '));

export function isCountryCode(value: string): boolean {
  return COUNTRIES.has(value);
}

// Pragmatic: one @, no spaces, a dot in the domain. RFC 5322 allows more than HR systems send.
const EMAIL = /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:.]{2,}$/;
export function isEmail(value: string): boolean {
  return EMAIL.test(value) && !value.includes('..');
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (value: string, i: number): number => {
  const d = value.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};

/** A real calendar date in YYYY-MM-DD form (no 2023-02-30). Runs for every date of every row: no regex. */
export function isIsoDate(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  const y = digit(value, 0) * 1000 + digit(value, 1) * 100 + digit(value, 2) * 10 + digit(value, 3);
  const mo = digit(value, 5) * 10 + digit(value, 6);
  const d = digit(value, 8) * 10 + digit(value, 9);
  // NaN (a non-digit) fails every comparison below.
  if (!(mo >= 1 && mo <= 12 && d >= 1 && y >= 0)) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo]);
}

/** YYYY-MM-DD, or the US M/D/YYYY that spreadsheet exports produce; returns the ISO form. */
export function parseFlexibleDate(value: string): string | null {
  if (isIsoDate(value)) return value;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  if (!m) return null;
  const iso = `${m[3]}-${m[1].padStart(2, '0')}-${m[2].padStart(2, '0')}`;
  return isIsoDate(iso) ? iso : null;
}

export interface TextRule { required?: boolean; max?: number; echo?: boolean }
// Shared defaults: a `= {}` default would allocate an object on every call (three per sal row).
const NO_RULE: TextRule = {};
const NO_DATE_RULE: { required?: boolean; flexible?: boolean } = {};

/** Collects the problems of one record while its fields are read. */
export class RowChecker {
  readonly problems: RowProblem[];

  constructor(readonly record: SourceRecord) {
    this.problems = record.problems.length === 0 ? [] : [...record.problems];
  }

  get ok(): boolean { return this.problems.length === 0; }

  problem(field: string, code: string, message: string): void {
    this.problems.push({ field, column: this.record.columns[field], code, message });
  }

  /** The trimmed value, or null when empty. */
  text(field: string, rule: TextRule = NO_RULE): string | null {
    const value = this.record.values[field] ?? '';
    if (value === '') {
      if (rule.required) this.problem(field, 'FG_REQUIRED', `${field} is required`);
      return null;
    }
    // Limits count characters (code points); .length counts UTF-16 units, never fewer.
    if (rule.max !== undefined && value.length > rule.max && [...value].length > rule.max) {
      this.problem(field, 'FG_MAXLEN', `${field} is longer than ${rule.max} characters`);
      return null;
    }
    return value;
  }

  date(field: string, rule: { required?: boolean; flexible?: boolean } = NO_DATE_RULE): string | null {
    const value = this.text(field, rule);
    if (value === null) return null;
    const iso = rule.flexible ? parseFlexibleDate(value) : (isIsoDate(value) ? value : null);
    if (iso === null) this.problem(field, 'FG_DATE', `${field} is not a real date in YYYY-MM-DD form`);
    return iso;
  }

  /** true/false (also 1/0, yes/no, case-insensitive); `fallback` when empty. */
  bool(field: string, fallback: boolean): boolean {
    const value = this.record.values[field] ?? '';
    if (value === '') return fallback;
    switch (value.toLowerCase()) {
      case 'true': case '1': case 'yes': case 'y': return true;
      case 'false': case '0': case 'no': case 'n': return false;
    }
    this.problem(field, 'FG_BOOL', `${field} must be true or false`);
    return fallback;
  }

  country(field: string, rule: { required?: boolean } = NO_RULE): string | null {
    const value = this.text(field, rule);
    if (value === null) return null;
    const upper = value.toUpperCase();
    if (!isCountryCode(upper)) {
      this.problem(field, 'FG_COUNTRY', `${field} '${value.slice(0, 10)}' is not an ISO 3166 alpha-2 country code`);
      return null;
    }
    return upper;
  }

  email(field: string, rule: TextRule = NO_RULE): string | null {
    const value = this.text(field, rule);
    if (value === null) return null;
    if (!isEmail(value)) {
      this.problem(field, 'FG_EMAIL', `${field} is not an e-mail address`);
      return null;
    }
    return value;
  }
}

/** Writes a row's problems to the report as errors and counts the row as rejected. */
export function rejectRow(report: ReportBuilder, line: number | undefined, problems: readonly RowProblem[], entityId?: string): void {
  for (const p of problems) {
    report.add({ line, column: p.column, field: p.field, severity: 'error', code: p.code, entityId, message: p.message });
  }
  report.count('rejected', entityId, line);
}

export { canonicalJson } from '../canonical-json';
