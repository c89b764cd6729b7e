import { isIsoDate, type RowProblem } from '../../core/plugin-api';

export interface DocumentMetadata {
  externalReference: string;
  title: string;
  documentDate: string;
  firstName: string | null;
  lastName: string | null;
  organizationCode: string | null;
  registrationKey: string | null;
  technicalId: string | null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  const raw = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(text)?.[1]
    ?? text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
      return ENTITIES[name] ?? whole;
    });
  return raw.trim().normalize('NFC');
}

/** The text of the first `<tag>` inside `xml`, or null. Enough for this flat, known format. */
function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  if (!m) return null;
  const value = decode(m[1]);
  return value === '' ? null : value;
}

/**
 * Parses one document's metadata XML. A small extractor, not a general XML parser: DTDs
 * and entity declarations are refused outright (no XXE, no billion laughs).
 */
export function parseMetadata(bytes: Buffer): { meta: DocumentMetadata; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const empty: DocumentMetadata = { externalReference: '', title: '', documentDate: '', firstName: null, lastName: null, organizationCode: null, registrationKey: null, technicalId: null };
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { meta: empty, problems: [{ code: 'FG_ENCODING', message: 'the metadata file is not valid UTF-8' }] };
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    return { meta: empty, problems: [{ code: 'FG_INVALID_VALUE', message: 'the metadata file declares a DTD or entities, which are not accepted' }] };
  }
  if (!/<document[\s>]/.test(xml)) {
    return { meta: empty, problems: [{ code: 'FG_INVALID_VALUE', message: 'the metadata file has no <document> element' }] };
  }
  const user = /<user_data(?:\s[^>]*)?>([\s\S]*?)<\/user_data>/.exec(xml)?.[1] ?? '';
  const meta: DocumentMetadata = {
    externalReference: tag(xml, 'external_reference') ?? '',
    title: tag(xml, 'document_title') ?? '',
    documentDate: tag(xml, 'document_date') ?? '',
    firstName: tag(user, 'first_name'),
    lastName: tag(user, 'last_name'),
    organizationCode: tag(user, 'organization_code'),
    registrationKey: tag(user, 'registration_key'),
    technicalId: tag(user, 'technical_id'),
  };
  const need = (field: string, value: string, max: number) => {
    if (value === '') problems.push({ field, code: 'FG_REQUIRED', message: `${field} is required` });
    else if ([...value].length > max) problems.push({ field, code: 'FG_MAXLEN', message: `${field} is longer than ${max} characters` });
  };
  need('external_reference', meta.externalReference, 255);
  need('document_title', meta.title, 255);
  if (meta.documentDate === '') problems.push({ field: 'document_date', code: 'FG_REQUIRED', message: 'document_date is required' });
  else if (!isIsoDate(meta.documentDate)) problems.push({ field: 'document_date', code: 'FG_DATE', message: 'document_date is not a real date in YYYY-MM-DD form' });
  if (!(meta.organizationCode && meta.registrationKey) && !meta.technicalId) {
    problems.push({ field: 'user_data', code: 'FG_REQUIRED', message: 'user_data needs organization_code and registration_key, or technical_id' });
  }
  return { meta, problems };
}
