import { EchoHandler } from './echo';

/**
 * The built-in flux handlers, registered in the container by the engine.
 * Extra handlers come from the modules listed under `plugins:` in the config file.
 */
export const BUILTIN_HANDLERS: Array<abstract new (...args: never[]) => unknown> = [
  EchoHandler,
];
