import type { Attributes, DirectoryOp, Employee, WriteOptions } from '../plugin-api/directory';
import type { EmployeeRows } from './ports/directory';

/** An employee's core fields in a flat row (EmployeeRows), in dir_employees' column order. */
export const EMPLOYEE_FIELDS = ['organizationCode', 'registrationReference', 'technicalId', 'email', 'lastname', 'firstname', 'active', 'departureDate'] as const;

/** How many rows `rows` holds. */
export const rowCount = (rows: EmployeeRows): number => rows.rows.length / 2;

/** The attributes of row `r` as an object (a column called `__proto__` is a property, not a prototype). */
export function rowAttributes(rows: EmployeeRows, r: number): Attributes {
  const keys = rows.shapes[rows.rows[2 * r + 1]];
  const from = rows.rows[2 * r] + EMPLOYEE_FIELDS.length;
  const attributes: Attributes = {};
  for (let k = 0; k < keys.length; k++) {
    const value = rows.values[from + k] as Attributes[string];
    if (keys[k] === '__proto__') Object.defineProperty(attributes, '__proto__', { value, enumerable: true, writable: true, configurable: true });
    else attributes[keys[k]] = value;
  }
  return attributes;
}

/** Row `r` as an Employee. */
export function rowEmployee(rows: EmployeeRows, r: number): Employee {
  const v = rows.values;
  const at = rows.rows[2 * r];
  return {
    organizationCode: v[at] as string, registrationReference: v[at + 1] as string, technicalId: v[at + 2] as string | null,
    email: v[at + 3] as string | null, lastname: v[at + 4] as string, firstname: v[at + 5] as string,
    active: v[at + 6] as boolean, departureDate: v[at + 7] as string | null, attributes: rowAttributes(rows, r),
  };
}

/** The rows as the batch of createEmployee operations they stand for (an engine without a flat path delegates to its `batch`). */
export function createOps(rows: EmployeeRows, options?: WriteOptions): DirectoryOp[] {
  const ops: DirectoryOp[] = [];
  for (let r = 0; r < rowCount(rows); r++) ops.push({ method: 'createEmployee', args: options === undefined ? [rowEmployee(rows, r)] : [rowEmployee(rows, r), options] });
  return ops;
}
