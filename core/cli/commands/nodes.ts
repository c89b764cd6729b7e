import type { Command } from 'commander';
import { HEARTBEAT_MS } from '../../cluster/node-heartbeat';
import type { NodeRow } from '../../store/ports/nodes';
import { table } from '../../text-table';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

/** A node whose last beat is older than this has died or hangs (3 missed beats). */
const SILENT_AFTER_MS = 3 * HEARTBEAT_MS;

type NodeState = 'alive' | 'stopped' | 'silent';

function stateOf(node: NodeRow, now: number): NodeState {
  if (node.stoppedAt !== null) return 'stopped';
  return now - node.heartbeatAt > SILENT_AFTER_MS ? 'silent' : 'alive';
}

const iso = (t: number): string => new Date(t).toISOString();

export const registerNodesCommand: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('nodes')
    .description(`the nodes running on this store: id (cluster.nodeId), SFTP address, start, last heartbeat (every ${HEARTBEAT_MS / 1000} s), files in progress`)
    .option('--all', `also the nodes that stopped, and those silent for more than ${SILENT_AFTER_MS / 1000} s (died or hung)`)
    .option('--json', JSON_HELP)
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const now = Date.now();
      const nodes = (await ctx.store.nodes.list())
        .map((n) => ({ id: n.id, address: n.address, host: n.host, pid: n.pid, state: stateOf(n, now), startedAt: iso(n.startedAt), lastHeartbeat: iso(n.heartbeatAt), filesInProgress: n.filesInProgress }))
        .filter((n) => opts.all || n.state === 'alive');
      if (opts.json) return ctx.printJson(nodes);
      const rows = nodes.map((n) => [n.id, n.address, n.state, n.startedAt, n.lastHeartbeat, String(n.filesInProgress)]);
      for (const line of table(['ID', 'ADDRESS', 'STATE', 'STARTED', 'LAST HEARTBEAT', 'FILES IN PROGRESS'], rows)) ctx.print(line);
      ctx.print(`${nodes.length} node(s)${opts.all ? '' : ' alive'}`);
    });
};
