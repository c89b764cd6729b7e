import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  /** Log file; the standard stream `fd` when absent. */
  file?: string;
  /** `auto` (default): readable lines when the output is a terminal, JSON lines otherwise. */
  format?: LogFormat;
  /** Standard output (1, the server) or standard error (2, CLI commands, whose stdout is their result). */
  fd?: 1 | 2;
  /** Write each line before going on: short-lived CLI commands exit right after their work. */
  sync?: boolean;
}

/** A logger and the one thing an operator does to its output: reopen the file logrotate moved away. */
export interface LogOutput {
  logger: Logger;
  /** The log file, if logs go to one. */
  file?: string;
  /** Whether lines are formatted for a person rather than as JSON. */
  pretty: boolean;
  /** Closes and reopens the log file at its configured path (SIGHUP); a no-op on a standard stream. */
  reopen(): void;
}

type PrettyFactory = (options: Record<string, unknown>) => (line: string) => string;

/** pino-pretty, loaded only when a person reads the logs: JSON output never pays for it. */
function loadPrettyFactory(): PrettyFactory | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand by a synchronous caller
    return (require('pino-pretty') as { prettyFactory: PrettyFactory }).prettyFactory;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    process.stderr.write('fluxgate: pino-pretty is not installed (npm install): logging JSON lines instead of readable ones\n');
    return undefined;
  }
}

function wantsPretty(format: LogFormat, file: string | undefined, fd: 1 | 2): boolean {
  if (format !== 'auto') return format === 'pretty';
  return file === undefined && Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY);
}

/**
 * Structured logs (pino): JSON lines for machines (a pipe, a journal, a file), readable lines
 * for a person at a terminal. Every component takes a child with `component`, every file's
 * lines carry `fileId`, in either format.
 */
export function openLogOutput(options: LoggerOptions = {}): LogOutput {
  const fd = options.fd ?? 1;
  const dest = pino.destination(options.file
    ? { dest: options.file, mkdir: true, sync: options.sync ?? false }
    : { dest: fd, sync: options.sync ?? false });
  const factory = wantsPretty(options.format ?? 'auto', options.file, fd) ? loadPrettyFactory() : undefined;
  let stream: DestinationStream = dest;
  if (factory) {
    const prettify = factory({
      colorize: options.file === undefined && Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY),
      translateTime: 'SYS:HH:MM:ss.l', singleLine: true,
      messageFormat: '{if component}{component}: {end}{msg}', ignore: 'pid,hostname,svc,component',
    });
    // Formatted in the write itself (pino-pretty's stream form is asynchronous): no line is
    // lost when the process exits right after logging it.
    stream = { write: (line: string) => { dest.write(prettify(line)); }, flush: (cb?: (err?: Error) => void) => dest.flush(cb) } as DestinationStream;
  }
  const logger = pino({ level: options.level ?? 'info', base: { svc: 'fluxgate' } }, stream);
  return { logger, file: options.file, pretty: factory !== undefined, reopen: () => { if (options.file) dest.reopen(); } };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return openLogOutput(options).logger;
}

/**
 * Logs of a CLI command (key-expiry warnings, deletions): to the configured log file, else to
 * standard error, since standard output carries the command's result.
 */
export function cliLogger(log: { level: string; file?: string; format: LogFormat }, overrides: { level?: string; format?: LogFormat } = {}): Logger {
  return openLogOutput({ level: overrides.level ?? log.level, file: log.file, format: overrides.format ?? log.format, fd: 2, sync: true }).logger;
}

/** For CLI commands and tests: logs nothing unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
