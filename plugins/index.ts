import { EchoHandler } from './echo';
import { SalHandler } from './sal';
import { SirHandler } from './sir';
import { UsrHandler } from './usr';
import { DisHandler } from './dis';
import { DropboxHandler } from './dropbox';

/**
 * The built-in flux handlers, registered in the container by the engine.
 * Extra handlers come from the modules listed under `plugins:` in the config file.
 */
export const BUILTIN_HANDLERS: Array<abstract new (...args: never[]) => unknown> = [
  EchoHandler,
  SirHandler,
  SalHandler,
  UsrHandler,
  DisHandler,
  DropboxHandler,
];
