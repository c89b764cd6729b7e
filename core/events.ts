/** A completed upload as announced by the SFTP server (account-relative path, e.g. `in/sal/x.csv`). */
export interface CompletedUpload {
  accountId: string;
  path: string;
  absolutePath: string;
  size: number;
  /** Who sent it: the session's client (the journal keeps it, see UploadClient). */
  client: UploadClient;
}

/**
 * The SFTP client of an upload: its address as the audit log sees it (the real client's behind a
 * trusted PROXY protocol proxy, canonical form) and the fingerprint of the key it logged in
 * with (null for a password login). The SSH user name is the account id, already on the file.
 */
export interface UploadClient {
  address: string;
  fingerprint: string | null;
}

type Listener = (upload: CompletedUpload) => void;

/**
 * In-process announcements of completed uploads, so intake need not wait for the watcher.
 * The SFTP server only announces; it never learns who listens (or that workflows exist).
 */
export class UploadEvents {
  private readonly listeners = new Set<Listener>();

  onCompleted(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  completed(upload: CompletedUpload): void {
    for (const listener of this.listeners) listener(upload);
  }

  private readonly signalListeners = new Set<(signal: ServerSignal) => void>();

  onSignal(listener: (signal: ServerSignal) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** Cheap when nobody listens (CLI commands, a server without the HTTP plane). */
  signal(signal: ServerSignal): void {
    for (const listener of this.signalListeners) listener(signal);
  }
}

/**
 * What the SFTP server tells about itself, for metrics (core/http/metrics.ts listens). Said
 * on the same injected sink as uploads, so core/sftp depends on nothing of the HTTP plane.
 */
export type ServerSignal =
  | { type: 'login'; result: 'accepted' | 'refused' }
  /** An address banned after repeated authentication failures (the last user name tried; `until` in epoch ms). */
  | { type: 'ban'; address: string; user: string; until: number }
  | { type: 'session'; open: boolean }
  | { type: 'download'; bytes: number };
