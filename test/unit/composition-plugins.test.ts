import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { pluginContainer } from '../../core/composition/plugins';
import { configSchema } from '../../core/config/schema';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { fluxHandler, inject, PluginTokens, type FluxHandler, type FluxOutcome } from '../../core/plugin-api';
import { HandlerRegistry } from '../../core/workflow/handler-registry';

const permissions = { read: ['in/abc'], write: ['out/abc'], network: false };

@fluxHandler({ apiVersion: 2, flux: 'abc', description: 'injects what the plugin API offers', permissions })
class PluginApiHandler implements FluxHandler {
  constructor(@inject(PluginTokens.Logger) readonly logger: unknown, @inject(PluginTokens.Config) readonly config: unknown) {}
  handle(): Promise<FluxOutcome> { return Promise.resolve({ result: 'processed' }); }
}

// The core's database was injectable under this token while the core shared the plugins' container.
@fluxHandler({ apiVersion: 2, flux: 'def', description: 'asks for the engine\'s database', permissions: { ...permissions, read: ['in/def'], write: ['out/def'] } })
class CoreTokenHandler implements FluxHandler {
  constructor(@inject(Symbol.for('fluxgate.Database')) readonly db: unknown) {}
  handle(): Promise<FluxOutcome> { return Promise.resolve({ result: 'processed' }); }
}

describe('the plugin container (core/composition/plugins.ts)', () => {
  const logger = silentLogger();
  const config = configSchema.parse({});

  test('a handler gets what it @injects of PluginTokens, constructed once', () => {
    const registry = new HandlerRegistry(pluginContainer({ config, logger }));
    registry.register(PluginApiHandler);
    const { handler } = registry.get('abc');
    assert.ok(handler instanceof PluginApiHandler);
    assert.equal(handler.logger, logger);
    assert.equal(handler.config, config);
    assert.equal(registry.get('abc').handler, handler);
  });

  test('a handler asking for anything else cannot be constructed: FG_PLUGIN_INVALID, naming it and the tokens it may use', () => {
    const registry = new HandlerRegistry(pluginContainer({ config, logger }));
    registry.register(CoreTokenHandler);
    assert.throws(() => registry.get('def'), (err: unknown) => {
      assert.ok(isFluxgateError(err, 'FG_PLUGIN_INVALID'), String(err));
      assert.match(err.message, /^the handler CoreTokenHandler cannot be constructed: .*may @inject only PluginTokens \(Logger, Config, FluxHandler\)/s);
      return true;
    });
  });
});
