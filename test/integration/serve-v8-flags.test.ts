import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { TestServer } from '../helpers/server';

const commandLine = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('serve: the V8 flags it runs with', () => {
  const servers: TestServer[] = [];
  after(async () => { for (const s of servers) { await s.stop(); await s.cleanup(); } });

  it('`serve` restarts itself in place (same pid) with a 16 MiB semi-space limit; other commands do not', async () => {
    const server = new TestServer();
    servers.push(server);
    await server.start();
    const args = commandLine(server.pid!);
    assert.ok(args.includes('--max-semi-space-size=16'), `serve runs as: ${args.join(' ')}`);
    assert.equal(args.filter((a) => a.startsWith('--max-semi-space-size')).length, 1);
    assert.ok(args.includes('serve'));
  });

  it("an operator's own semi-space size (NODE_OPTIONS or node's command line) is left as it is", async () => {
    const server = new TestServer({ env: { NODE_OPTIONS: '--max-semi-space-size=8' } });
    servers.push(server);
    await server.start();
    assert.equal(commandLine(server.pid!).some((a) => a.startsWith('--max-semi-space-size')), false);
  });
});
