import { FluxgateError } from '../errors';
import type { FluxHandler } from '../plugin-api/handler';
import { getManifest, type FluxManifest } from '../plugin-api/manifest';
import { checkManifest } from './manifest-check';
import { enablePluginLoading } from './plugin-loader';

export type HandlerClass = abstract new (...args: never[]) => unknown;

/**
 * Makes handler instances with the dependencies their constructors declare (`@inject` of
 * PluginTokens): the plugin container of the composition root (core/composition/plugins.ts).
 */
export interface HandlerFactory {
  /** Makes the class known; nothing is constructed yet. */
  add(cls: HandlerClass): void;
  /** The class's one instance, constructed at its first use. */
  create(cls: HandlerClass): FluxHandler;
}

interface Registration {
  manifest: FluxManifest;
  cls: HandlerClass;
  /** Where it came from (built-in, or the plugin module path). */
  origin: string;
}

/** Flux name → handler class, its manifest, and its instance (made by the HandlerFactory at first use). */
export class HandlerRegistry {
  private readonly byFlux = new Map<string, Registration>();

  constructor(private readonly factory: HandlerFactory) {}

  register(cls: HandlerClass, origin = 'built-in'): FluxManifest {
    const manifest = getManifest(cls);
    if (!manifest) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `${cls.name || 'a class'} from ${origin} is not decorated with @fluxHandler(manifest)`);
    }
    // An empty, absolute or `..` grant, or an unknown top folder, never reaches a context.
    checkManifest(manifest, cls.name || 'a class', origin);
    const existing = this.byFlux.get(manifest.flux);
    if (existing) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `flux "${manifest.flux}" has two handlers: ${existing.cls.name} (${existing.origin}) and ${cls.name} (${origin})`);
    }
    this.factory.add(cls);
    this.byFlux.set(manifest.flux, { manifest, cls, origin });
    return manifest;
  }

  /** Registers every exported handler class of a plugin module (config `plugins:`). */
  registerModule(path: string): FluxManifest[] {
    let mod: Record<string, unknown>;
    enablePluginLoading();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module by its path, loaded synchronously: registration returns its manifests
      mod = require(path) as Record<string, unknown>;
    } catch (err) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `cannot load plugin module ${path}: ${(err as Error).message}`);
    }
    const classes = Object.values(mod).filter((v): v is HandlerClass => typeof v === 'function' && getManifest(v) !== undefined);
    if (classes.length === 0) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `plugin module ${path} exports no class decorated with @fluxHandler(manifest)`);
    }
    // All of a module's manifests are checked before any of its classes is registered.
    for (const c of classes) checkManifest(getManifest(c), c.name || 'a class', path);
    return classes.map((c) => this.register(c, path));
  }

  /**
   * The built-in handlers and those of the config's plugin modules: what the server runs with.
   * A module that cannot be registered (FG_PLUGIN_INVALID) stops the start; given `problems`
   * (`workflows check`), it is recorded there instead and the other modules still load.
   */
  static withPlugins(factory: HandlerFactory, builtIn: readonly HandlerClass[], pluginModules: readonly string[], problems?: Array<{ module: string; error: FluxgateError }>): HandlerRegistry {
    const registry = new HandlerRegistry(factory);
    for (const cls of builtIn) registry.register(cls);
    for (const module of pluginModules) {
      try {
        registry.registerModule(module);
      } catch (err) {
        if (!problems || !(err instanceof FluxgateError)) throw err;
        problems.push({ module, error: err });
      }
    }
    return registry;
  }

  manifest(flux: string): FluxManifest | undefined {
    return this.byFlux.get(flux)?.manifest;
  }

  get(flux: string): { handler: FluxHandler; manifest: FluxManifest } {
    const reg = this.byFlux.get(flux);
    if (!reg) throw new FluxgateError('FG_PLUGIN_NOT_FOUND', `no handler is registered for flux "${flux}"`);
    return { handler: this.factory.create(reg.cls), manifest: reg.manifest };
  }

  list(): Array<{ flux: string; name: string; origin: string; manifest: FluxManifest }> {
    return [...this.byFlux.values()].map((r) => ({ flux: r.manifest.flux, name: r.cls.name, origin: r.origin, manifest: r.manifest }));
  }
}
