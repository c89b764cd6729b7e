/**
 * Two contracts the composition root (core/composition) wires parts by. The core has no
 * container tokens (it is wired with plain constructors); plugins' are PluginTokens.
 */

/** A long-running part of the server with a clear lifecycle (core/app.ts awaits each: one with nothing to wait for is synchronous). */
export interface Service {
  readonly name: string;
  start(): Promise<void> | void;
  /**
   * Called once every service has started (the server listens): background work that must not
   * delay the start. Its promise, if any, settles when that work is done (it never rejects).
   */
  started?(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/**
 * Signs a report or receipt once it is complete in out/ (core/pgp writes `<file>.sig` next to it).
 * Optional: the engine is given one only when `pgp.signReports` is on.
 */
export interface OutputSigner {
  sign(absolutePath: string): Promise<void>;
}
