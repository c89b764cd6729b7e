import type { FluxContext, IncomingFile } from './context';
import type { FluxOutcome } from './outcome';

/**
 * A flux handler: parse, validate and apply one incoming file. Must be idempotent: after a
 * crash the same file may be handed over again, and applying it twice must change nothing more.
 */
export interface FluxHandler {
  handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome>;
}
