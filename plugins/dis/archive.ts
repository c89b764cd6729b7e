import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { rejectFile, type PluginSettings } from '../../core/plugin-api';

export type Limits = PluginSettings['documents'];

/** Below this size an entry's compression ratio says nothing (a page of blanks compresses 100×). */
const RATIO_FLOOR_BYTES = 64 * 1024;
const MAX_XML_BYTES = 1024 * 1024;

export interface DocumentPair { stem: string; pdf: Entry; xml: Entry }

/** Junk that archivers add and nobody means to send. */
const isNoise = (name: string) => name.startsWith('__MACOSX/') || /(^|\/)\._/.test(name) || /(^|\/)(Thumbs\.db|\.DS_Store)$/i.test(name);

export async function openArchive(path: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (err) {
    throw rejectFile('FG_ZIP', `the archive cannot be read: ${(err as Error).message}`);
  }
}

/**
 * Reads the central directory and checks it before a single byte is inflated: entry count,
 * unsafe names (yauzl refuses `..` and absolute paths; they become FG_ZIP_UNSAFE), duplicates,
 * encryption, total size, compression ratio, and that every PDF has its XML and vice versa.
 */
export async function listDocuments(zip: ZipFile, limits: Limits): Promise<{ pairs: DocumentPair[]; ignored: string[] }> {
  if (zip.entryCount > limits.maxEntries) {
    throw rejectFile('FG_ZIP_LIMIT', `the archive has ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed`, { entries: zip.entryCount });
  }
  const entries = await readEntries(zip);
  const seen = new Map<string, string>();
  let total = 0;
  const ignored: string[] = [];
  const byStem = new Map<string, { pdf?: Entry; xml?: Entry }>();
  for (const entry of entries) {
    const name = entry.fileName;
    if (name.endsWith('/')) continue;
    if (name.startsWith('/') || name.split('/').includes('..') || /^[a-zA-Z]:/.test(name) || name.includes('\0')) {
      throw rejectFile('FG_ZIP_UNSAFE', `the archive entry "${name}" leaves the archive (absolute path or ..)`, { entry: name });
    }
    const folded = name.toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) {
      const what = earlier === name ? `"${name}" twice` : `"${earlier}" and "${name}", the same name but for case (one file once extracted on most systems)`;
      throw rejectFile('FG_ZIP_UNSAFE', `the archive holds ${what}`, { entry: name });
    }
    seen.set(folded, name);
    if (entry.isEncrypted()) throw rejectFile('FG_ZIP_UNSAFE', `the archive entry "${name}" is encrypted`, { entry: name });
    total += entry.uncompressedSize;
    if (total > limits.maxTotalUncompressedBytes) {
      throw rejectFile('FG_ZIP_LIMIT', `the archive expands to more than ${limits.maxTotalUncompressedBytes} bytes`, { limit: limits.maxTotalUncompressedBytes });
    }
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (entry.uncompressedSize >= RATIO_FLOOR_BYTES && ratio > limits.maxCompressionRatio) {
      throw rejectFile('FG_ZIP_LIMIT', `the archive entry "${name}" expands ${Math.round(ratio)} times, more than the ${limits.maxCompressionRatio} allowed (zip bomb?)`, { entry: name, ratio });
    }
    if (isNoise(name)) { ignored.push(name); continue; }
    const m = /^(.*)\.(pdf|xml)$/i.exec(name);
    if (!m) { ignored.push(name); continue; }
    const slot = byStem.get(m[1]) ?? {};
    slot[m[2].toLowerCase() as 'pdf' | 'xml'] = entry;
    byStem.set(m[1], slot);
  }
  const pairs: DocumentPair[] = [];
  for (const [stem, { pdf, xml }] of [...byStem].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!pdf) throw rejectFile('FG_ZIP_PAIRING', `"${xml!.fileName}" has no document: expected "${stem}.pdf" next to it`, { entry: xml!.fileName });
    if (!xml) throw rejectFile('FG_ZIP_PAIRING', `"${pdf.fileName}" has no metadata: expected "${stem}.xml" next to it`, { entry: pdf.fileName });
    if (xml.uncompressedSize > MAX_XML_BYTES) throw rejectFile('FG_ZIP_LIMIT', `"${xml.fileName}" is larger than ${MAX_XML_BYTES} bytes`, { entry: xml.fileName });
    pairs.push({ stem, pdf, xml });
  }
  if (pairs.length === 0) throw rejectFile('FG_EMPTY_FILE', 'the archive holds no document (X.pdf with its X.xml)');
  return { pairs, ignored };
}

function readEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => { entries.push(e); zip.readEntry(); });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(/absolute path|relative path|invalid characters/i.test(err.message)
      ? rejectFile('FG_ZIP_UNSAFE', `the archive has an unsafe entry name: ${err.message}`)
      : rejectFile('FG_ZIP', `the archive cannot be read: ${err.message}`)));
    zip.readEntry();
  });
}

export async function readSmallEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntry(zip, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Streams a PDF once: its SHA-256, its size, and whether it starts with `%PDF-`. */
export async function inspectPdf(zip: ZipFile, entry: Entry): Promise<{ sha256: string; size: number; isPdf: boolean }> {
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of await openEntry(zip, entry)) {
    const buf = chunk as Buffer;
    if (head.length < 5) head = Buffer.concat([head, buf.subarray(0, 5 - head.length)]);
    hash.update(buf);
    size += buf.length;
  }
  return { sha256: hash.digest('hex'), size, isPdf: head.toString('latin1') === '%PDF-' };
}

export async function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  try {
    return await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw rejectFile('FG_ZIP', `"${entry.fileName}" cannot be read: ${(err as Error).message}`, { entry: entry.fileName });
  }
}
