import type { NewEvent } from '../event-types';
import type { ArrivedFile, ExpectationRepository, IncidentKind, PeriodRecord } from '../ports/events';
import { recordEvent } from './event-outbox';
import type { PgPool } from './pool';

/** Fixed column names by kind: never taken from input. */
const COLUMN: Record<IncidentKind, string> = { late: 'late_at', missed: 'missed_at', recovered: 'recovered_at' };
/** Files read per round trip while looking for the first one `accept` takes. */
const PAGE = 200;

interface PeriodRow { late_at: number | null; missed_at: number | null; recovered_at: number | null; acknowledged_at: number | null; acknowledged_by: string | null }

/** Expectations' rows in PostgreSQL. */
export class PostgresExpectationRepository implements ExpectationRepository {
  constructor(private readonly db: PgPool) {}

  async firstFile(account: string, from: number, to: number, flux: string | undefined, accept: (name: string) => boolean): Promise<ArrivedFile | undefined> {
    // A page at a time, in order, after the last row seen: `accept` is a function, not SQL.
    let after: [number, string] = [from - 1, ''];
    for (;;) {
      const rows = await this.db.rows<{ id: string; name: string; flux: string | null; received_at: number }>(`SELECT id, name, flux, received_at FROM files
        WHERE account_id = $1 AND received_at >= $2 AND received_at <= $3 AND ($4::text IS NULL OR flux = $4) AND (received_at, id) > ($5, $6)
        ORDER BY received_at, id LIMIT $7`, [account, from, to, flux ?? null, after[0], after[1], PAGE]);
      const found = rows.find((r) => accept(r.name));
      if (found) return { id: found.id, name: found.name, flux: found.flux, receivedAt: found.received_at };
      if (rows.length < PAGE) return undefined;
      const last = rows[rows.length - 1];
      after = [last.received_at, last.id];
    }
  }

  async period(expectation: string, deadline: number): Promise<PeriodRecord | undefined> {
    const r = await this.db.row<PeriodRow>('SELECT * FROM expectation_periods WHERE expectation = $1 AND deadline = $2', [expectation, deadline]);
    return r && { lateAt: r.late_at, missedAt: r.missed_at, recoveredAt: r.recovered_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by };
  }

  /**
   * Records that the period reached `kind` and, in the same transaction, its event. Only the
   * first caller does, whichever node: a concurrent UPDATE of the same row waits for the first
   * to commit, then finds the column set and changes nothing.
   */
  async raise(expectation: string, deadline: number, kind: IncidentKind, at: number, event: NewEvent): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO expectation_periods (expectation, deadline) VALUES ($1, $2) ON CONFLICT DO NOTHING', [expectation, deadline]);
      const changed = await tx.run(`UPDATE expectation_periods SET ${COLUMN[kind]} = $1 WHERE expectation = $2 AND deadline = $3 AND ${COLUMN[kind]} IS NULL`,
        [at, expectation, deadline]) > 0;
      if (changed) await recordEvent(tx, event);
      return changed;
    });
  }

  async acknowledge(expectation: string, deadline: number, by: string, at: number): Promise<void> {
    await this.db.run(`INSERT INTO expectation_periods (expectation, deadline, acknowledged_at, acknowledged_by) VALUES ($1, $2, $3, $4)
      ON CONFLICT (expectation, deadline) DO UPDATE SET acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by`,
    [expectation, deadline, at, by]);
  }
}
