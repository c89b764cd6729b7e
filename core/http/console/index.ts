import type { FastifyInstance } from 'fastify';
import type { LoginLimiter } from '../auth';
import type { HttpDeps } from '../deps';
import { registerAccountPages } from './accounts-pages';
import { registerAssetRoutes } from './assets';
import { registerAuditPage } from './audit-page';
import { registerDashboardPage } from './dashboard-page';
import { registerDirectoryPage } from './directory-page';
import { registerEventPages } from './events-page';
import { registerFilePages } from './files-pages';
import { registerJobPages } from './jobs-pages';
import { registerSessionPages } from './session-pages';
import { registerWorkflowPages } from './workflows-pages';

/**
 * The web console under /console/: server-rendered HTML pages over the same services as the API
 * and the CLI. Reads need a viewer, every change (a POST) an admin, as the API's routes; the
 * pages hide what a viewer may not do, and the server refuses it anyway (authHook).
 */
export function registerConsole(app: FastifyInstance, deps: HttpDeps, limiter: LoginLimiter): void {
  registerAssetRoutes(app);
  registerSessionPages(app, deps, limiter);
  registerDashboardPage(app, deps);
  registerFilePages(app, deps);
  registerAccountPages(app, deps);
  registerDirectoryPage(app, deps);
  registerWorkflowPages(app, deps);
  registerJobPages(app, deps);
  registerEventPages(app, deps);
  registerAuditPage(app, deps);
}
