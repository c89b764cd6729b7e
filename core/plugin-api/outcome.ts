import { ERROR_CODES, FluxgateError, type ErrorCode } from '../errors';

export interface FluxCounts {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/** What a handler returns. Row-level problems go into the report; the file is still `processed`. */
export interface FluxOutcome {
  result: 'processed' | 'rejected';
  /** Defaults to the counts the report builder collected. */
  counts?: Partial<FluxCounts>;
  /** One-line summary for the journal and the report. */
  summary?: string;
  /** For `rejected`: why, as a catalogue code. */
  code?: ErrorCode;
}

/**
 * Thrown by a handler (or the record reader) when the whole file is unacceptable
 * (bad encoding, missing column…). The engine rejects the file, quarantines and reports it;
 * it is never retried. Any other error is treated as transient and retried.
 */
export class FileRejection extends FluxgateError {
  constructor(code: ErrorCode, message: string = ERROR_CODES[code], details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

export function rejectFile(code: ErrorCode, message?: string, details?: Record<string, unknown>): FileRejection {
  return new FileRejection(code, message, details);
}
