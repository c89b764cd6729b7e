import 'reflect-metadata';
import { Container } from 'inversify';
import type { FluxgateConfig } from '../config/schema';
import { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxHandler } from '../plugin-api/handler';
import { PluginTokens } from '../plugin-api/tokens';
import type { HandlerClass, HandlerFactory } from '../workflow/handler-registry';

/**
 * The plugin container: handler classes constructed with the dependencies their constructors
 * declare with `@inject(PluginTokens.…)` (docs/plugin-api.md), each once, at its first use.
 * It holds nothing but PluginTokens: a plugin reaches the engine only through the plugin API.
 *
 * Why inversify is kept for this: constructor injection with explicit tokens is the plugin API's
 * contract (its `inject` and `injectable` are inversify's), which integrators' handlers are
 * written against. The core itself is wired with plain constructors in the composition root,
 * where the compiler checks every argument.
 */
export function pluginContainer({ config, logger }: { config: FluxgateConfig; logger: Logger }): HandlerFactory {
  const container = new Container();
  container.bind(PluginTokens.Logger).toConstantValue(logger);
  container.bind(PluginTokens.Config).toConstantValue(config);
  return {
    add(cls) {
      container.bind(cls).toSelf().inSingletonScope();
      // Also in the unnamed FluxHandler multi-binding (inversify 8's getAll only sees unnamed bindings).
      container.bind(PluginTokens.FluxHandler).toService(cls);
    },
    create(cls) {
      try {
        return container.get<FluxHandler>(cls as never);
      } catch (err) {
        throw new FluxgateError('FG_PLUGIN_INVALID', `the handler ${className(cls)} cannot be constructed: ${(err as Error).message}. `
          + 'A handler\'s constructor may @inject only PluginTokens (Logger, Config, FluxHandler): see docs/plugin-api.md', { handler: className(cls) }, { cause: err });
      }
    },
  };
}

const className = (cls: HandlerClass): string => cls.name || 'a class';
