/**
 * Architecture rules (`npm run deps`, part of `npm test`; docs/architecture.md): dependencies
 * point inward. A plugin sees only the plugin API; the SFTP layer knows nothing of what happens
 * to a file once it is in the tree; the store keeps rows and reads no file format; no cycles.
 */
module.exports = {
  forbidden: [
    {
      name: 'plugins-only-plugin-api',
      comment: 'A flux plugin (plugins/, examples/) reaches the engine only through core/plugin-api.',
      severity: 'error',
      from: { path: '^(plugins|examples)/' },
      to: { path: '^core/', pathNot: '^core/plugin-api/' },
    },
    {
      name: 'sftp-knows-no-engine',
      comment: 'core/sftp imports nothing of intake, the queue or workflows: the file tree is the contract.',
      severity: 'error',
      from: { path: '^core/sftp/' },
      to: { path: '^core/(intake|queue|workflow)/' },
    },
    {
      name: 'store-reads-no-file-format',
      comment: 'core/store keeps rows: no file reader (core/records), workflow, PGP or plugin code.',
      severity: 'error',
      from: { path: '^core/store/' },
      to: { path: '^(core/(records|workflow|pgp)|plugins)/' },
    },
    {
      name: 'sqlite-stays-in-store',
      comment: 'better-sqlite3 and its Database handle stay inside core/store: everything else uses the async repository interfaces of core/store/ports, built by the composition root (docs/store.md).',
      severity: 'error',
      from: { path: '^(core|plugins|examples|bin)/', pathNot: '^core/store/' },
      to: { path: ['^better-sqlite3$', '(^|/)node_modules/better-sqlite3/', '^core/store/database[.]ts$'] },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycle between modules (one made of type-only imports is allowed here; between folders, see no-folder-cycles).',
      severity: 'error',
      from: { path: '^(core|plugins)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      // A folder depends on another when one of its modules imports one of the other's, types
      // included. The cycles there were when the rule came are listed in
      // .dependency-cruiser-known-violations.json (`npm run deps` ignores those): docs/architecture.md.
      name: 'no-folder-cycles',
      comment: 'No cycle between folders (core/sftp, core/intake…; the modules directly in core/ form one folder), every import counted.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(core|plugins)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(node_modules|dist|var)/' },
  },
};
