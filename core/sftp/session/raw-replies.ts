import type { SFTPWrapper } from 'ssh2';

/**
 * SFTP replies sent as raw bytes on the session's channel, through ssh2 1.17 internals (the SFTP
 * object's `_protocol.channelData`, `outgoing`, `_buffer`). Used where ssh2 has no API: the
 * limits@openssh.com VERSION and EXTENDED_REPLY (openssh-limits.ts), and the acknowledgements of
 * a written run of WRITEs, sent as one SSH packet (`sendOkStatuses`).
 *
 * Each use is checked first (`rawChannelOf`) and falls back to ssh2's own methods when the
 * internals are missing or the channel cannot take the bytes now; test/unit/sftp-raw-replies.test.ts
 * fails when ssh2 changes them.
 */

export interface RawChannel {
  _protocol: { channelData(id: number, data: Buffer): void };
  outgoing: { id: number; window: number; packetSize: number; state: string };
  /** Replies waiting for window; the last one may be half sent. */
  _buffer: unknown[];
}

export function rawChannelOf(sftp: SFTPWrapper): RawChannel | undefined {
  const s = sftp as unknown as Partial<RawChannel>;
  const ok = typeof s._protocol?.channelData === 'function' && typeof s.outgoing?.window === 'number'
    && typeof s.outgoing.packetSize === 'number' && Array.isArray(s._buffer);
  return ok ? (s as RawChannel) : undefined;
}

/**
 * Sends whole SFTP packets now, as one channel-data message, if the channel's window and the
 * client's packet size allow it (true); else does nothing (false), and the caller sends them
 * through ssh2, which queues what the window cannot take.
 */
export function sendRaw(s: RawChannel, packets: Buffer): boolean {
  const out = s.outgoing;
  // Never between the halves of a reply ssh2 is still sending (queued for window).
  if (s._buffer.length > 0) return false;
  if (out.state !== 'open' || out.window < packets.length || out.packetSize < packets.length) return false;
  out.window -= packets.length;
  s._protocol.channelData(out.id, packets);
  return true;
}

/** SSH_FXP_STATUS with SSH_FX_OK, an empty message and an empty language tag: 21 bytes. */
const OK_STATUS_LENGTH = 4 + 1 + 4 + 4 + 4 + 4;
const SSH_FXP_STATUS = 101;

/**
 * Answers OK to every request of `requests` with one channel-data message (one SSH packet to
 * encrypt, one socket write, one TCP segment, one message for the client to decrypt) instead of
 * one each. Returns false, having sent nothing, when it cannot (the caller answers them one by one).
 */
export function sendOkStatuses(sftp: SFTPWrapper, requests: readonly number[]): boolean {
  const s = rawChannelOf(sftp);
  if (!s || requests.length === 0) return false;
  const packets = Buffer.alloc(OK_STATUS_LENGTH * requests.length);
  for (let i = 0, p = 0; i < requests.length; i++, p += OK_STATUS_LENGTH) {
    packets.writeUInt32BE(OK_STATUS_LENGTH - 4, p);
    packets[p + 4] = SSH_FXP_STATUS;
    packets.writeUInt32BE(requests[i], p + 5);
    // Status code 0 (OK), message and language tag empty: the zeros Buffer.alloc left.
  }
  return sendRaw(s, packets);
}
