import type { ErrorCode } from '../errors';
import type { FluxCounts } from './outcome';

export type Severity = 'info' | 'warning' | 'error';

/** One line of a report. Line and column refer to the input file (1-based). */
export interface ReportMessage {
  line?: number;
  column?: number;
  field?: string;
  severity: Severity;
  /** A fluxgate code (ErrorCode, offered by editors) or a plugin's own: `string & {}` keeps the suggestions. */
  code?: ErrorCode | (string & {});
  /** The entity the message is about (a registration reference, an organization code…). */
  entityId?: string;
  message: string;
}

/** Collects what the report will say. The engine writes it (CSV, BOM, `;`, neutralised values). */
export interface ReportBuilder {
  add(message: ReportMessage): void;
  /**
   * Records a row's effect for the summary counts. Created, updated and rejected rows also get a
   * report line when an entity id or a line is given (unchanged rows are only counted).
   */
  count(kind: keyof FluxCounts, entityId?: string, line?: number): void;
  readonly counts: Readonly<FluxCounts>;
  readonly messages: readonly ReportMessage[];
}
