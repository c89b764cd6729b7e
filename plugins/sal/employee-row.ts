import { RowChecker, type Attributes, type Employee, type SourceRecord } from '../../core/plugin-api';

/** The sal columns fluxgate interprets; any other column is kept as a custom field. */
export const SAL_REQUIRED = ['organization_code', 'registration_reference', 'lastname', 'firstname'];
const KNOWN = new Set([
  ...SAL_REQUIRED, 'technical_id', 'maiden_name', 'birth_date', 'professional_email', 'address1', 'address2', 'address3',
  'zip_code', 'city', 'country', 'phone_number', 'mobile_phone_number', 'starting_date', 'active', 'departure_date', 'gone',
  'disable_vault', 'disable_elec_distribution', 'disable_paper_distribution', 'saml_token',
]);

/**
 * Validates one sal row and builds the employee. Problems are left in the checker; the
 * employee is only meaningful when `checker.ok`. Values are never echoed in messages.
 */
export function readEmployee(record: SourceRecord, organizations: ReadonlySet<string>): { checker: RowChecker; employee: Employee } {
  const c = new RowChecker(record);
  const organizationCode = c.text('organization_code', { required: true, max: 64 });
  const registrationReference = c.text('registration_reference', { required: true, max: 255 });
  const technicalId = c.text('technical_id', { max: 50 });
  const lastname = c.text('lastname', { required: true, max: 70 });
  const firstname = c.text('firstname', { required: true, max: 30 });
  const email = c.email('professional_email', { max: 80 });
  const address1 = c.text('address1', { max: 255 });
  const zipCode = c.text('zip_code', { max: 30 });
  const city = c.text('city', { max: 100 });
  const country = c.country('country');
  const startingDate = c.date('starting_date');
  const departureDate = c.date('departure_date');
  const active = c.bool('active', true);
  const gone = c.bool('gone', false);

  if (organizationCode !== null && !organizations.has(organizationCode)) {
    c.problem('organization_code', 'FG_UNKNOWN_REF', `organization_code '${organizationCode}' does not exist: send it in a sir file first`);
  }
  const emailGiven = record.values.professional_email !== undefined && record.values.professional_email !== '';
  const addressGiven = [address1, zipCode, city, country].every((v) => v !== null);
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
    maiden_name: c.text('maiden_name', { max: 70 }),
    birth_date: c.date('birth_date'),
    address1, address2: c.text('address2', { max: 255 }), address3: c.text('address3', { max: 255 }),
    zip_code: zipCode, city, country,
    phone_number: c.text('phone_number', { max: 50 }),
    mobile_phone_number: c.text('mobile_phone_number', { max: 50 }),
    starting_date: startingDate,
    gone,
    disable_vault: c.bool('disable_vault', false),
    disable_elec_distribution: c.bool('disable_elec_distribution', false),
    disable_paper_distribution: c.bool('disable_paper_distribution', false),
    saml_token: c.text('saml_token'),
  };
  for (const [name, value] of Object.entries(record.values)) {
    if (!KNOWN.has(name)) attributes[name] = value === '' ? null : value;
  }
  const employee: Employee = {
    organizationCode: organizationCode ?? '', registrationReference: registrationReference ?? '',
    technicalId, email, lastname: lastname ?? '', firstname: firstname ?? '',
    // A leaver is active=false with a departure date, or gone=true.
    active: active && !gone, departureDate, attributes,
  };
  return { checker: c, employee };
}
