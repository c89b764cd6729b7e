import { RowChecker, type Employee, type SourceRecord } from '../../core/plugin-api';

/** Header names after looseHeader(): case, spaces and underscores ignored. */
export const DROPBOX_REQUIRED = ['name', 'email'];

export interface DropboxRow {
  line: number;
  checker: RowChecker;
  email: string | null;
  employeeId: string | null;
  managerEmail: string | null;
  employee: Omit<Employee, 'registrationReference'>;
}

/** Splits "Ana María López" into first name "Ana" and last name "María López" (best effort). */
function splitName(name: string): { firstname: string; lastname: string } {
  const space = name.indexOf(' ');
  return space === -1 ? { firstname: '', lastname: name } : { firstname: name.slice(0, space), lastname: name.slice(space + 1).trim() };
}

export function readDropboxRow(record: SourceRecord): DropboxRow {
  const c = new RowChecker(record);
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
    },
  };
}
