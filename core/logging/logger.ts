import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Log file; standard output when absent. */
  file?: string;
}

/** Structured JSON logs (pino). Every component takes a child with `component`, every file's lines carry `fileId`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: false })
    : pino.destination({ dest: 1, sync: false });
  return pino({ level: options.level ?? 'info', base: { svc: 'fluxgate' } }, destination);
}

/** For CLI commands and tests: logs nothing unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
