import type { SFTPWrapper } from 'ssh2';
import { rawChannelOf, sendRaw, type RawChannel } from './raw-replies';

/**
 * OpenSSH's `limits@openssh.com` extension. OpenSSH's `sftp` asks for it when the server's
 * VERSION packet lists it, and then uploads in 255 KiB WRITE requests instead of 32 KiB:
 * 8x fewer requests, handler calls and STATUS replies per upload (each reply is an encrypted
 * SSH packet and, with TCP_NODELAY, a TCP segment). OpenSSH's own sftp-server advertises it.
 *
 * ssh2 1.17 answers INIT with a fixed VERSION packet without extensions and has no API for
 * extended replies, so this uses a few of its internals (the SFTP object's `push`, `_version`,
 * and raw channel writes: raw-replies.ts). They are checked first: with an ssh2 that lacks them
 * nothing changes and clients keep their 32 KiB default.
 */

export const LIMITS_EXTENSION = 'limits@openssh.com';
/** ssh2 refuses inbound SFTP packets longer than 256 KiB (its `_maxInPktLen`). */
const MAX_PACKET = 256 * 1024;
/** Like OpenSSH's sftp-server: room for the request header inside one packet. */
const MAX_DATA = MAX_PACKET - 1024;
const SSH_FXP_INIT = 1;
const SSH_FXP_VERSION = 2;
const SSH_FXP_EXTENDED_REPLY = 201;

interface Ssh2SftpInternals extends RawChannel {
  push(data: Buffer | null): unknown;
  _version: number;
  _pktLenBytes: number;
  emit(event: string): boolean;
}

function internalsOf(sftp: SFTPWrapper): Ssh2SftpInternals | undefined {
  const s = sftp as unknown as Partial<Ssh2SftpInternals>;
  const ok = typeof s.push === 'function' && s._version === -1 && s._pktLenBytes === 0 && rawChannelOf(sftp) !== undefined;
  return ok ? (s as Ssh2SftpInternals) : undefined;
}

function versionPacket(version: number): Buffer {
  const name = Buffer.from(LIMITS_EXTENSION);
  const body = Buffer.alloc(1 + 4 + 4 + name.length + 4 + 1);
  let p = body.writeUInt8(SSH_FXP_VERSION, 0);
  p = body.writeUInt32BE(version, p);
  p = body.writeUInt32BE(name.length, p);
  p += name.copy(body, p);
  p = body.writeUInt32BE(1, p);
  body.write('1', p);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/**
 * Makes ssh2's SFTP server answer INIT with a VERSION listing limits@openssh.com. Call right
 * after accepting the subsystem, before the client's INIT can arrive.
 */
export function advertiseLimits(sftp: SFTPWrapper): void {
  const s = internalsOf(sftp);
  if (!s) return;
  const original = s.push.bind(s);
  s.push = (data: Buffer | null): unknown => {
    s.push = original;
    // Only the plain case: the first chunk is exactly one INIT packet (it always is in practice).
    if (data && data.length >= 9 && data.readUInt32BE(0) === data.length - 4 && data[4] === SSH_FXP_INIT) {
      const version = Math.min(data.readUInt32BE(5), 3);
      if (sendRaw(s, versionPacket(version))) {
        s._version = version;
        s.emit('ready');
        return undefined;
      }
    }
    return original(data);
  };
}

/** Answers a limits@openssh.com request; false if it could not be sent (caller answers with a status). */
export function replyLimits(sftp: SFTPWrapper, reqid: number, maxOpenHandles: number): boolean {
  const s = rawChannelOf(sftp);
  if (!s) return false;
  const packet = Buffer.alloc(4 + 1 + 4 + 4 * 8);
  let p = packet.writeUInt32BE(packet.length - 4, 0);
  p = packet.writeUInt8(SSH_FXP_EXTENDED_REPLY, p);
  p = packet.writeUInt32BE(reqid, p);
  for (const value of [MAX_PACKET, MAX_DATA, MAX_DATA, maxOpenHandles]) p = packet.writeBigUInt64BE(BigInt(value), p);
  return sendRaw(s, packet);
}
