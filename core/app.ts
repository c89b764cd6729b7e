import type { Container } from 'inversify';
import type { Database } from './store/database';
import { Tokens, type Service } from './tokens';
import type { Logger } from './logging/logger';

/** The running server: starts every bound Service in order, stops them in reverse. */
export class FluxgateApp {
  private started: Service[] = [];

  constructor(readonly container: Container) {}

  get logger(): Logger { return this.container.get<Logger>(Tokens.Logger); }

  async start(): Promise<void> {
    const services = this.container.isBound(Tokens.Service) ? this.container.getAll<Service>(Tokens.Service) : [];
    for (const service of services) {
      await service.start();
      this.started.push(service);
      this.logger.debug({ component: 'app', service: service.name }, 'service started');
    }
    for (const service of this.started) service.started?.();
  }

  async stop(): Promise<void> {
    for (const service of this.started.reverse()) {
      try {
        await service.stop();
      } catch (err) {
        this.logger.error({ component: 'app', service: service.name, err }, 'service failed to stop cleanly');
      }
    }
    this.started = [];
    this.container.get<Database>(Tokens.Database).close();
  }
}
