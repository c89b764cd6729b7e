import type { RouteFile } from '../intake/intake';
import type { WorkflowRegistry } from './registry';

/**
 * Intake's routing function: the one workflow whose `match` takes the path (none when no
 * workflow or several do: the file is then rejected and quarantined), and its retry attempts;
 * a file no workflow takes gets the engine's default attempts. Read at each file, so a
 * hot-reloaded workflow routes the next file.
 */
export function workflowRouting(workflows: WorkflowRegistry, defaultAttempts: number): RouteFile {
  return (profile, relativePath) => {
    const workflow = workflows.match(profile, relativePath);
    return { flux: workflow?.flux ?? null, maxAttempts: workflow?.retry.attempts ?? defaultAttempts };
  };
}
