import { CommanderError } from 'commander';
import { FluxgateError } from '../errors';

/**
 * How a command failed, as the CLI reports it. Exit codes: 2 for bad arguments (FG_USAGE),
 * 1 for refused input or a failure, 0 for help and version requests (not failures).
 */
export interface CliFailure {
  exitCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** Commander already printed it with the usage (text mode only). */
  printed: boolean;
}

export function cliFailure(err: unknown): CliFailure {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return { exitCode: 0, code: 'FG_USAGE', message: '', printed: true };
    // `fluxgate account` without a subcommand shows the help as its error.
    const message = err.code === 'commander.help' || err.code === 'commander.helpDisplayed'
      ? 'a subcommand is needed (see --help)'
      : err.message.replace(/^error: /, '');
    return { exitCode: 2, code: 'FG_USAGE', message, printed: true };
  }
  if (err instanceof FluxgateError) {
    const details = Object.keys(err.details).length > 0 ? err.details : undefined;
    return { exitCode: err.code === 'FG_USAGE' ? 2 : 1, code: err.code, message: err.message, details, printed: false };
  }
  return { exitCode: 1, code: 'FG_INTERNAL', message: err instanceof Error ? err.message : String(err), printed: false };
}

/** Text: `fluxgate: <message> [FG_CODE]`. JSON: `{"error":{"code","message"[,"details"]}}`, one line, on stderr. */
export function writeFailure(f: CliFailure, json: boolean): void {
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: { code: f.code, message: f.message, ...(f.details ? { details: f.details } : {}) } })}\n`);
  } else if (!f.printed) {
    process.stderr.write(`fluxgate: ${f.message} [${f.code}]\n`);
  }
}
