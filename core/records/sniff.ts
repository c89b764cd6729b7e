import { open } from 'node:fs/promises';

export type Sniffed =
  | { kind: 'empty' }
  | { kind: 'zip' }
  | { kind: 'ole' }
  | { kind: 'utf16'; reason: string }
  | { kind: 'nul'; offset: number }
  | { kind: 'text' };

const SAMPLE = 4096;

/** Looks at the first bytes: what kind of file this really is, whatever its name says; and its size. */
export async function sniffFile(path: string): Promise<Sniffed & { size: number }> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SAMPLE);
    const { bytesRead } = await handle.read(buf, 0, SAMPLE, 0);
    const { size } = await handle.stat();
    return { ...sniffBytes(buf.subarray(0, bytesRead)), size };
  } finally {
    await handle.close();
  }
}

export function sniffBytes(head: Buffer): Sniffed {
  if (head.length === 0) return { kind: 'empty' };
  // xlsx, ods, docx and plain zips all start with a local file header.
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return { kind: 'zip' };
  // The OLE2 compound document of legacy .xls files.
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))) return { kind: 'ole' };
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return { kind: 'utf16', reason: 'it starts with a UTF-16 byte order mark' };
  }
  const firstNul = head.indexOf(0);
  if (firstNul !== -1) {
    // UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte.
    let nulsAtEven = 0;
    let nulsAtOdd = 0;
    for (let i = 0; i < head.length; i++) if (head[i] === 0) { if (i % 2 === 0) nulsAtEven++; else nulsAtOdd++; }
    if (Math.max(nulsAtEven, nulsAtOdd) >= head.length / 4) return { kind: 'utf16', reason: 'every other byte is NUL' };
    return { kind: 'nul', offset: firstNul };
  }
  // A UTF-8 BOM and blank lines only: nothing to read.
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (head.length < SAMPLE && text.trim() === '') return { kind: 'empty' };
  return { kind: 'text' };
}
