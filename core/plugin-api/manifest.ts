import 'reflect-metadata';

/**
 * The plugin API version this server implements; a manifest naming another, or none, is refused
 * at load. 2: the directory is asynchronous, batches replace transaction(fn) (docs/plugin-api.md, "Changes").
 */
export const PLUGIN_API_VERSION = 2;

/** Defaults of FluxManifest.limits (a workflow's `limits:` overrides both). */
export const DEFAULT_PLUGIN_LIMITS = Object.freeze({ memoryMb: 256, secondsPerFile: 600 });

/**
 * What a flux handler is and what it may touch. A plugin listed under `plugins:` runs in a
 * sandbox process started with exactly these grants (docs/plugin-api.md); the context refuses
 * anything not granted here too.
 */
export interface FluxManifest {
  /**
   * The plugin API the handler is written against: PLUGIN_API_VERSION (2). Absent means 1, which
   * this server refuses at load (its directory was synchronous).
   */
  apiVersion?: number;
  /** The flux code: the `in/<flux>` directory it serves and the flux part of file names (`sal`, `dse`…). */
  flux: string;
  description?: string;
  /** Account profiles it serves; both when absent. */
  profiles?: Array<'exchange' | 'dropbox'>;
  permissions: {
    /** Account-relative paths it may read below (`in/sal`); `vault/…` is the account's document vault. */
    read: string[];
    /** Account-relative paths it may write below (`out/sal`, `vault`). */
    write: string[];
    /**
     * `false`: no network at all. A list of `host:port` (`['api.example.com:443']`): only those.
     * `true`: any host (built-in handlers; a sandboxed plugin should name its hosts).
     */
    network: boolean | string[];
  };
  /**
   * For a sandboxed plugin: its process's JavaScript heap (MiB) and how long one file may take.
   * Past either, the file is dead (FG_PLUGIN_MEMORY, FG_PLUGIN_TIMEOUT). Defaults:
   * DEFAULT_PLUGIN_LIMITS.
   */
  limits?: { memoryMb?: number; secondsPerFile?: number };
}

const MANIFEST = Symbol.for('fluxgate.plugin.manifest');

/**
 * Marks a class as a flux handler: attaches its manifest. (inversify 8 constructs a class
 * without `@injectable()`; its `@inject`s say what it needs. Not loading inversify here keeps
 * it out of a sandbox whose handler injects nothing: core/plugin-api/injection.ts.)
 */
export function fluxHandler(manifest: FluxManifest) {
  return <T extends abstract new (...args: never[]) => unknown>(target: T): T => {
    Object.defineProperty(target, MANIFEST, { value: Object.freeze({ ...manifest }), enumerable: false });
    return target;
  };
}

export function getManifest(target: unknown): FluxManifest | undefined {
  if (typeof target !== 'function') return undefined;
  return (target as unknown as Record<symbol, FluxManifest | undefined>)[MANIFEST];
}
