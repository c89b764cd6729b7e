import { ABSENT_FIELDS, type DirectoryOp, type Employee, type FluxContext } from '../../core/plugin-api';

/** Lookups per batch: each answer carries whole employees, and a batch crosses the sandbox as one message. */
const LOOKUPS_PER_BATCH = 2_000;

const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/**
 * The stored employees a drop-box file names, by Employee ID (technical id) and by e-mail,
 * looked up before anything is written, in batches (one engine round trip each, not one per
 * row), then kept up to date with what each row writes: each row finds what it would have found
 * in the store had the rows before it been written one by one (an e-mail a row moved to another
 * employee now finds that one; an e-mail a row took away finds no one, where the store could
 * have answered another stored employee sharing it: e-mails are one per employee in practice).
 */
export class EmployeeIndex {
  private readonly technicalIds = new Map<string, Employee | undefined>();
  /** By e-mail in ASCII lower case: the store compares e-mails with SQLite's NOCASE. */
  private readonly emails = new Map<string, Employee | undefined>();
  /** What this file wrote, by key, as the store holds it after the write. */
  private readonly written = new Map<string, Employee>();

  /** Looks up every Employee ID and e-mail given (as findEmployees answers: the first in key order). */
  static async lookUp(ctx: FluxContext, technicalIds: Iterable<string>, emails: Iterable<string>): Promise<EmployeeIndex> {
    const index = new EmployeeIndex();
    const ids = [...new Set(technicalIds)];
    const mails = [...new Map([...emails].map((e) => [asciiLower(e), e])).values()];
    const ops: DirectoryOp[] = [
      ...ids.map((technicalId): DirectoryOp => ({ method: 'findEmployees', args: [{ technicalId }] })),
      ...mails.map((email): DirectoryOp => ({ method: 'findEmployees', args: [{ email }] })),
    ];
    const found: Employee[][] = [];
    for (let i = 0; i < ops.length; i += LOOKUPS_PER_BATCH) found.push(...await ctx.directory.batch(ops.slice(i, i + LOOKUPS_PER_BATCH)) as Employee[][]);
    ids.forEach((id, i) => index.technicalIds.set(id, found[i][0]));
    mails.forEach((email, i) => index.emails.set(asciiLower(email), found[ids.length + i][0]));
    return index;
  }

  byTechnicalId(id: string): Employee | undefined {
    return this.current(this.technicalIds.get(id), (e) => e.technicalId === id);
  }

  byEmail(email: string): Employee | undefined {
    const key = asciiLower(email);
    return this.current(this.emails.get(key), (e) => e.email !== null && asciiLower(e.email) === key);
  }

  /**
   * A row's write: `employee` as the row gives it, `stored` the employee it updates (undefined
   * for a new one). A technical id the file has no column for keeps its stored value (ABSENT_FIELDS).
   */
  wrote(employee: Employee, stored: Employee | undefined): void {
    const keepsId = employee[ABSENT_FIELDS]?.core.includes('technicalId') === true;
    const after: Employee = { ...employee, technicalId: keepsId ? stored?.technicalId ?? null : employee.technicalId };
    this.written.set(keyOf(after), after);
    if (after.technicalId !== null) this.technicalIds.set(after.technicalId, after);
    if (after.email !== null) this.emails.set(asciiLower(after.email), after);
  }

  /** `found` as this file left it: undefined when a write of this file took the looked-up value away. */
  private current(found: Employee | undefined, stillMatches: (e: Employee) => boolean): Employee | undefined {
    if (found === undefined) return undefined;
    const after = this.written.get(keyOf(found)) ?? found;
    return stillMatches(after) ? after : undefined;
  }
}

const keyOf = (e: Employee): string => `${e.organizationCode}\u0000${e.registrationReference}`;
