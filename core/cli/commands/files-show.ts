import { FluxgateError } from '../../errors';
import { clientText, eventView, fileView } from '../../intake/file-view';
import type { FileEvent, JournalFile } from '../../store/journal-types';
import { printable } from '../../text-table';

const iso = (t: number): string => new Date(t).toISOString();

/**
 * `fluxgate files show ID`: one file's details and timeline (read by the caller), as text or JSON. Its own module,
 * without commander or the configuration's schemas: the fast path (core/cli/fast-path.ts) runs
 * it too.
 */
export function showFile(
  id: string, file: JournalFile | undefined, timeline: readonly FileEvent[], json: boolean,
  out: { print(line?: string): void; printJson(value: unknown): void },
): void {
  if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`);
  if (json) return out.printJson({ ...fileView(file), events: timeline.map(eventView) });
  for (const [k, v] of Object.entries(fileView(file))) {
    // A missing client is said, not left out: it tells a file dropped by other means.
    if (k === 'client') out.print(`${k.padEnd(12)} ${clientText(file.client)}`);
    else if (v !== null && v !== undefined) out.print(`${k.padEnd(12)} ${printable(v)}`);
  }
  out.print('');
  out.print('timeline:');
  for (const e of timeline) {
    const detail = Object.entries(e.detail).filter(([k]) => k !== 'messages')
      .map(([k, v]) => `${k}=${printable(v)}`).join(' ');
    out.print(`  ${iso(e.at)}  ${e.type.padEnd(14)} ${detail}`.trimEnd());
    const messages = e.detail.messages;
    if (Array.isArray(messages)) {
      for (const m of messages as Array<Record<string, unknown>>) {
        // Where first (line, column, field as the file names it), as the report's columns.
        const where = [m.line ? `line ${printable(m.line)}` : '', m.column ? `column ${printable(m.column)}` : '', m.field ? `field ${printable(m.field)}` : ''];
        out.print(`      ${[...where, m.severity, m.code, m.entityId, m.message].filter(Boolean).join('  ')}`);
      }
    }
  }
}
