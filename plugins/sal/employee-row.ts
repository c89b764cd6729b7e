import {
  ABSENT_FIELDS, RowChecker, type AbsentCoreField, type AbsentFields, type Attributes, type Employee, type SourceRecord, type TextRule,
} from '../../core/plugin-api';

/** The sal columns fluxgate interprets; any other column is kept as a custom field. */
export const SAL_REQUIRED = ['organization_code', 'registration_reference', 'lastname', 'firstname'];
const KNOWN = new Set([
  ...SAL_REQUIRED, 'technical_id', 'maiden_name', 'birth_date', 'professional_email', 'address1', 'address2', 'address3',
  'zip_code', 'city', 'country', 'phone_number', 'mobile_phone_number', 'starting_date', 'active', 'departure_date', 'gone',
  'disable_vault', 'disable_elec_distribution', 'disable_paper_distribution', 'saml_token',
]);

// Rules are built once, not per row (a 200,000-row file calls each of these 200,000 times).
const REQUIRED_64: TextRule = { required: true, max: 64 };
const REQUIRED_255: TextRule = { required: true, max: 255 };
const REQUIRED_70: TextRule = { required: true, max: 70 };
const REQUIRED_30: TextRule = { required: true, max: 30 };
const MAX_30: TextRule = { max: 30 };
const MAX_50: TextRule = { max: 50 };
const MAX_70: TextRule = { max: 70 };
const MAX_80: TextRule = { max: 80 };
const MAX_100: TextRule = { max: 100 };
const MAX_255: TextRule = { max: 255 };

/** Columns of the core fields a sal file may leave out. */
const CORE_COLUMNS: ReadonlyArray<[string, AbsentCoreField]> = [
  ['technical_id', 'technicalId'], ['professional_email', 'email'], ['active', 'active'], ['departure_date', 'departureDate'],
];
/** Columns kept as attributes of the same name. */
const ATTRIBUTE_COLUMNS = [
  'maiden_name', 'birth_date', 'address1', 'address2', 'address3', 'zip_code', 'city', 'country', 'phone_number',
  'mobile_phone_number', 'starting_date', 'gone', 'disable_vault', 'disable_elec_distribution', 'disable_paper_distribution', 'saml_token',
];

/** What a header means for every row of its file, worked out once (all records of a file share `columns`). */
interface SalHeader {
  /** Its custom fields (columns fluxgate does not interpret). */
  custom: string[];
  /** The fields it has no column for: they keep their stored values (plugin-api/directory.ts, AbsentFields). */
  absent: AbsentFields;
  /**
   * The same for a row with gone=true: such a row says active=false even without an `active`
   * column (a leaver), so `active` is not absent there.
   */
  absentWhenGone: AbsentFields;
}
const headers = new WeakMap<Readonly<Record<string, number>>, SalHeader>();
function salHeader(record: SourceRecord): SalHeader {
  let header = headers.get(record.columns);
  if (!header) {
    const has = (name: string) => record.columns[name] !== undefined;
    const core = CORE_COLUMNS.filter(([column]) => !has(column)).map(([, field]) => field);
    const attributes = ATTRIBUTE_COLUMNS.filter((column) => !has(column));
    header = {
      custom: Object.keys(record.columns).filter((name) => !KNOWN.has(name)),
      absent: { core, attributes },
      absentWhenGone: { core: core.filter((field) => field !== 'active'), attributes },
    };
    headers.set(record.columns, header);
  }
  return header;
}

/**
 * Validates one sal row and builds the employee. Problems are left in the checker; the
 * employee is only meaningful when `checker.ok`. Values are never echoed in messages.
 */
export function readEmployee(record: SourceRecord, organizations: ReadonlySet<string>): { checker: RowChecker; employee: Employee } {
  const c = new RowChecker(record);
  const organizationCode = c.text('organization_code', REQUIRED_64);
  const registrationReference = c.text('registration_reference', REQUIRED_255);
  const technicalId = c.text('technical_id', MAX_50);
  const lastname = c.text('lastname', REQUIRED_70);
  const firstname = c.text('firstname', REQUIRED_30);
  const email = c.email('professional_email', MAX_80);
  const address1 = c.text('address1', MAX_255);
  const zipCode = c.text('zip_code', MAX_30);
  const city = c.text('city', MAX_100);
  const country = c.country('country');
  const startingDate = c.date('starting_date');
  const departureDate = c.date('departure_date');
  const active = c.bool('active', true);
  const gone = c.bool('gone', false);

  if (organizationCode !== null && !organizations.has(organizationCode)) {
    c.problem('organization_code', 'FG_UNKNOWN_REF', `organization_code '${organizationCode}' does not exist: send it in a sir file first`);
  }
  const emailGiven = record.values.professional_email !== undefined && record.values.professional_email !== '';
  const addressGiven = address1 !== null && zipCode !== null && city !== null && country !== null;
  if (!emailGiven && !addressGiven) {
    c.problem('professional_email', 'FG_REQUIRED', 'a professional_email or a full postal address (address1, zip_code, city, country) is required');
  }
  if (startingDate && departureDate && departureDate < startingDate) {
    c.problem('departure_date', 'FG_INVALID_VALUE', 'departure_date is before starting_date');
  }
  if (!active && !gone && departureDate === null && !record.values.departure_date) {
    c.problem('departure_date', 'FG_REQUIRED', 'an employee with active=false needs a departure_date (or gone=true)');
  }

  const attributes: Attributes = {
    maiden_name: c.text('maiden_name', MAX_70),
    birth_date: c.date('birth_date'),
    address1, address2: c.text('address2', MAX_255), address3: c.text('address3', MAX_255),
    zip_code: zipCode, city, country,
    phone_number: c.text('phone_number', MAX_50),
    mobile_phone_number: c.text('mobile_phone_number', MAX_50),
    starting_date: startingDate,
    gone,
    disable_vault: c.bool('disable_vault', false),
    disable_elec_distribution: c.bool('disable_elec_distribution', false),
    disable_paper_distribution: c.bool('disable_paper_distribution', false),
    saml_token: c.text('saml_token'),
  };
  const header = salHeader(record);
  for (const name of header.custom) {
    const value = record.values[name];
    if (value !== undefined) attributes[name] = value === '' ? null : value;
  }
  const employee: Employee = {
    organizationCode: organizationCode ?? '', registrationReference: registrationReference ?? '',
    technicalId, email, lastname: lastname ?? '', firstname: firstname ?? '',
    // A leaver is active=false with a departure date, or gone=true.
    active: active && !gone, departureDate, attributes,
    // Columns absent from the header keep the stored values of an existing employee.
    [ABSENT_FIELDS]: gone ? header.absentWhenGone : header.absent,
  };
  return { checker: c, employee };
}
