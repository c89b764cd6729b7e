import { ERROR_CODES, type ErrorCode } from '../errors';
import type { FluxCounts } from '../plugin-api/outcome';
import type { ReportMessage } from '../plugin-api/report';

export interface ReportContent {
  fileName: string;
  receivedAt: Date;
  counts: FluxCounts;
  /** processed, rejected, failed (dead after its last attempt). */
  result: string;
  summary?: string;
  messages: readonly ReportMessage[];
  dropped?: number;
  /** false: nothing was applied (a test file in production); the report gets an `applied;no` line. */
  applied?: boolean;
}

const BOM = '\uFEFF';
const SENSITIVE_FIELD = /birth|dob|naissance|phone|mobile|tel(e|é)?phone|^tel$|fax|portable/i;
/** International (+33 6…) or trunk-prefixed (06 12…) numbers: what phone numbers look like in HR files. */
const PHONE_LIKE = /(?:\+|\b0)\d[\d .()/-]{6,}\d/g;
const DATE_ONLY = /^(\d{4}-\d{2}-\d{2}|\d{2}[/.]\d{2}[/.]\d{4})$/;

/**
 * Renders a report: UTF-8 with BOM, `;`-separated, CRLF. A summary block (`file`, `received`,
 * `created`, `updated`, `unchanged`, `rejected`, `result`, then when they apply `applied`,
 * `summary`, `messages_not_listed`), a blank line, then one line per message. Values are neutralised against spreadsheet formula injection, and
 * messages about birth dates or phone numbers never carry the value itself.
 */
export function renderReport(r: ReportContent): string {
  const rows: string[][] = [
    ['file', r.fileName],
    ['received', r.receivedAt.toISOString()],
    ['created', String(r.counts.created)],
    ['updated', String(r.counts.updated)],
    ['unchanged', String(r.counts.unchanged)],
    ['rejected', String(r.counts.rejected)],
    ['result', r.result],
  ];
  // Only when nothing was applied, after the lines every report has, so that their positions stay.
  if (r.applied === false) rows.push(['applied', 'no']);
  if (r.summary) rows.push(['summary', r.summary]);
  if (r.dropped) rows.push(['messages_not_listed', String(r.dropped)]);
  rows.push([]);
  rows.push(['line', 'column', 'field', 'severity', 'code', 'entity_id', 'message']);
  for (const m of inLineOrder(r.messages)) {
    rows.push([
      m.line === undefined ? '' : String(m.line),
      m.column === undefined ? '' : String(m.column),
      m.field ?? '', m.severity, m.code ?? '', m.entityId ?? '', redact(m),
    ]);
  }
  return BOM + rows.map((cells) => cells.map(cell).join(';')).join('\r\n') + '\r\n';
}

/**
 * Messages without a line (about the whole file) first, then by line: handlers add them as they
 * decide (a big file's rejections while it streams, its created rows at the end). The sort is
 * stable, so a row's problems stay in their order, before its `rejected` line.
 */
export function inLineOrder(messages: readonly ReportMessage[]): ReportMessage[] {
  return [...messages].sort((a, b) => (a.line ?? -1) - (b.line ?? -1));
}

/** Messages about sensitive fields keep their code's wording, never the value; phone-like runs are masked anywhere. */
function redact(m: ReportMessage): string {
  if (m.field && SENSITIVE_FIELD.test(m.field)) {
    const generic = m.code && m.code in ERROR_CODES ? ERROR_CODES[m.code as ErrorCode] : 'the value is not acceptable';
    return `${m.field}: ${generic}`;
  }
  return m.message.replace(PHONE_LIKE, (s) => (DATE_ONLY.test(s) ? s : '[redacted]'));
}

/** Neutralises formula triggers (`= + - @`, and tab/CR which some spreadsheets also honour), then quotes for CSV. */
export function cell(value: string): string {
  let v = value.replace(/\r?\n/g, ' ');
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[;"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
