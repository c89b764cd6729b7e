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
  /** The class's name (an instance-registered handler has no class here). */
  name: string;
  cls?: HandlerClass;
  /** A handler made elsewhere (a sandboxed plugin's stand-in). */
  instance?: FluxHandler;
  /** Where it came from (built-in, or the plugin module path). */
  origin: string;
}

/**
 * Registers the handlers of one plugin module some other way than loading it in this process
 * (core/sandbox: in a sandbox process), through registerInstance.
 */
export type PluginModuleLoader = (registry: HandlerRegistry, modulePath: string) => FluxManifest[];

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
    this.refuseSecond(manifest.flux, cls.name, origin);
    this.factory.add(cls);
    this.byFlux.set(manifest.flux, { manifest, name: cls.name, cls, origin });
    return manifest;
  }

  /** Registers a handler made elsewhere under its manifest (checked here like any other). */
  registerInstance(manifest: FluxManifest, name: string, origin: string, instance: FluxHandler): FluxManifest {
    checkManifest(manifest, name, origin);
    this.refuseSecond(manifest.flux, name, origin);
    this.byFlux.set(manifest.flux, { manifest, name, instance, origin });
    return manifest;
  }

  private refuseSecond(flux: string, name: string, origin: string): void {
    const existing = this.byFlux.get(flux);
    if (existing) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `flux "${flux}" has two handlers: ${existing.name} (${existing.origin}) and ${name} (${origin})`);
    }
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
  static withPlugins(factory: HandlerFactory, builtIn: readonly HandlerClass[], pluginModules: readonly string[], problems?: Array<{ module: string; error: FluxgateError }>, loader?: PluginModuleLoader): HandlerRegistry {
    const registry = new HandlerRegistry(factory);
    for (const cls of builtIn) registry.register(cls);
    for (const module of pluginModules) {
      try {
        if (loader) loader(registry, module);
        else registry.registerModule(module);
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
    return { handler: reg.instance ?? this.factory.create(reg.cls!), manifest: reg.manifest };
  }

  list(): Array<{ flux: string; name: string; origin: string; manifest: FluxManifest; sandboxed: boolean }> {
    return [...this.byFlux.values()].map((r) => ({ flux: r.manifest.flux, name: r.name, origin: r.origin, manifest: r.manifest, sandboxed: Boolean(r.instance) }));
  }
}
