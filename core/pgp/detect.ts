import { open } from 'node:fs/promises';

const ARMOR_HEADER = '-----BEGIN PGP MESSAGE-----';
/** Enough for the armor header after some blank lines, or a binary packet header and its first body bytes. */
const SNIFF_BYTES = 256;

/**
 * Whether a file is an encrypted OpenPGP message, whatever its name: ASCII-armored
 * (`-----BEGIN PGP MESSAGE-----`), or binary starting with a packet only encrypted messages
 * start with (public-key or symmetric-key encrypted session key, marker, encrypted data),
 * with a valid version in its body. The version check keeps text that happens to start with
 * the same byte (a UTF-8 "É" is 0xC3, the new-format header of a symmetric-key session key
 * packet) from being taken for a message. A missing file is not a message (false).
 */
export async function isPgpMessageFile(path: string): Promise<boolean> {
  let head: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  return isPgpMessageStart(head);
}

/** The same test on the first bytes of a file (at least the first 8 or so). */
export function isPgpMessageStart(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  if (Buffer.from(head).toString('latin1').trimStart().startsWith(ARMOR_HEADER)) return true;
  const packet = readPacketHeader(head);
  if (!packet) return false;
  const body = head.subarray(packet.bodyOffset);
  if (body.length === 0) return false;
  switch (packet.tag) {
    case 1: return body[0] === 3 || body[0] === 6; // public-key encrypted session key (v3, v6)
    case 3: return body[0] === 4 || body[0] === 5 || body[0] === 6; // symmetric-key encrypted session key
    case 10: return Buffer.from(body.subarray(0, 3)).toString('latin1') === 'PGP'; // marker
    case 18: return body[0] === 1 || body[0] === 2; // sym. encrypted and integrity protected data (v1, v2)
    default: return false;
  }
}

/** RFC 9580 §4.2: old- and new-format packet headers; undefined when the first byte is not one. */
function readPacketHeader(head: Uint8Array): { tag: number; bodyOffset: number } | undefined {
  const first = head[0];
  if ((first & 0x80) === 0) return undefined;
  if (first & 0x40) {
    const tag = first & 0x3f;
    const l = head[1];
    if (l === undefined) return undefined;
    if (l < 192) return { tag, bodyOffset: 2 };
    if (l < 224) return { tag, bodyOffset: 3 };
    if (l === 255) return { tag, bodyOffset: 6 };
    return { tag, bodyOffset: 2 }; // partial body length
  }
  const tag = (first >> 2) & 0x0f;
  const lengthType = first & 0x03;
  return { tag, bodyOffset: 1 + [1, 2, 4, 0][lengthType] };
}
