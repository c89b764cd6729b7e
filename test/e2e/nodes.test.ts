import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { parseJson } from '../helpers/json';
import { TestServer } from '../helpers/server';

// `fluxgate nodes`: a running server records itself in the nodes table and beats every 5 s;
// a clean stop marks it stopped; a killed one falls silent after 3 missed beats.
interface NodeJson { id: string; address: string; host: string; pid: number; state: string; startedAt: string; lastHeartbeat: string; filesInProgress: number }

const servers: TestServer[] = [];
after(async () => { for (const s of servers) await s.cleanup(); });

async function nodes(server: TestServer, ...args: string[]): Promise<NodeJson[]> {
  const r = await server.cli('nodes', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return parseJson<NodeJson[]>(r.stdout);
}

/** Polls `nodes` until `check` holds on its result. */
async function nodesUntil(server: TestServer, what: string, check: (list: NodeJson[]) => boolean, timeoutMs: number, ...args: string[]): Promise<NodeJson[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await nodes(server, ...args);
    if (check(list)) return list;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('a running server is listed alive with its id, address and beats; stopped once it stops', async () => {
  const server = new TestServer();
  servers.push(server);
  await server.start();
  const [node] = await nodesUntil(server, 'the server is listed', (l) => l.length === 1, 15_000);
  assert.deepEqual([node.id, node.address, node.host, node.pid, node.state, node.filesInProgress],
    [`${hostname()}:${server.port}`, `127.0.0.1:${server.port}`, hostname(), server.pid, 'alive', 0]);
  // The next beat moves the heartbeat past the start.
  const [beaten] = await nodesUntil(server, 'a heartbeat', (l) => l[0] && l[0].lastHeartbeat > l[0].startedAt, 15_000);
  assert.equal(beaten.startedAt, node.startedAt);
  const text = await server.cli('nodes');
  assert.match(text.stdout, /^ID\s+ADDRESS\s+STATE\s+STARTED\s+LAST HEARTBEAT\s+FILES IN PROGRESS$/m);
  assert.match(text.stdout, /^1 node\(s\) alive$/m);

  await server.stop();
  assert.deepEqual(await nodes(server), [], 'a stopped node is not alive');
  const [stopped] = await nodes(server, '--all');
  assert.deepEqual([stopped.id, stopped.state], [node.id, 'stopped']);
});

test('a killed server falls silent after three missed beats (15 s), under its configured nodeId', { timeout: 90_000 }, async () => {
  const server = new TestServer({ config: { cluster: { nodeId: 'sftp-a' } } });
  servers.push(server);
  await server.start();
  await nodesUntil(server, 'sftp-a is alive', (l) => l.some((n) => n.id === 'sftp-a' && n.state === 'alive'), 15_000);
  await server.kill();
  assert.equal((await nodes(server, '--all'))[0].state, 'alive', 'just killed: its last beat is recent');
  const [silent] = await nodesUntil(server, 'sftp-a falls silent', (l) => l[0]?.state === 'silent', 30_000, '--all');
  assert.equal(silent.id, 'sftp-a');
  assert.deepEqual(await nodes(server), []);
});
