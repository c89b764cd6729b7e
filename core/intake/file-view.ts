import type { FileEvent, JournalFile } from '../store/journal-repository';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** A journal file as the CLI (`files --json`) and the API show it: times as ISO strings. */
export function fileView(f: JournalFile): Record<string, unknown> {
  return {
    id: f.id, account: f.accountId, profile: f.profile, flux: f.flux, name: f.name, path: f.originalPath, size: f.size,
    sha1: f.sha1, sha256: f.sha256, state: f.state, attempts: f.attempts, receivedAt: iso(f.receivedAt),
    processedAt: iso(f.processedAt), location: f.location, receipt: f.receiptWrittenAt ? f.receiptPath : null,
    report: f.reportPath, outcome: f.outcome, naming: f.naming, client: f.client,
  };
}

/** Who sent the file, in words: the address and key of an SFTP upload, or why there is none. */
export function clientText(client: JournalFile['client']): string {
  if (!client) return 'none recorded: found in the account tree (dropped by other means than fluxgate\'s SFTP server, or journaled before it kept clients)';
  return client.fingerprint ? `${client.address} (key ${client.fingerprint})` : `${client.address} (password)`;
}

/** A file's timeline entry: when, what, and the event's details flattened in. */
export function eventView(e: FileEvent): Record<string, unknown> {
  return { at: iso(e.at), type: e.type, ...e.detail };
}
