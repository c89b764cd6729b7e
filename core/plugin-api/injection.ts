import type * as Inversify from 'inversify';

/**
 * The plugin API's `inject` and `injectable`: inversify's, loaded on first use. Loading
 * inversify (ESM, ~25 modules through require) took 60–130 ms of each sandbox's start, before
 * its plugin could read a row; a handler that injects nothing never needs it (child.ts then
 * constructs it with `new`).
 */
let inversify: typeof Inversify | undefined;

function load(): typeof Inversify {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- on first use only (above)
  return inversify ??= require('inversify') as typeof Inversify;
}

export const inject: typeof Inversify.inject = (...args) => load().inject(...args);
export const injectable: typeof Inversify.injectable = (...args) => load().injectable(...args);

/** Whether a plugin's code used `inject` or `injectable` (so its handler needs the container). */
export function injectionUsed(): boolean {
  return inversify !== undefined;
}
