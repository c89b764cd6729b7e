/**
 * Whether the operator set a V8 flag matching `name` on node's command line or in
 * NODE_OPTIONS. fluxgate changes some flags at run time (startup-heap.ts, upload-heap.ts) and
 * leaves alone those the operator chose.
 */
export function operatorSetV8Flag(name: RegExp): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => name.test(arg));
}
