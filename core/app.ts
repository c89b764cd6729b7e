import type { Logger } from './logging/logger';
import type { Service } from './tokens';

/** What the app runs: the composition root's services (core/composition). */
export interface AppParts {
  readonly services: readonly Service[];
  readonly logger: Logger;
  /** Releases what the services shared (the store: PostgreSQL's pool ends), once they have stopped. */
  close(): Promise<void> | void;
}

/** The running server: starts every service in order, stops them in reverse. */
export class FluxgateApp {
  private started: Service[] = [];
  private background: Promise<void> = Promise.resolve();

  constructor(private readonly parts: AppParts) {}

  get logger(): Logger { return this.parts.logger; }

  async start(): Promise<void> {
    for (const service of this.parts.services) {
      await service.start();
      this.started.push(service);
      this.logger.debug({ component: 'app', service: service.name }, 'service started');
    }
    const work = this.started.map((service) => Promise.resolve(service.started?.()));
    this.background = Promise.all(work).then(() => undefined);
  }

  /** Settles when the background work the services began once started (Service.started) is done. */
  get settled(): Promise<void> {
    return this.background;
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
    await this.parts.close();
  }
}
