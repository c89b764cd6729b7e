import type { LoadedConfig } from '../config/load';
import type { FluxgateConfig } from '../config/schema';
import { Intake, type RouteFile } from '../intake/intake';
import { IntakeService } from '../intake/intake-service';
import type { Logger } from '../logging/logger';
import type { ServerKeyStore } from '../pgp/server-key';
import { FileJobs } from '../queue/file-jobs';
import { DurableQueue } from '../queue/queue';
import type { JournalRepository } from '../store/ports/journal';
import type { Store } from '../store/ports/store';
import type { OutputSigner, Service } from '../tokens';
import { sandboxLoader } from '../sandbox/sandbox-loader';
import { SandboxHostWorkers } from '../sandbox/host-workers';
import { DeclaredFolders } from '../workflow/declared-folders';
import { HandlerRegistry } from '../workflow/handler-registry';
import { StepRegistry, WorkflowRegistry } from '../workflow/registry';
import { WorkflowRunner } from '../workflow/runner';
import type { StepServices } from '../workflow/step';
import { BUILTIN_STEPS } from '../workflow/steps';
import { WorkflowWorkers } from '../workflow/worker-service';
import { WorkflowVersionStore } from '../workflow/workflow-versions';
import { BUILTIN_HANDLERS } from '../../plugins';
import { pluginContainer } from './plugins';
import type { State } from './state';

/** The engine: journal, queue, workflows, plugins, runner, intake. */
export interface Engine {
  journal: JournalRepository;
  files: FileJobs;
  steps: StepRegistry;
  handlers: HandlerRegistry;
  workflows: WorkflowRegistry;
  runner: WorkflowRunner;
  intake: Intake;
  /** In start order: the sandboxes' spare host worker (with plugins), workflow hot reload, queue workers, then intake (whose start-up scan may enqueue at once). */
  services: Service[];
}

export async function composeEngine(state: State, pgp: { keys: ServerKeyStore; signer?: OutputSigner }): Promise<Engine> {
  const { loaded, config, paths, store, logger } = state;
  // Last good definitions, kept across restarts (issue #23): read before the registry is built.
  const versions = await WorkflowVersionStore.load(store.workflowVersions, logger.child({ component: 'workflows' }));
  const { journal, accounts } = store;
  const steps = new StepRegistry(BUILTIN_STEPS);
  // Handlers first: a workflow naming a handler that is not loaded is refused when it loads.
  // Plugins (config `plugins:`) run in sandbox processes with their manifests' grants (core/sandbox).
  const handlers = HandlerRegistry.withPlugins(pluginContainer({ config, logger }), BUILTIN_HANDLERS, config.plugins, undefined, sandboxLoader(logger, loaded, { directory: state.directoryTarget, writes: state.sandboxWrites }));
  const workflows = new WorkflowRegistry(loaded.workflowsDir, steps, logger.child({ component: 'workflows' }), true, handlers, versions);
  const files = fileJobs(new DurableQueue(store.queue, config.engine.retry, logger), workflows, config);
  const services: StepServices = { handlers, directory: state.directory, pgpKeys: pgp.keys, signer: pgp.signer };
  const runner = new WorkflowRunner({ services, journal, accounts, workflows, steps, paths, config, logger, requeue: (file) => files.enqueue(file) });
  const intake = new Intake({ paths, accounts, journal, files, route: workflowRouting(workflows), logger });
  // Folders workflows declare (createFolders), in every exchange account (issue #23).
  const folders = new DeclaredFolders(paths, accounts, workflows, logger.child({ component: 'workflows' }));
  workflows.onReload.push(() => {
    folders.ensure().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'cannot create the folders workflows declare'));
  });
  return {
    journal, files, steps, handlers, workflows, runner, intake,
    services: [
      // Plugins run sandboxed: a host worker started ahead for their next run (core/sandbox/sandboxed-handler.ts).
      ...(config.plugins.length > 0 ? [new SandboxHostWorkers()] : []),
      workflows,
      folders,
      new WorkflowWorkers(files, runner, journal, config, logger),
      new IntakeService(intake, paths, accounts, state.uploads, { watch: config.engine.watch, scanIntervalSeconds: config.engine.scanIntervalSeconds }, logger),
    ],
  };
}

/**
 * Intake's routing function: the flux of the one workflow whose `match` takes the path (null
 * when no workflow or several do: the file is then rejected and quarantined). Read at each
 * file, so a hot-reloaded workflow routes the next file. (Its attempts are FileJobs' concern.)
 */
export function workflowRouting(workflows: WorkflowRegistry): RouteFile {
  return (profile, relativePath) => workflows.match(profile, relativePath)?.flux ?? null;
}

/** The engine's "process this file" (core/queue/file-jobs.ts): every file gets its workflow's attempts. */
export function fileJobs(queue: DurableQueue, workflows: WorkflowRegistry, config: FluxgateConfig): FileJobs {
  return new FileJobs(queue, (file) => workflows.forFile(file)?.retry.attempts ?? config.engine.retry.attempts);
}

/**
 * What `fluxgate replay` needs beside a running server: the journal and the same "process this
 * file", with the workflows read once from disk (their attempts; no plugin is loaded for that).
 */
export function composeFileJobs({ loaded, store, logger }: { loaded: LoadedConfig; store: Store; logger: Logger }): { journal: JournalRepository; files: FileJobs } {
  const workflows = new WorkflowRegistry(loaded.workflowsDir, new StepRegistry(BUILTIN_STEPS), logger, false);
  return { journal: store.journal, files: fileJobs(new DurableQueue(store.queue, loaded.config.engine.retry, logger), workflows, loaded.config) };
}
