import 'reflect-metadata';
import { injectable } from 'inversify';

/** What a flux handler is and what it may touch. The context refuses anything not granted here. */
export interface FluxManifest {
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
    /** Whether `ctx.fetch` is available. */
    network: boolean;
  };
}

const MANIFEST = Symbol.for('fluxgate.plugin.manifest');

/** Marks a class as a flux handler: makes it injectable and attaches its manifest. */
export function fluxHandler(manifest: FluxManifest) {
  return <T extends abstract new (...args: never[]) => unknown>(target: T): T => {
    injectable()(target);
    Object.defineProperty(target, MANIFEST, { value: Object.freeze({ ...manifest }), enumerable: false });
    return target;
  };
}

export function getManifest(target: unknown): FluxManifest | undefined {
  if (typeof target !== 'function') return undefined;
  return (target as unknown as Record<symbol, FluxManifest | undefined>)[MANIFEST];
}
