import type { SFTPWrapper } from 'ssh2';

/**
 * WRITE requests without ssh2's reassembly copy.
 *
 * ssh2 reassembles every inbound SFTP packet into one new Buffer before handling it. A 255 KiB
 * WRITE (limits@openssh.com) arrives as about eight 32 KiB channel-data payloads, so every
 * uploaded byte was allocated and copied once more than needed; that external memory is also
 * what drives most of V8's garbage collections during an upload.
 *
 * This sits in front of ssh2's SFTP parser (the SFTP object's `push`, which ssh2 calls with each
 * channel-data payload). It follows packet boundaries itself: a WRITE's data goes to `sink` as
 * the list of pieces it arrived in (views of ssh2's decrypted payloads, which ssh2 never reuses:
 * it hands out such views itself), and every other packet, and any WRITE it does not fully
 * understand (malformed, too long, before INIT), goes to ssh2's parser unchanged, so its checks
 * and errors apply. Packets are only ever handed over whole, so ssh2's parser is at a packet
 * boundary whenever a WRITE is taken here.
 *
 * ssh2 1.17 internals used: `push`, `server`, `_version`, `_maxInPktLen`, `_biOpt`, `_pktLenBytes`,
 * `_pktPos`. They are checked first (`writeFramingSupported`): with an ssh2 that lacks them this
 * installs nothing and WRITEs arrive through ssh2's 'WRITE' event as before.
 * test/unit/sftp-write-framing.test.ts fails when they change.
 */

const SSH_FXP_WRITE = 6;
/** ssh2 treats a longer handle in a WRITE as malformed. */
const MAX_HANDLE = 256;
/** length(4) type(1) id(4) handle-length(4): enough to know the handle's length. */
const HEAD_FIXED = 13;
/** After the handle: offset(8) data-length(4). */
const HEAD_TAIL = 12;
/** The smallest WRITE packet (empty handle and data), counted from the type byte. */
const MIN_WRITE_LEN = 1 + 4 + 4 + 8 + 4;
/**
 * A WRITE that arrived in more pieces than this is joined into one buffer: a client sending
 * tiny SSH packets must not make iovec lists of thousands of entries.
 */
export const MAX_PIECES = 64;

export type WriteSink = (reqid: number, handle: Buffer, offset: number, pieces: Buffer[], length: number) => void;

interface Ssh2SftpParser {
  push(data: Buffer | null): unknown;
  server: boolean;
  _version: number;
  _maxInPktLen: number;
  _biOpt: unknown;
  _pktLenBytes: number;
  _pktPos: number;
}

function parserOf(sftp: SFTPWrapper): Ssh2SftpParser | undefined {
  const s = sftp as unknown as Partial<Ssh2SftpParser>;
  const ok = typeof s.push === 'function' && s.server === true && s._version === -1
    && typeof s._maxInPktLen === 'number' && s._biOpt === undefined
    && s._pktLenBytes === 0 && s._pktPos === 0;
  return ok ? (s as Ssh2SftpParser) : undefined;
}

/** Whether this ssh2 SFTP server object has the internals the framing relies on (before any data). */
export function writeFramingSupported(sftp: SFTPWrapper): boolean {
  return parserOf(sftp) !== undefined;
}

/**
 * Routes the session's WRITE requests to `sink`; false (nothing installed) if ssh2's internals
 * are not as expected. Install before any data arrives, and before advertiseLimits (which wraps
 * `push` once more for the INIT packet).
 */
export function installWriteFraming(sftp: SFTPWrapper, sink: WriteSink): boolean {
  const s = parserOf(sftp);
  if (!s) return false;
  const framer = new WriteFramer(s, s.push.bind(s), sink);
  s.push = (data: Buffer | null): unknown => framer.push(data);
  return true;
}

class WriteFramer {
  /** The current packet's first bytes (copied: at most a few hundred), until its kind is known. */
  private readonly head = Buffer.allocUnsafe(HEAD_FIXED + MAX_HANDLE + HEAD_TAIL);
  private headLen = 0;
  /** Bytes of the current packet still to hand to ssh2 (a packet it handles). */
  private forwardLeft = 0;
  /** The WRITE being received. */
  private write?: { reqid: number; handle: Buffer; offset: number; pieces: Buffer[]; length: number; left: number };

  constructor(
    private readonly s: Ssh2SftpParser,
    private readonly forward: (data: Buffer | null) => unknown,
    private readonly sink: WriteSink,
  ) {}

  push(data: Buffer | null): unknown {
    if (data === null) return this.forward(null);
    let p = 0;
    while (p < data.length) {
      if (this.forwardLeft > 0) {
        const n = Math.min(this.forwardLeft, data.length - p);
        this.forwardLeft -= n;
        this.forward(p === 0 && n === data.length ? data : data.subarray(p, p + n));
        p += n;
      } else if (this.write) {
        const w = this.write;
        const n = Math.min(w.left, data.length - p);
        w.pieces.push(p === 0 && n === data.length ? data : data.subarray(p, p + n));
        w.left -= n;
        p += n;
        if (w.left === 0) this.completeWrite(w);
      } else {
        p = this.readHead(data, p);
      }
    }
    return undefined;
  }

  /** Copies header bytes of a new packet and decides who handles it; returns the new position. */
  private readHead(data: Buffer, p: number): number {
    const need = this.headLen < 4 ? 4 : this.headLen < HEAD_FIXED ? HEAD_FIXED : HEAD_FIXED + this.head.readUInt32BE(9) + HEAD_TAIL;
    const n = Math.min(need - this.headLen, data.length - p);
    data.copy(this.head, this.headLen, p, p + n);
    this.headLen += n;
    if (this.headLen < need) return p + n;

    const pktLen = this.head.readUInt32BE(0);
    if (this.headLen === 4) {
      // Too short for a WRITE, or too long for ssh2 (which then fails the channel): ssh2's.
      if (pktLen < MIN_WRITE_LEN || pktLen > this.s._maxInPktLen) return this.handOver(pktLen, p + n);
      return p + n;
    }
    if (this.headLen === HEAD_FIXED) {
      const handleLen = this.head.readUInt32BE(9);
      const isWrite = this.head[4] === SSH_FXP_WRITE && this.s._version !== -1;
      if (!isWrite || handleLen > MAX_HANDLE || MIN_WRITE_LEN + handleLen > pktLen) return this.handOver(pktLen, p + n);
      return p + n;
    }
    const handleLen = this.head.readUInt32BE(9);
    const at = HEAD_FIXED + handleLen;
    const dataLen = this.head.readUInt32BE(at + 8);
    // A data length that does not end the packet exactly: ssh2 decides (trailing bytes, or an error).
    if (dataLen !== pktLen - MIN_WRITE_LEN - handleLen) return this.handOver(pktLen, p + n);
    this.write = {
      reqid: this.head.readUInt32BE(5),
      handle: Buffer.from(this.head.subarray(HEAD_FIXED, at)),
      offset: this.head.readUInt32BE(at) * 2 ** 32 + this.head.readUInt32BE(at + 4),
      pieces: [],
      length: dataLen,
      left: dataLen,
    };
    this.headLen = 0;
    if (dataLen === 0) this.completeWrite(this.write);
    return p + n;
  }

  /** ssh2 handles this packet: give it the header bytes read so far, then the rest as it comes. */
  private handOver(pktLen: number, p: number): number {
    const head = Buffer.from(this.head.subarray(0, this.headLen));
    this.forwardLeft = 4 + pktLen - this.headLen;
    this.headLen = 0;
    this.forward(head);
    return p;
  }

  private completeWrite(w: NonNullable<WriteFramer['write']>): void {
    this.write = undefined;
    const pieces = w.pieces.length > MAX_PIECES ? [Buffer.concat(w.pieces, w.length)] : w.pieces;
    this.sink(w.reqid, w.handle, w.offset, pieces, w.length);
  }
}
