import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` function (`--expose-gc`): `{ type: 'minor' }` runs a scavenge, no argument a full GC; both synchronous. */
export type V8Gc = (options?: { type: 'major' | 'minor' }) => void;

let gcFunction: V8Gc | undefined;

/**
 * V8's gc function, exposed at run time on first use, in a `vm` context of its own: never on
 * the server's global object, where any code could call it.
 */
export function v8Gc(): V8Gc {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as V8Gc;
  }
  return gcFunction;
}
