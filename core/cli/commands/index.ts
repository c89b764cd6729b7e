import type { RegisterCommands } from '../context';

/** Every command group, in the order `fluxgate --help` lists them. */
export const COMMANDS: RegisterCommands[] = [];
