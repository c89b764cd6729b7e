import { z } from 'zod';
import { formatProblem } from '../../workflow/loader';
import { checkWorkflowSource, listWorkflowNames, readWorkflowSource, replaceWorkflowSource, workflowNameOf, type WorkflowCheck } from '../../workflow/workflow-edit';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { asReply, responses, WorkflowCheck as WorkflowCheckSchema, WorkflowProblem } from '../schemas';

const Name = z.object({ name: z.string().describe('the file path under the workflows directory without .yaml (sal, rpa%2Femp)') });
const Source = z.strictObject({ source: z.string().max(1024 * 1024) });

const withText = (c: WorkflowCheck): never => asReply({
  ...c, text: [...c.problems.map((p) => `error  ${formatProblem(p)}`), ...c.warnings.map((p) => `warn   ${formatProblem(p)}`)],
});

/** Workflows: list what runs, read a source, validate a proposed one, replace it (hot reload). */
export function registerWorkflowRoutes(app: ZodApp, deps: HttpDeps): void {
  const tags = ['workflows'];
  const dir = deps.workflowSources.dir;

  app.get('/api/v1/workflows', {
    schema: {
      summary: 'workflow files and what the server runs from them', tags,
      response: responses({ 200: z.object({
        dir: z.string(),
        workflows: z.array(z.object({ name: z.string(), file: z.string(), active: z.boolean(), flux: z.string().nullable(), profile: z.string().nullable(), directory: z.string().nullable(), steps: z.array(z.string()) })),
        problems: z.array(WorkflowProblem),
      }) }),
    },
  }, async () => {
    const active = new Map(deps.workflows.all.map((w) => [workflowNameOf(dir, w.source), w]));
    return {
      dir,
      workflows: listWorkflowNames(dir).map((name) => {
        const w = active.get(name);
        return { name, file: readWorkflowSource(dir, name).file, active: w !== undefined, flux: w?.flux ?? null, profile: w?.match.profile ?? null,
          directory: w ? w.match.directory || '/' : null, steps: w ? w.steps.map((s) => s.name) : [] };
      }),
      problems: deps.workflows.problems,
    };
  });

  app.get('/api/v1/workflows/:name', {
    schema: { summary: "a workflow file's source", tags, params: Name, response: responses({ 200: z.object({ name: z.string(), file: z.string(), source: z.string() }) }) },
  }, async (request) => readWorkflowSource(dir, request.params.name));

  app.post('/api/v1/workflows/:name/validate', {
    schema: { summary: 'check a proposed source as `workflows check` would; changes nothing', tags, params: Name, body: Source, response: responses({ 200: WorkflowCheckSchema }) },
    config: { access: 'viewer' },
  }, async (request) => withText(checkWorkflowSource(deps.workflowSources, request.params.name, request.body.source)));

  app.put('/api/v1/workflows/:name', {
    schema: {
      summary: 'replace (or create) a workflow file; refused with FG_WORKFLOW_INVALID (422) and the problems when invalid; applied at once', tags,
      params: Name, body: Source, response: responses({ 200: WorkflowCheckSchema.extend({ reloaded: z.boolean() }) }),
    },
  }, async (request) => withText(replaceWorkflowSource(deps.workflowSources, request.params.name, request.body.source, (file) => deps.workflows.reload(file))));
}
