import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../core/config';

/** README "Configuration": relative paths in the config file are relative to the file (real files, cwd elsewhere). */
describe('relative paths of the configuration file', () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-cfgpaths-'));
  const etc = join(root, 'etc', 'fluxgate');
  const cwd = join(root, 'elsewhere');
  mkdirSync(etc, { recursive: true });
  mkdirSync(cwd);
  after(() => rmSync(root, { recursive: true, force: true }));

  const write = (config: Record<string, unknown>) => {
    const file = join(etc, 'fluxgate.yaml');
    writeFileSync(file, stringify(config));
    return file;
  };

  test('every path option is resolved against the directory of the file, whatever the working directory', () => {
    const file = write({
      dataDir: './var',
      workflowsDir: 'workflows',
      plugins: ['./plugins/dse/index.ts', '/opt/plugins/x.ts'],
      log: { file: './server.log' },
      sftp: { hostKeysDir: '../hostkeys' },
      pgp: { privateKeyFile: 'keys/server.asc' },
      forward: { 'rpa/emp': { directory: './rpa-inbox' }, sig: { directory: '/srv/sig' }, pro: { url: 'https://example.invalid/pro' } },
    });
    const loaded = loadConfig({ configFile: file, cwd, env: {} });
    const { config } = loaded;
    assert.equal(loaded.dataDir, join(etc, 'var'));
    assert.equal(config.dataDir, join(etc, 'var'));
    assert.equal(loaded.workflowsDir, join(etc, 'workflows'));
    assert.equal(config.workflowsDir, join(etc, 'workflows'));
    assert.deepEqual(config.plugins, [join(etc, 'plugins/dse/index.ts'), '/opt/plugins/x.ts']);
    assert.equal(config.log.file, join(etc, 'server.log'));
    assert.equal(config.sftp.hostKeysDir, join(root, 'etc', 'hostkeys'));
    assert.equal(config.pgp.privateKeyFile, join(etc, 'keys/server.asc'));
    assert.equal(config.forward['rpa/emp']?.directory, join(etc, 'rpa-inbox'));
    assert.equal(config.forward.sig?.directory, '/srv/sig');
    assert.equal(config.forward.pro?.directory, undefined);
  });

  test('the file found by a relative --config is the base too; --data-dir and FLUXGATE_DATA_DIR are relative to the working directory', () => {
    write({ dataDir: 'var', log: { file: 'logs/fluxgate.log' } });
    const relativeConfig = join('..', 'etc', 'fluxgate', 'fluxgate.yaml');
    const viaFlag = loadConfig({ configFile: relativeConfig, cwd, env: {} });
    assert.equal(viaFlag.dataDir, join(etc, 'var'));
    assert.equal(viaFlag.config.log.file, join(etc, 'logs/fluxgate.log'));
    const viaEnv = loadConfig({ cwd, env: { FLUXGATE_CONFIG: relativeConfig, FLUXGATE_DATA_DIR: 'data' } });
    assert.equal(viaEnv.dataDir, join(cwd, 'data'));
    assert.equal(viaEnv.config.dataDir, join(cwd, 'data'));
    assert.equal(viaEnv.config.log.file, join(etc, 'logs/fluxgate.log'));
    assert.equal(loadConfig({ configFile: relativeConfig, dataDir: './d', cwd, env: {} }).dataDir, join(cwd, 'd'));
  });

  test('without a config file, the embedded defaults are relative to the working directory', () => {
    const loaded = loadConfig({ cwd, env: {} });
    assert.equal(loaded.file, undefined);
    assert.equal(loaded.dataDir, join(cwd, 'var'));
    assert.equal(loaded.config.log.file, undefined);
  });
});
