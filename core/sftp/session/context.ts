import type { Attributes, SFTPWrapper } from 'ssh2';
import type { FluxgateConfig } from '../../config/schema';
import type { UploadClient, UploadEvents } from '../../events';
import type { Logger } from '../../logging/logger';
import type { PathJail } from '../path-jail';
import type { AccessPolicy } from '../permissions';
import type { HandleTable } from './handles';

/**
 * The bytes of WRITE requests one session may hold before they are on disk, whatever their
 * number. OpenSSH's `sftp` keeps 64 requests in flight, of 255 KiB each with
 * limits@openssh.com: 16 MiB per session, held in Node's 64 KiB socket reads, which then live
 * through scavenges and are promoted (freed only at a mark-compact). 4 MiB (what 64 of a plain
 * client's 32 KiB writes would be, twice over) is far more than the disk needs to keep up: it
 * takes 512 KiB runs, one at a time (write-buffer.ts). See upload-scavenge.ts for the rest.
 */
export const INFLIGHT_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * Bounds SFTP WRITE requests being written at once, by count (`sftp.maxInflightWrites`) and by
 * bytes (INFLIGHT_WRITE_BYTES): past either the socket stops being read, and it is read again
 * once both are back to half.
 */
export class WriteGate {
  private inflight = 0;
  private inflightBytes = 0;
  private paused = false;

  constructor(
    private readonly max: number,
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly maxBytes = INFLIGHT_WRITE_BYTES,
  ) {}

  /** Whether the socket is paused: gathered writes must go to disk now, whatever their size. */
  get pressured(): boolean { return this.paused; }

  acquire(requests = 1, bytes = 0): void {
    this.inflight += requests;
    this.inflightBytes += bytes;
    if ((this.inflight >= this.max || this.inflightBytes >= this.maxBytes) && !this.paused) {
      this.paused = true;
      this.pause();
    }
  }

  release(requests = 1, bytes = 0): void {
    this.inflight -= requests;
    this.inflightBytes -= bytes;
    if (this.paused && this.inflight <= this.max / 2 && this.inflightBytes <= this.maxBytes / 2) {
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
