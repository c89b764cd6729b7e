import { userInfo } from 'node:os';
import type { CliContext } from './context';

/** Changes made by operator commands are audited as well: who ran them is the system user. */
export async function auditCli(ctx: CliContext, action: string, target: string, detail: Record<string, unknown> = {}): Promise<void> {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry (containers) */ }
  await ctx.store.audit.record({ actor: `cli:${user}`, role: 'admin', action, target, address: null, status: null, code: null, detail });
}
