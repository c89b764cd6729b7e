import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { rejectFile } from '../plugin-api/outcome';

/**
 * Offset of the first byte of the first invalid UTF-8 sequence (overlong forms, surrogates
 * and code points above U+10FFFF included), or -1. A sequence cut by the end of `buf` is invalid.
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i];
    if (b < 0x80) { i++; continue; }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) { need = 2; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
    else return i;
    if (i + need >= n) return i;
    const c1 = buf[i + 1];
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) if ((buf[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

/** Length of the prefix of `buf` that ends on a sequence boundary (a trailing partial sequence is held back). */
function completeLength(buf: Uint8Array): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return n;
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - i < size ? i : n;
  }
  return n;
}

/**
 * Line endings in buf[0, end): CRLF, LF and a lone CR (old Mac) once each. `afterCR`: the
 * previous chunk ended with a CR (counted there), so an LF first here is the end of its CRLF.
 */
function countLineEnds(buf: Buffer, end: number, afterCR = false): { count: number; loneCR: boolean } {
  let count = afterCR && buf[0] === 10 ? -1 : 0;
  for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) count++;
  let loneCR = false;
  for (let i = buf.indexOf(13); i !== -1 && i < end; i = buf.indexOf(13, i + 1)) {
    // A CR last in the chunk may be lone: the next byte is not read yet.
    if (i + 1 >= end || buf[i + 1] !== 10) { count++; loneCR = true; }
  }
  return { count, loneCR };
}

/**
 * Passes bytes through unchanged, and fails with FG_ENCODING (byte offset and line of the
 * first bad sequence) as soon as the input stops being UTF-8 text: Windows-1252 exports are
 * common; a NUL byte is refused too.
 * Validation uses the native isUtf8 on whole chunks; the byte-by-byte scan only runs on failure.
 */
export class Utf8Guard extends Transform {
  private offset = 0;
  private lines = 1;
  private carry: Buffer | null = null;
  /**
   * Whether a CR not followed by LF has gone through (or may have: one ending a chunk). Until one
   * has, the records parsed so far hold no lone CR, and their lines are counted by LF alone
   * (csv-rows.ts): the common case keeps the cost it had before lone CRs were line ends.
   */
  loneCR = false;
  private endedWithCR = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const end = completeLength(buf);
    const body = buf.subarray(0, end);
    if (!isUtf8(body)) {
      done(this.failure(body, firstInvalidUtf8(body)));
      return;
    }
    // NUL is valid UTF-8 but no text file's: the sniff refuses it in the first 4 KiB, and past
    // them it reached a value, stored by SQLite but refused by PostgreSQL in the middle of a file.
    const nul = body.indexOf(0);
    if (nul !== -1) {
      done(this.failure(body, nul, true));
      return;
    }
    const ends = countLineEnds(body, end, this.endedWithCR);
    this.lines += ends.count;
    if (ends.loneCR) this.loneCR = true;
    if (end > 0) this.endedWithCR = body[end - 1] === 13;
    this.offset += end;
    this.carry = end < buf.length ? Buffer.from(buf.subarray(end)) : null;
    done(null, body);
  }

  override _flush(done: TransformCallback): void {
    if (this.carry) done(this.failure(this.carry, 0));
    else done();
  }

  private failure(buf: Buffer, at: number, nul = false) {
    const offset = this.offset + at;
    const line = this.lines + countLineEnds(buf, at, this.endedWithCR).count;
    if (nul) return rejectFile('FG_ENCODING', `the file contains a NUL byte at byte offset ${offset} (line ${line}): it is not a UTF-8 text file`, { offset, line });
    return rejectFile('FG_ENCODING',
      `the file is not valid UTF-8: the first bad byte sequence is at byte offset ${offset} (line ${line}); ` +
      'save or export the file as UTF-8 (it looks like Windows-1252/Latin-1 when accented letters are wrong)',
      { offset, line });
  }
}
