/** A completed upload as announced by the SFTP server (account-relative path, e.g. `in/sal/x.csv`). */
export interface CompletedUpload {
  accountId: string;
  path: string;
  absolutePath: string;
  size: number;
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
}
