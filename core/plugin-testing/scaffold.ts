import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root';
import { FluxgateError } from '../errors';

const FLUX = /^[a-z0-9][a-z0-9-]{0,31}$/;

const pascal = (flux: string): string => flux.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');

/**
 * `fluxgate plugin init <flux>`: a plugin folder an integrator starts from, whose test passes
 * as written (`npm install && npm test`): a handler validating `code;label` rows, its workflow,
 * a sample file, a unit test through createTestContext, package.json and tsconfig.json.
 * Refuses to write over anything. Returns the files written.
 */
export function scaffoldPlugin(flux: string, dir: string): string[] {
  if (!FLUX.test(flux)) {
    throw new FluxgateError('FG_USAGE', `"${flux}" is not a flux code for a new plugin: 1-32 lower-case letters, digits and "-" (it is a part of file names, between "_")`);
  }
  const cls = `${pascal(flux)}Handler`;
  const sample = `ndmat_acme_acme_${flux}_261121090000.csv`;
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify({
      name: `fluxgate-plugin-${flux}`, version: '0.1.0', private: true, type: 'commonjs', main: 'index.ts',
      scripts: { test: `node --import tsx --test ${flux}.test.ts`, typecheck: 'tsc --noEmit' },
      devDependencies: { fluxgate: `file:${PACKAGE_ROOT}`, tsx: own.devDependencies?.tsx ?? '^4', typescript: own.devDependencies?.typescript ?? '~5.9', '@types/node': own.devDependencies?.['@types/node'] ?? '^24' },
    }, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'node16', moduleResolution: 'node16', strict: true, experimentalDecorators: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      include: ['*.ts'],
    }, null, 2)}\n`,
    'index.ts': `// The module listed under plugins: in fluxgate.yaml: every exported @fluxHandler class is registered.\nexport { ${cls} } from './handler';\n`,
    'handler.ts': `import {
  fluxHandler, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile,
} from 'fluxgate/plugin-api';

/**
 * The ${flux} flux: one value per row, \`code;label\` (exchange dialect: \`;\`, \`'\` quotes).
 * Runs in a sandbox with exactly the grants below (docs/plugin-api.md).
 */
@fluxHandler({
  apiVersion: 2,
  flux: '${flux}',
  description: '${flux} files: code;label',
  profiles: ['exchange'],
  permissions: { read: ['in/${flux}'], write: ['out/${flux}'], network: false },
  limits: { memoryMb: 256, secondsPerFile: 300 },
})
export class ${cls} implements FluxHandler {
  async handle(_file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    for await (const rec of ctx.records({ dialect: 'exchange', required: ['code', 'label'] })) {
      const { code, label } = rec.values;
      if (rec.problems.length || !code || !label) {
        ctx.report.add({ line: rec.line, severity: 'error', code: 'FG_REQUIRED', field: code ? 'label' : 'code', message: 'code and label are required' });
        ctx.report.count('rejected');
        continue;
      }
      // Apply the row here when ctx.apply is true (await ctx.directory…, or collect the rows and
      // await ctx.directory.batch(ops) to apply them together; ctx.files.writeFile('out/${flux}/…')).
      ctx.report.count('created', code, rec.line);
    }
    return { result: 'processed', summary: \`\${ctx.report.counts.created} value(s)\` };
  }
}
`,
    [`${flux}.yaml`]: `# Copy into the workflows directory (fluxgate.yaml workflowsDir) to serve in/${flux}.
flux: ${flux}
description: "${flux} files: code;label"
match:
  profile: exchange
  directory: in/${flux}
# in/${flux} and out/${flux} made in every exchange account (existing and new ones; docs/workflows.md)
createFolders: true
naming:
  extensions: [csv]
steps:
  - receipt
  - check-name
  - decrypt
  - handler
  - report
  - archive
on-error:
  - report
  - quarantine
`,
    [join('sample', sample)]: "code;label\r\nA;Alpha\r\nB;'Beta; the second'\r\n;No code\r\n",
    [`${flux}.test.ts`]: `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestContext } from 'fluxgate/plugin-api/testing';
import { ${cls} } from './handler';

test('the sample: two values, one row rejected with its line', async () => {
  const t = createTestContext({ input: join(__dirname, 'sample', '${sample}'), handler: ${cls} });
  const outcome = await new ${cls}().handle(t.file, t.ctx);
  assert.equal(outcome.result, 'processed');
  assert.deepEqual(t.report.counts, { created: 2, updated: 0, unchanged: 0, rejected: 1 });
  assert.ok(t.report.messages.some((m) => m.line === 4 && m.severity === 'error'));
});
`,
  };
  const paths = Object.keys(files).map((f) => join(dir, f));
  const taken = paths.filter((p) => existsSync(p));
  if (taken.length) throw new FluxgateError('FG_FILE_EXISTS', `${taken.join(', ')} already exist(s): plugin init writes nothing over a file; choose another --dir`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return paths;
}
