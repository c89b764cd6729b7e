/** The proof-of-receipt XML, exactly in the exchange protocol's form (SHA1 first, then SHA256). */
export interface ReceiptContent {
  fileName: string;
  /** When the proof was made. */
  madeAt: Date;
  sha1: string;
  sha256: string;
  size: number;
}

export function renderReceipt(r: ReceiptContent): string {
  return [
    "<?xml version='1.0' encoding='utf-8'?>",
    '<transfert_report version="1">',
    '<file>',
    `<file_name>${escapeXml(r.fileName)}</file_name>`,
    `<file_timestamp>${isoWithOffset(r.madeAt)}</file_timestamp>`,
    `<file_fingerprint algorithm="SHA1">${r.sha1}</file_fingerprint>`,
    `<file_fingerprint algorithm="SHA256">${r.sha256}</file_fingerprint>`,
    `<file_size>${r.size}</file_size>`,
    '</file>',
    '</transfert_report>',
    '',
  ].join('\n');
}

/** `cdmat_{client}_tra_{flux}_{yyyymmddhhmmss}.xml` (server local time, like file_timestamp). */
export function receiptName(client: string, flux: string, madeAt: Date): string {
  return `cdmat_${client}_tra_${flux}_${compactStamp(madeAt)}.xml`;
}

/**
 * The names a receipt made at `madeAt` may take, in order of preference: the protocol's
 * 14-digit second, then that timestamp with milliseconds (17 digits, `yyyymmddhhmmssfff`) from
 * `madeAt`'s millisecond on. A burst of files of one flux thus gets names within milliseconds
 * of the real time, where "the next free second" put 1,000 files 16 minutes in the future.
 * The 14-digit name sorts before the 17-digit ones of its second, as it was made first.
 */
export function* receiptNameCandidates(client: string, flux: string, madeAt: Date): Generator<string> {
  yield receiptName(client, flux, madeAt);
  for (let t = madeAt.getTime(); ; t++) {
    const d = new Date(t);
    yield `cdmat_${client}_tra_${flux}_${compactStamp(d)}${String(d.getMilliseconds()).padStart(3, '0')}.xml`;
  }
}

export function compactStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `2013-01-16T14:20:00+01:00`: local time with its offset, seconds precision. */
export function isoWithOffset(d: Date): string {
  const p = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
    + `${sign}${p(Math.trunc(off / 60))}:${p(off % 60)}`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
