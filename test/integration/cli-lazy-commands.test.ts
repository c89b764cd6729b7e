import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandName } from '../../core/cli/commands';
import { REPO_ROOT } from '../helpers/server';

const dir = mkdtempSync(join(tmpdir(), 'fg-cli-lazy-'));
const MAIN = join(REPO_ROOT, 'dist', 'core', 'cli', 'main.js');

/** Runs the built CLI in a process of its own and returns the modules it loaded, and its output. */
function run(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const script = `require(${JSON.stringify(MAIN)}).main(['node', 'fluxgate', ...${JSON.stringify(args)}]).then((code) => {
    process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n');
    process.exitCode = code;
  });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: dir });
  const marker = r.stderr.lastIndexOf('\nLOADED ');
  assert.ok(marker >= 0, `the CLI did not finish: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.slice(0, marker), loaded: JSON.parse(r.stderr.slice(marker + 8)) as string[] };
}

const loads = (loaded: string[], pkg: string): boolean => loaded.some((p) => p.includes(`/node_modules/${pkg}/`));

describe('CLI start-up: a command loads only its own module', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the command after the global options', () => {
    assert.equal(commandName(['--data-dir', 'x', '--config', 'y.yaml', 'files', '--json']), 'files');
    assert.equal(commandName(['--json', 'account', 'list']), 'account');
    assert.equal(commandName(['--help']), undefined);
    assert.equal(commandName(['--', 'files']), undefined);
  });

  it('`files` answers without loading the SSH server, PGP or the engine', () => {
    const r = run(['--data-dir', join(dir, 'var'), 'files', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
    for (const pkg of ['ssh2', 'openpgp', 'inversify', 'reflect-metadata', 'chokidar', 'fastify']) assert.equal(loads(r.loaded, pkg), false, `${pkg} was loaded for \`files\``);
    assert.equal(r.loaded.some((p) => p.endsWith('/commands/account.js')), false);
  });

  it('`--help` and an unknown command still list every command', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0, help.stderr);
    for (const name of ['serve', 'account', 'files', 'replay', 'workflows', 'admin', 'token', 'audit']) assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'));
    const unknown = run(['acount', 'list']);
    assert.equal(unknown.status, 2); // a usage error, as commander's others
    assert.match(unknown.stderr, /unknown command 'acount'/);
    assert.match(unknown.stderr, /Did you mean account\?/);
  });
});
