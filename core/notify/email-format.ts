import type { FluxgateEvent } from '../store/event-types';

/** Mails of events: a subject that says what happened and to which account, plain text and HTML. */

export interface MailContent { subject: string; text: string; html: string }

const WHAT: Record<string, string> = {
  'file.received': 'file received', 'file.processed': 'file processed', 'file.rejected': 'file rejected', 'file.dead': 'file failed (dead)',
  'account.disabled': 'account disabled', 'account.purged': 'account purged', 'key.expiring': 'SSH key expiring', 'key.expired': 'SSH key expired',
  'login.banned': 'address banned after failed logins', 'expectation.late': 'expected file late', 'expectation.missed': 'expected file missed',
  'expectation.recovered': 'expected file arrived after its deadline',
};

const what = (e: FluxgateEvent): string => WHAT[e.type] ?? e.type;

function subjectOf(events: FluxgateEvent[]): string {
  if (events.length === 1) {
    const e = events[0];
    return `[fluxgate] ${what(e)}${e.account ? ` for account ${e.account}` : ''}${e.name ? `: ${e.name}` : ''}${e.code ? ` (${e.code})` : ''}`;
  }
  const counts = new Map<string, number>();
  for (const e of events) counts.set(what(e), (counts.get(what(e)) ?? 0) + 1);
  const accounts = [...new Set(events.map((e) => e.account).filter((a): a is string => a !== undefined))];
  const summary = [...counts].map(([w, n]) => (n > 1 ? `${n} × ${w}` : w)).join(', ');
  return `[fluxgate] ${events.length} events${accounts.length ? ` for account${accounts.length > 1 ? 's' : ''} ${accounts.join(', ')}` : ''}: ${summary}`;
}

function fields(e: FluxgateEvent): Array<[string, string]> {
  const rows: Array<[string, string | undefined]> = [
    ['time', e.time], ['event', `${e.type} (${e.id})`], ['account', e.account], ['flux', e.flux], ['name', e.name],
    ['code', e.code], ['summary', e.summary], ['file', e.fileId && `${e.fileId} (fluxgate files show ${e.fileId})`],
  ];
  return rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A file name comes from an SFTP client: no control character reaches a mail header. */
// eslint-disable-next-line no-control-regex -- control characters are what is removed
const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 250);

export function formatMail(events: FluxgateEvent[]): MailContent {
  const subject = oneLine(subjectOf(events));
  const text = [
    events.length === 1 ? 'fluxgate reports this event:' : `fluxgate reports ${events.length} events:`,
    ...events.map((e) => ['', ...fields(e).map(([k, v]) => `${k.padEnd(8)} ${v}`)].join('\n')),
    '', '-- fluxgate (events: docs/events.md)', '',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>${escapeHtml(events.length === 1 ? 'fluxgate reports this event:' : `fluxgate reports ${events.length} events:`)}</p>
${events.map((e) => `<table style="border-collapse:collapse;margin-bottom:1em">${fields(e)
    .map(([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`).join('\n')}
</body></html>
`;
  return { subject, text, html };
}
