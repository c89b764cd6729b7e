import type { RegisterCommands } from '../context';

/** A command module: the top-level command names it registers, and the module, loaded on demand. */
export interface CommandGroup {
  readonly names: readonly string[];
  load(): RegisterCommands;
}

/*
 * Each module is required only when its command runs (or for `--help`): together they load the
 * whole server (ssh2, openpgp, the engine, the plugins), ~200 ms of a one-line command's start.
 * require(), not import(): an ECMAScript import() would need `.js` paths and Node's ESM loader.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, see above */
/** Every command group, in the order `fluxgate --help` lists them. */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { names: ['serve'], load: () => (require('./serve') as typeof import('./serve')).registerServe },
  { names: ['account'], load: () => (require('./account') as typeof import('./account')).registerAccount },
  { names: ['key'], load: () => (require('./key') as typeof import('./key')).registerKey },
  { names: ['hostkeys'], load: () => (require('./hostkeys') as typeof import('./hostkeys')).registerHostkeys },
  { names: ['jobs'], load: () => (require('./jobs') as typeof import('./jobs')).registerJobCommands },
  { names: ['pgp'], load: () => (require('./pgp') as typeof import('./pgp')).registerPgpCommands },
  { names: ['files'], load: () => (require('./files') as typeof import('./files')).registerFileCommands },
  { names: ['replay'], load: () => (require('./replay') as typeof import('./replay')).registerReplayCommands },
  { names: ['workflows'], load: () => (require('./workflows') as typeof import('./workflows')).registerWorkflowCommands },
  { names: ['plugin'], load: () => (require('./plugin') as typeof import('./plugin')).registerPluginCommands },
  { names: ['directory'], load: () => (require('./directory') as typeof import('./directory')).registerDirectoryCommands },
  { names: ['config'], load: () => (require('./config') as typeof import('./config')).registerConfigCommands },
  { names: ['admin', 'token', 'audit'], load: () => (require('./operators') as typeof import('./operators')).registerOperatorCommands },
  { names: ['events', 'deliveries'], load: () => (require('./events') as typeof import('./events')).registerEventCommands },
  { names: ['expectations'], load: () => (require('./expectations') as typeof import('./expectations')).registerExpectationCommands },
  { names: ['store'], load: () => (require('./store') as typeof import('./store')).registerStoreCommands },
  { names: ['nodes'], load: () => (require('./nodes') as typeof import('./nodes')).registerNodesCommand },
  { names: ['bans'], load: () => (require('./bans') as typeof import('./bans')).registerBansCommands },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** Options of the program itself that take a value (`--config FILE`): the command name comes after them. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--data-dir', '--config']);

/** The top-level command `args` (argv without node and the script) names, if any. */
export function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
    else if (arg === '--') return undefined;
  }
  return undefined;
}

/**
 * The groups to register for `args`: only the one that holds its command, or all of them (no
 * command, `--help`, `help`, an unknown name: the help and the error list every command).
 */
export function commandGroupsFor(args?: readonly string[]): readonly CommandGroup[] {
  const name = args && commandName(args);
  const group = name === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(name));
  return group ? [group] : COMMAND_GROUPS;
}
