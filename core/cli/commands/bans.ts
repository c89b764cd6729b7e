import { isIP } from 'node:net';
import type { Command } from 'commander';
import { FluxgateError } from '../../errors';
import { BAN_REFRESH_MS } from '../../sftp/shared-bans';
import type { Ban } from '../../store/ports/bans';
import { table } from '../../text-table';
import { auditCli } from '../audit';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

const banView = (b: Ban) => ({
  address: b.address, until: new Date(b.until).toISOString(), bannedAt: new Date(b.bannedAt).toISOString(), user: b.user, node: b.nodeId,
});

/** The form the SFTP server records (canonicalAddress): IPv4-mapped IPv6 as IPv4, IPv6 in lower case and compressed. */
function bannedAddress(raw: string): string {
  const family = isIP(raw);
  if (family === 0) throw new FluxgateError('FG_USAGE', `"${raw}" is not an IPv4 or IPv6 address (e.g. 203.0.113.7): give the address \`fluxgate bans\` lists`);
  if (family === 4) return raw;
  // The URL parser writes IPv6 as Node's sockets do (RFC 5952), and an IPv4-mapped one in hex.
  const ipv6 = new URL(`http://[${raw}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (!mapped) return ipv6;
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export const registerBansCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const bans = program.command('bans')
    .description('the SFTP brute-force bans in force, on every node (sftp.bruteForce): address, end, last user name tried, node that banned it')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const active = (await ctx.store.bans.active()).map(banView);
      if (opts.json) return ctx.printJson(active);
      const rows = active.map((b) => [b.address, b.until, b.bannedAt, b.user || '-', b.node ?? '-']);
      for (const line of table(['ADDRESS', 'UNTIL', 'BANNED AT', 'LAST USER', 'NODE'], rows)) ctx.print(line);
      ctx.print(`${active.length} address(es) banned`);
    });

  bans.command('remove')
    .description(`lifts the ban of an address on every node (each running server sees it within ${BAN_REFRESH_MS / 1000} s); audited`)
    .argument('<address>')
    .option('--json', JSON_HELP)
    .action(async (raw: string, opts: { json?: boolean }) => {
      // `bans --json` is also an option of the parent: `bans remove X --json` may land there.
      const json = opts.json || bans.opts<{ json?: boolean }>().json;
      const address = bannedAddress(raw);
      const lifted = await ctx.store.bans.lift(address);
      if (!lifted) {
        throw new FluxgateError('FG_BAN_NOT_FOUND', `${address} is not banned (or its ban has ended): \`fluxgate bans\` lists the bans in force`, { address });
      }
      await auditCli(ctx, 'bans remove', address, { until: new Date(lifted.until).toISOString(), user: lifted.user, node: lifted.nodeId });
      if (json) return ctx.printJson({ removed: banView(lifted) });
      ctx.print(`ban of ${address} lifted (it ran until ${banView(lifted).until}); running servers let it in within ${BAN_REFRESH_MS / 1000} s`);
    });
};
