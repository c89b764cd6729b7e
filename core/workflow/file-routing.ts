import type { RouteFile } from '../intake/intake';
import type { WorkflowRegistry } from './registry';

/**
 * Intake's routing function: the flux of the one workflow whose `match` takes the path (null
 * when no workflow or several do: the file is then rejected and quarantined). Read at each
 * file, so a hot-reloaded workflow routes the next file. (Its attempts are FileJobs' concern.)
 */
export function workflowRouting(workflows: WorkflowRegistry): RouteFile {
  return (profile, relativePath) => workflows.match(profile, relativePath)?.flux ?? null;
}
