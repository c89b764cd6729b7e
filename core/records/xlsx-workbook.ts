import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Row } from 'exceljs';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

/**
 * An XLSX workbook's first worksheet, read through the archive's central directory.
 *
 * exceljs's streaming WorkbookReader reads the archive in one pass, in stored order: its
 * worksheets (stored before xl/workbook.xml by exceljs and others) wait in temporary files, and
 * the workbook's own part, stored last, was now and then not delivered before that pass ended
 * (exceljs issue #3064). The worksheet then failed `Cannot read properties of undefined (reading
 * 'sheets')` and a good file was rejected FG_XLSX (1 read in 40 of a two-sheet workbook here;
 * it failed a CI run). Reading the central directory (yauzl, as the dis plugin reads its
 * archives; exceljs PR #3065 proposes the same with unzipper's Open) gives each part when
 * asked: the relationships, the workbook, the shared strings and the styles first, then the
 * first sheet of the workbook's list, streamed row by row (no temporary file). The parsing
 * stays exceljs's own (its WorkbookReader's part parsers, exceljs 4.4.0).
 */

/** The parts of exceljs's WorkbookReader used here (lib/stream/xlsx/workbook-reader.js, 4.4.0). */
export interface WorkbookReaderParts {
  model?: { sheets?: Array<{ rId?: string }> };
  workbookRels?: Array<{ Id: string; Target: string }>;
  sharedStrings?: unknown[];
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(rows: AsyncIterable<unknown>, sheetNo: string): Generator<{ eventType: string; value: unknown }>;
}

/**
 * The rows of the first worksheet of the workbook at `path` (exceljs's WorksheetReader rows),
 * after `reader` has parsed the parts it needs; none when the workbook lists no sheet. The
 * archive is open until the rows are read or the caller stops.
 */
export async function* firstSheetRows(path: string, reader: WorkbookReaderParts): AsyncGenerator<Row> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  try {
    const parts = new Map((await entriesOf(zip)).map((e) => [e.fileName.replace(/^\//, ''), e]));
    const part = async (name: string): Promise<Readable | undefined> => {
      const entry = parts.get(name);
      return entry ? zip.openReadStreamPromise(entry) : undefined;
    };
    const rels = await part('xl/_rels/workbook.xml.rels');
    if (rels) await reader._parseRels(rels);
    const workbook = await part('xl/workbook.xml');
    if (!workbook) throw new Error('it has no xl/workbook.xml');
    await reader._parseWorkbook(workbook);
    const strings = await part('xl/sharedStrings.xml');
    if (strings) for await (const _ of reader._parseSharedStrings(strings)); // 'cache': fills reader.sharedStrings
    const styles = await part('xl/styles.xml');
    if (styles) await reader._parseStyles(styles);

    const first = reader.model?.sheets?.[0];
    if (!first) return;
    const target = reader.workbookRels?.find((r) => r.Id === first.rId)?.Target;
    if (!target) throw new Error(`its first sheet (${first.rId ?? 'no id'}) has no relationship to a part`);
    // Targets are relative to xl/ (`worksheets/sheet1.xml`), or absolute in the archive.
    const name = target.startsWith('/') ? target.slice(1) : posix.normalize(`xl/${target}`);
    const sheet = await part(name);
    if (!sheet) throw new Error(`its first sheet's part ${name} is missing`);
    const sheetNo = /sheet(\d+)\.xml$/.exec(name)?.[1] ?? '1';
    for (const { eventType, value } of reader._parseWorksheet(sheet, sheetNo)) {
      if (eventType === 'worksheet') yield* value as AsyncIterable<Row>;
    }
  } finally {
    zip.close();
  }
}

function entriesOf(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}
