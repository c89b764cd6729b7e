import { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxManifest } from '../plugin-api/manifest';
import type { HandlerRegistry, PluginModuleLoader } from '../workflow/handler-registry';
import { checkManifest } from '../workflow/manifest-check';
import { bundlePlugin, describePlugin } from './plugin-bundle';
import { RUNTIME_HAS_NET_PERMISSION, SandboxedHandler } from './sandboxed-handler';

/**
 * Loads `plugins:` modules into sandboxes: compiled by the server (plugin-bundle.ts), their
 * manifests read by running them in a sandbox, each handler class registered as a
 * SandboxedHandler. Nothing of a plugin runs in the server's process. Logs each module with
 * the manifests of its handlers.
 */
export function sandboxLoader(logger?: Logger): PluginModuleLoader {
  return (registry: HandlerRegistry, modulePath: string): FluxManifest[] => {
    const bundle = bundlePlugin(modulePath);
    const classes = describePlugin(bundle);
    if (classes.length === 0) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `plugin module ${modulePath} exports no class decorated with @fluxHandler(manifest)`, { module: modulePath });
    }
    // All of a module's manifests are checked before any of its classes is registered.
    for (const c of classes) checkManifest(c.manifest, c.name, modulePath);
    const manifests = classes.map((c) => registry.registerInstance(c.manifest, c.name, modulePath,
      new SandboxedHandler({ bundle, className: c.name, manifest: c.manifest })));
    logger?.info({
      module: modulePath,
      handlers: classes.map((c) => ({ class: c.name, manifest: c.manifest })),
      sandbox: { runtime: `node ${process.version}`, networkByRuntime: RUNTIME_HAS_NET_PERMISSION },
    }, `plugin module loaded (sandboxed): ${classes.map((c) => `${c.name} for flux "${c.manifest.flux}"`).join(', ')}`);
    return manifests;
  };
}
