import { existsSync, readdirSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { DataPaths } from '../../config/paths';
import { toFluxgateError } from '../../errors';
import { OperatorService } from '../../operators/operator-service';
import type { ServeLock } from '../serve-lock';
import type { RegisterCommands } from '../context';
import { holdServerHeapGrowing } from '../../sftp/session/upload-heap';
import { restoreYoungGenerationGrowth } from '../startup-heap';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number 0-65535 (0 picks a free port)');
  return port;
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

export const registerServe: RegisterCommands = (program, ctx) => {
  program
    .command('serve')
    .description('run the SFTP server, intake, workflows and cron jobs until SIGTERM/SIGINT')
    .option('--host <host>', 'listen address (default from config: 127.0.0.1)')
    .option('--port <port>', 'SFTP port (default from config: 2222; 0 = any free port)', parsePort)
    .option('--json', 'log JSON lines even on a terminal, and report a failure to start as JSON on stderr')
    .action(async (opts: { host?: string; port?: number; json?: boolean }) => {
      // Before the engine loads: the limits V8 sets while it loads would otherwise hold for the first files (upload-heap.ts).
      holdServerHeapGrowing();
      // Loaded here, not at the top: every other CLI command would pay for the whole engine.
      // require(), not import(): an ECMAScript import() would need `.js` paths and Node's ESM loader for CommonJS modules.
      /* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, see the two lines above */
      const { compose } = require('../../composition') as typeof import('../../composition');
      const { FluxgateApp } = require('../../app') as typeof import('../../app');
      const { openLogOutput } = require('../../logging/logger') as typeof import('../../logging/logger');
      const { createDemoAccount, demoCommand } = require('../../accounts/demo') as typeof import('../../accounts/demo');
      const { acquireServeLock } = require('../serve-lock') as typeof import('../serve-lock');
      const { sweepTemporaries } = require('../../temporary-sweep') as typeof import('../../temporary-sweep');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const loaded = ctx.config;
      if (opts.host !== undefined) loaded.config.sftp.host = opts.host;
      if (opts.port !== undefined) loaded.config.sftp.port = opts.port;
      // The demo account is only for a first try on embedded defaults, never with a config file
      // or a PostgreSQL store. Looked at before the lock, whose file makes the directory non-empty.
      const firstStart = loaded.file === undefined && loaded.config.store.url === undefined && isEmptyDir(loaded.dataDir);
      const { level, file, format } = loaded.config.log;
      const output = openLogOutput({ level, file, format: opts.json ? 'json' : format });
      const { logger } = output;
      const log = logger.child({ component: 'serve' });
      const paths = new DataPaths(loaded.dataDir);
      // Before anything opens the store: a second server on this data directory (SQLite), or
      // with this node id (PostgreSQL), must touch nothing.
      let lock: ServeLock;
      try {
        lock = await acquireServeLock(loaded.config, paths, logger);
      } catch (err) {
        log.fatal({ err }, 'start-up refused');
        logger.flush();
        throw err; // printed with its code, exit code 1 (cli/main.ts)
      }
      if (file) {
        // logrotate moves the file away, then sends SIGHUP: new lines go to a new file at the configured path.
        process.on('SIGHUP', () => {
          output.reopen();
          log.info({ file }, 'log file reopened (SIGHUP)');
        });
      }
      let server: Awaited<ReturnType<typeof compose>>;
      try {
        server = await compose({ loaded, logger });
      } catch (err) {
        log.fatal({ err }, 'start-up failed');
        await lock.release();
        logger.flush();
        throw err;
      }
      const app = new FluxgateApp(server);

      let demoKey: string | undefined;
      if (firstStart) {
        demoKey = await createDemoAccount(server.accountService, paths);
        log.info({ accountId: 'demo', privateKey: demoKey }, 'demo account created');
      }

      // One stray rejected promise in any component must not take every client's session down.
      process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection (server kept running)'));
      let started = false;
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          if (started) return resolve(signal);
          // A start-up that hangs (a stuck mount, a slow key generation) must still be stoppable;
          // nothing is lost: the journal and queue are durable and the next start resumes.
          log.warn({ signal }, 'signal during start-up: exiting');
          logger.flush();
          process.exit(signal === 'SIGINT' ? 130 : 143);
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      try {
        await app.start();
        started = true;
        // Leftover temporaries are hidden from clients: swept in the background, not before listening (#19).
        // The young generation may grow again once the start-up work is over: it would otherwise size
        // itself for the reads of every account tree and stay that size while the server idles.
        void Promise.all([app.settled, sweepTemporaries(paths, logger)]).finally(restoreYoungGenerationGrowth);
      } catch (err) {
        log.fatal({ err }, 'start-up failed');
        await app.stop();
        await lock.release();
        logger.flush();
        // Said on stderr as well (as JSON with --json): whoever started it may not read the log.
        throw toFluxgateError(err);
      }
      if (demoKey && !opts.json) {
        const addr = server.sftp.address();
        const command = demoCommand(demoKey, loaded.config.sftp.host, addr?.port ?? loaded.config.sftp.port);
        log.info({ command }, 'try the demo account');
        process.stderr.write(`\nfluxgate: demo account created. Try:\n\n  ${command}\n\n`);
      }
      if (server.http) {
        const { http } = server;
        const noOperator = (await new OperatorService(server.state.store.operators).list()).length === 0;
        log.info({ url: `${http.url}/api/v1`, openapi: `${http.url}/api/v1/openapi.json`, console: `${http.url}/console/` }, 'operator API');
        if (!opts.json) {
          process.stderr.write(`fluxgate: console on ${http.url}/console/ · API on ${http.url}/api/v1 (OpenAPI: ${http.url}/api/v1/openapi.json, metrics: ${http.url}/metrics)\n`
            + `${noOperator ? '  no operator yet: fluxgate admin add <name> --role admin, or fluxgate token create --name ci --role admin\n' : ''}`);
        }
      }
      const signal = await stopped;
      log.info({ signal }, 'stopping');
      await app.stop();
      await lock.release();
      log.info('stopped');
      logger.flush();
      // Anything a service forgot to release must not keep a stopped server alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
    });
};
