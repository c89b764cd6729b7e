// ESLint: typescript-eslint's type-checked recommended rules over every TypeScript source
// (`npm run lint`, part of `npm test`). Architecture rules live in .dependency-cruiser.cjs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .dist-next-*: the build's folder before its rename to dist/ (bin/build.js); linted while it is written, it vanished under ESLint.
  { ignores: ['node_modules/**', 'dist/**', '.dist-next-*/**', 'var/**', '**/*.d.ts'] },
  // A disable comment that no longer disables anything fails the lint too (each says why, after `--`).
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      // `_` names a value left out on purpose (a destructured field, an unused parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // fastify route handlers are async functions whatever their body, as fastify's documentation
    // writes them: what one returns is the reply, what it throws goes to the error handler.
    files: ['core/http/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The SQLite repositories implement async interfaces (core/store/ports) with synchronous
    // better-sqlite3 calls: their methods are async so that a throw becomes a rejection, as it
    // would be with PostgreSQL (docs/store.md).
    files: ['core/store/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The SDK's in-memory directory implements the same async interface (DirectoryStore) over
    // synchronous maps, for the same reason: a throw must reach the handler as a rejection.
    files: ['core/plugin-testing/memory-directory.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // An integrator's plugin kept outside the repository: its own tsconfig resolves fluxgate/plugin-api
    // to the build (test/e2e/plugin-identity.test.ts type-checks it so); here, as for tsc --noEmit,
    // the root tsconfig maps it to the sources, so linting does not depend on dist/.
    files: ['test/fixtures/plugins/outside/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.json' } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    // JavaScript files (bin/, test/run.mjs, fixtures, these configs) are outside tsconfig's
    // program: linted by the plain rules, without type information.
    languageOptions: { parserOptions: { projectService: false }, globals: { process: 'readonly', console: 'readonly', URL: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
