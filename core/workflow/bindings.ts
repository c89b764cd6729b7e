import type { Container } from 'inversify';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import type { UploadEvents } from '../events';
import { Intake } from '../intake/intake';
import { IntakeService } from '../intake/intake-service';
import type { Logger } from '../logging/logger';
import { DurableQueue } from '../queue/queue';
import type { AccountRepository } from '../store/accounts-repository';
import type { Database } from '../store/database';
import { JournalRepository } from '../store/journal-repository';
import { Tokens } from '../tokens';
import { BUILTIN_HANDLERS } from '../../plugins';
import { HandlerRegistry } from './handler-registry';
import { workflowRouting } from './file-routing';
import { StepRegistry, WorkflowRegistry } from './registry';
import { WorkflowRunner } from './runner';
import { BUILTIN_STEPS } from './steps';
import { WorkflowWorkers } from './worker-service';

export interface EngineBindingOptions {
  loaded: LoadedConfig;
  paths: DataPaths;
  db: Database;
  logger: Logger;
}

/**
 * The engine section of the composition root. Services, in start order: workflow hot reload,
 * queue workers, then intake (whose start-up scan may enqueue at once).
 */
export function bindEngine(container: Container, { loaded, paths, db, logger }: EngineBindingOptions): void {
  const config = loaded.config;
  const journal = new JournalRepository(db);
  const queue = new DurableQueue(db, config.engine.retry, logger);
  const steps = new StepRegistry(BUILTIN_STEPS);
  // Handlers first: a workflow naming a handler that is not loaded is refused when it loads.
  const handlers = HandlerRegistry.withPlugins(container, BUILTIN_HANDLERS, config.plugins);
  const workflows = new WorkflowRegistry(loaded.workflowsDir, steps, logger.child({ component: 'workflows' }), true, handlers);
  const accounts = container.get<AccountRepository>(Tokens.Accounts);

  container.bind(Tokens.Journal).toConstantValue(journal);
  container.bind(Tokens.Queue).toConstantValue(queue);
  container.bind(Tokens.Steps).toConstantValue(steps);
  container.bind(Tokens.Workflows).toConstantValue(workflows);
  container.bind(Tokens.Handlers).toConstantValue(handlers);
  const runner = new WorkflowRunner({ container, journal, accounts, workflows, steps, paths, config, logger });
  container.bind(Tokens.Runner).toConstantValue(runner);
  const intake = new Intake({ paths, accounts, journal, queue, route: workflowRouting(workflows, config.engine.retry.attempts), logger });
  container.bind(Tokens.Intake).toConstantValue(intake);

  container.bind(Tokens.Service).toConstantValue(workflows);
  container.bind(Tokens.Service).toConstantValue(new WorkflowWorkers(queue, runner, journal, config, logger));
  container.bind(Tokens.Service).toConstantValue(new IntakeService(
    intake, paths, accounts, container.get<UploadEvents>(Tokens.UploadEvents), { watch: config.engine.watch, scanIntervalSeconds: config.engine.scanIntervalSeconds }, logger));
}
