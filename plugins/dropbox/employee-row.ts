import { ABSENT_FIELDS, RowChecker, type AbsentFields, type Employee, type SourceRecord } from '../../core/plugin-api';

/** Header names after looseHeader(): case, spaces and underscores ignored. */
export const DROPBOX_REQUIRED = ['name', 'email'];

/** The documented header of each column, for a report about a column the file does not have. */
const LABELS: Readonly<Record<string, string>> = {
  name: 'Name', email: 'Email', employeeid: 'Employee ID', preferredname: 'Preferred Name', manageremail: 'Manager Email',
  department: 'Department', dateofbirth: 'Date of Birth', startdate: 'Start Date', officelocation: 'Office Location',
};

/**
 * Where a report points for a column (looseHeader name): its number and its header as the
 * customer wrote it (`Manager Email`, not `manageremail`).
 */
export function columnOf(record: SourceRecord, name: string): { field: string; column: number | undefined } {
  return { field: record.headers?.[name] ?? LABELS[name] ?? name, column: record.columns[name] };
}

/**
 * RowChecker that reports a field by its header as written: the checks look columns up by
 * their looseHeader name, which the customer never wrote.
 */
class DropboxChecker extends RowChecker {
  override problem(name: string, code: string, message: string): void {
    const { field, column } = columnOf(this.record, name);
    // The checks' messages start with the name they were given.
    this.problems.push({ field, column, code, message: message.startsWith(name) ? field + message.slice(name.length) : message });
  }
}

export interface DropboxRow {
  line: number;
  checker: RowChecker;
  email: string | null;
  employeeId: string | null;
  managerEmail: string | null;
  employee: Omit<Employee, 'registrationReference'>;
}

/** Attribute → its column (looseHeader name). */
const ATTRIBUTE_COLUMNS: ReadonlyArray<[string, string]> = [
  ['preferred_name', 'preferredname'], ['manager_email', 'manageremail'], ['department', 'department'],
  ['date_of_birth', 'dateofbirth'], ['start_date', 'startdate'], ['office_location', 'officelocation'],
];

/**
 * The fields a header has no column for, worked out once per file (its records share
 * `columns`): they keep the stored values of an employee already known (plugin-api/directory.ts).
 * Name and Email are required; active and the departure date have no column (an employee in the
 * file is active).
 */
const absentByHeader = new WeakMap<Readonly<Record<string, number>>, AbsentFields>();
function absentFields(record: SourceRecord): AbsentFields {
  let absent = absentByHeader.get(record.columns);
  if (!absent) {
    absent = {
      core: record.columns.employeeid === undefined ? ['technicalId'] : [],
      attributes: ATTRIBUTE_COLUMNS.filter(([, column]) => record.columns[column] === undefined).map(([attribute]) => attribute),
    };
    absentByHeader.set(record.columns, absent);
  }
  return absent;
}

/** Splits "Ana María López" into first name "Ana" and last name "María López" (best effort). */
function splitName(name: string): { firstname: string; lastname: string } {
  const space = name.indexOf(' ');
  return space === -1 ? { firstname: '', lastname: name } : { firstname: name.slice(0, space), lastname: name.slice(space + 1).trim() };
}

export function readDropboxRow(record: SourceRecord): DropboxRow {
  const c = new DropboxChecker(record);
  const name = c.text('name', { required: true, max: 200 });
  const email = c.email('email', { required: true, max: 255 });
  const employeeId = c.text('employeeid', { max: 255 });
  const managerEmail = c.email('manageremail', { max: 255 });
  const { firstname, lastname } = splitName(name ?? '');
  return {
    line: record.line, checker: c, email: email?.toLowerCase() ?? null, employeeId, managerEmail: managerEmail?.toLowerCase() ?? null,
    employee: {
      organizationCode: '',
      technicalId: employeeId,
      email: email?.toLowerCase() ?? null,
      lastname, firstname,
      active: true,
      departureDate: null,
      attributes: {
        name,
        preferred_name: c.text('preferredname', { max: 200 }),
        manager_email: managerEmail?.toLowerCase() ?? null,
        department: c.text('department', { max: 255 }),
        // Nectar exports write dates as M/D/YYYY; both forms are accepted and stored as YYYY-MM-DD.
        date_of_birth: c.date('dateofbirth', { flexible: true }),
        start_date: c.date('startdate', { flexible: true }),
        office_location: c.text('officelocation', { max: 255 }),
      },
      // Columns absent from the header keep the stored values of a known employee.
      [ABSENT_FIELDS]: absentFields(record),
    },
  };
}
