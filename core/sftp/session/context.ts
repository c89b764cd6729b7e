import type { Attributes, SFTPWrapper } from 'ssh2';
import type { FluxgateConfig } from '../../config/schema';
import type { UploadClient, UploadEvents } from '../../events';
import type { Logger } from '../../logging/logger';
import type { PathJail } from '../path-jail';
import type { AccessPolicy } from '../permissions';
import type { HandleTable } from './handles';

/** Bounds SFTP WRITE requests being written at once: past the limit the socket stops being read. */
export class WriteGate {
  private inflight = 0;
  private paused = false;

  constructor(private readonly max: number, private readonly pause: () => void, private readonly resume: () => void) {}

  /** Whether the socket is paused: gathered writes must go to disk now, whatever their size. */
  get pressured(): boolean { return this.paused; }

  acquire(requests = 1): void {
    this.inflight += requests;
    if (this.inflight >= this.max && !this.paused) {
      this.paused = true;
      this.pause();
    }
  }

  release(requests = 1): void {
    this.inflight -= requests;
    if (this.paused && this.inflight <= this.max / 2) {
      this.paused = false;
      this.resume();
    }
  }
}

/** What every request handler of one SFTP session works with. */
export interface SessionContext {
  sftp: SFTPWrapper;
  accountId: string;
  /** The logged-in client (real address behind a trusted proxy), announced with each upload. */
  client: UploadClient;
  /**
   * Rejects with FG_PERMISSION_DENIED (and ends the connection) once the login no longer holds:
   * the account disabled or removed, the key removed… Awaited before every request and right
   * before an upload is published (see LiveLogins.check).
   */
  recheck: () => Promise<void>;
  jail: PathJail;
  policy: AccessPolicy;
  handles: HandleTable;
  writes: WriteGate;
  /** Audit logger: child of the sftp component with account, session and address. */
  audit: Logger;
  sftpConfig: FluxgateConfig['sftp'];
  events: UploadEvents;
  /**
   * Attributes of files this session completed, by virtual path. Intake may move an upload out
   * of in/ at once, but clients (paramiko's put, some GUI clients) STAT the file right after
   * uploading it and fail if it is gone: they get these attributes instead.
   */
  recentUploads: Map<string, Attributes>;
  /** The limits (`sftp.limits.*` settings) this session has been refused by, so far: warned about once each. */
  limitsReached: Set<string>;
}
