import type { RegisterCommands } from '../context';
import { registerJobCommands } from './jobs';
import { registerPgpCommands } from './pgp';

/** Every command group, in the order `fluxgate --help` lists them. */
export const COMMANDS: RegisterCommands[] = [registerJobCommands, registerPgpCommands];
