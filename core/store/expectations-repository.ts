import type { Database } from './database';
import { SqliteEventOutbox } from './event-outbox';
import type { NewEvent } from './event-types';
import type { ArrivedFile, ExpectationRepository, IncidentKind, PeriodRecord } from './ports/events';
import { statement } from './statements';

const COLUMN: Record<IncidentKind, string> = { late: 'late_at', missed: 'missed_at', recovered: 'recovered_at' };

/** Expectations' rows in SQLite. */
export class SqliteExpectationRepository implements ExpectationRepository {
  private readonly outbox: SqliteEventOutbox;

  constructor(private readonly db: Database) {
    this.outbox = new SqliteEventOutbox(db);
  }

  /**
   * The first file of the account received in [from, to] (epoch ms, both included) whose flux
   * is `flux` (when given) and whose name passes `accept`.
   */
  async firstFile(account: string, from: number, to: number, flux: string | undefined, accept: (name: string) => boolean): Promise<ArrivedFile | undefined> {
    const sql = `SELECT id, name, flux, received_at FROM files WHERE account_id = @account AND received_at >= @from AND received_at <= @to
      ${flux === undefined ? '' : 'AND flux = @flux'} ORDER BY received_at, id`;
    for (const r of this.db.prepare(sql).iterate({ account, from, to, flux }) as Iterable<{ id: string; name: string; flux: string | null; received_at: number }>) {
      if (accept(r.name)) return { id: r.id, name: r.name, flux: r.flux, receivedAt: r.received_at };
    }
    return undefined;
  }

  async period(expectation: string, deadline: number): Promise<PeriodRecord | undefined> {
    const r = statement(this.db, 'SELECT * FROM expectation_periods WHERE expectation = ? AND deadline = ?').get(expectation, deadline) as
      { late_at: number | null; missed_at: number | null; recovered_at: number | null; acknowledged_at: number | null; acknowledged_by: string | null } | undefined;
    return r && { lateAt: r.late_at, missedAt: r.missed_at, recoveredAt: r.recovered_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by };
  }

  /**
   * Records that the period reached `kind` and, in the same transaction, its event; only the
   * first caller does (whichever process or node): returns false when it was already raised.
   */
  async raise(expectation: string, deadline: number, kind: IncidentKind, at: number, event: NewEvent): Promise<boolean> {
    return this.db.transaction(() => {
      statement(this.db, 'INSERT OR IGNORE INTO expectation_periods (expectation, deadline) VALUES (?, ?)').run(expectation, deadline);
      const changed = statement(this.db, `UPDATE expectation_periods SET ${COLUMN[kind]} = ? WHERE expectation = ? AND deadline = ? AND ${COLUMN[kind]} IS NULL`)
        .run(at, expectation, deadline).changes > 0;
      if (changed) this.outbox.record(event);
      return changed;
    }).immediate();
  }

  async acknowledge(expectation: string, deadline: number, by: string, at: number): Promise<void> {
    this.db.transaction(() => {
      statement(this.db, 'INSERT OR IGNORE INTO expectation_periods (expectation, deadline) VALUES (?, ?)').run(expectation, deadline);
      statement(this.db, 'UPDATE expectation_periods SET acknowledged_at = ?, acknowledged_by = ? WHERE expectation = ? AND deadline = ?')
        .run(at, by, expectation, deadline);
    }).immediate();
  }
}
