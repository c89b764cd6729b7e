import { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxManifest } from '../plugin-api/manifest';
import type { HandlerRegistry, PluginModuleLoader } from '../workflow/handler-registry';
import { checkManifest } from '../workflow/manifest-check';
import { isAbsolute, sep } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { realpathSync } from 'node:fs';
import { bundlePlugin, describePlugin, pluginRoot } from './plugin-bundle';
import { RUNTIME_HAS_NET_PERMISSION, SandboxedHandler, type SandboxStore } from './sandboxed-handler';

/**
 * Loads `plugins:` modules into sandboxes: compiled by the server (plugin-bundle.ts), their
 * manifests read by running them in a sandbox, each handler class registered as a
 * SandboxedHandler. Nothing of a plugin runs in the server's process. Logs each module with
 * the manifests of its handlers. `store` says where their runs' `ctx.directory` is (the
 * configured store: core/composition/state.ts).
 */
export function sandboxLoader(logger: Logger | undefined, loaded: LoadedConfig | undefined, store: SandboxStore): PluginModuleLoader {
  const protectedPaths = loaded ? serverSecrets(loaded) : [];
  return (registry: HandlerRegistry, modulePath: string): FluxManifest[] => {
    refuseFolderHoldingSecrets(modulePath, protectedPaths);
    const bundle = bundlePlugin(modulePath);
    const classes = describePlugin(bundle);
    if (classes.length === 0) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `plugin module ${modulePath} exports no class decorated with @fluxHandler(manifest)`, { module: modulePath });
    }
    // All of a module's manifests are checked before any of its classes is registered.
    for (const c of classes) checkManifest(c.manifest, c.name, modulePath);
    const manifests = classes.map((c) => registry.registerInstance(c.manifest, c.name, modulePath,
      new SandboxedHandler({ bundle, className: c.name, manifest: c.manifest, ...store })));
    logger?.info({
      module: modulePath,
      handlers: classes.map((c) => ({ class: c.name, manifest: c.manifest })),
      sandbox: { runtime: `node ${process.version}`, networkByRuntime: RUNTIME_HAS_NET_PERMISSION },
    }, `plugin module loaded (sandboxed): ${classes.map((c) => `${c.name} for flux "${c.manifest.flux}"`).join(', ')}`);
    return manifests;
  };
}

/** What no sandbox may read, whatever folder a plugin is in: the data directory, the config, the keys. */
function serverSecrets(loaded: LoadedConfig): Array<{ path: string; what: string }> {
  const c = loaded.config;
  return [
    { path: loaded.dataDir, what: 'the data directory' },
    { path: loaded.file, what: 'the configuration file' },
    { path: c.sftp.hostKeysDir, what: 'the SSH host keys (sftp.hostKeysDir)' },
    { path: c.pgp.privateKeyFile, what: 'the PGP private key (pgp.privateKeyFile)' },
    { path: c.http.tls?.key, what: 'the HTTPS private key (http.tls.key)' },
  ].filter((p): p is { path: string; what: string } => typeof p.path === 'string' && isAbsolute(p.path));
}

/**
 * The sandbox reads the plugin's own folder (its package root, else its directory): a plugin
 * put beside the configuration or above the data directory would read them. Refused at load.
 */
function refuseFolderHoldingSecrets(modulePath: string, secrets: ReadonlyArray<{ path: string; what: string }>): void {
  const root = pluginRoot(modulePath);
  let real = root;
  try { real = realpathSync(root); } catch { /* does not exist: loading it fails next */ }
  for (const folder of new Set([root, real])) {
    const held = secrets.find((s) => s.path === folder || s.path.startsWith(folder.endsWith(sep) ? folder : folder + sep));
    if (held) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `plugin module ${modulePath}: its folder ${folder}, which its sandbox may read, holds ${held.what} (${held.path}); `
        + 'put the plugin in a folder of its own', { module: modulePath, folder });
    }
  }
}
