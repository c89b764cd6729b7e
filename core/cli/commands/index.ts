import type { RegisterCommands } from '../context';
import { registerServe } from './serve';
import { registerAccount } from './account';
import { registerKey } from './key';
import { registerHostkeys } from './hostkeys';
import { registerJobCommands } from './jobs';
import { registerPgpCommands } from './pgp';
import { registerDirectoryCommands } from './directory';
import { registerFileCommands } from './files';
import { registerReplayCommands } from './replay';
import { registerWorkflowCommands } from './workflows';
import { registerConfigCommands } from './config';
import { registerOperatorCommands } from './operators';
import { registerPluginCommands } from './plugin';

/** Every command group, in the order `fluxgate --help` lists them. */
export const COMMANDS: RegisterCommands[] = [registerServe, registerAccount, registerKey, registerHostkeys, registerJobCommands, registerPgpCommands, registerFileCommands, registerReplayCommands, registerWorkflowCommands, registerPluginCommands, registerDirectoryCommands, registerConfigCommands,
  registerOperatorCommands];
