import { Argument, type Command } from 'commander';
import { parseAsOf } from '../../cron/as-of';
import { buildJobs, type Jobs } from '../../composition/jobs';
import { JOB_NAMES } from '../../cron/job';
import { jobHistory, jobList, reportJson } from '../../cron/views';
import type { RunReport } from '../../cron/runner';
import { cliLogger } from '../../logging/logger';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';
import { table as textTable } from '../../text-table';

function jobsOf(ctx: CliContext): Jobs {
  return buildJobs({ config: ctx.config.config, paths: ctx.paths, store: ctx.store, logger: cliLogger(ctx.config.config.log, ctx.logOverrides) });
}

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());
const countsText = (counts: Record<string, number>): string =>
  Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ') || '-';

/** A job name is a bad argument (usage, exit 2) unless it is one of the jobs. */
const jobArgument = (): Argument => new Argument('<job>', 'the job').choices(JOB_NAMES);

export const registerJobCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const jobs = program.command('jobs').description('scheduled jobs: retention, account inactivity, key expiry, expectations, housekeeping');

  jobs.command('list')
    .description('each job with its schedule, next run, last run and outcome')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const rows = await jobList(jobsOf(ctx), ctx.config.config);
      if (opts.json) return ctx.printJson(rows);
      const table = [['JOB', 'SCHEDULE', 'TIMEZONE', 'ENABLED', 'NEXT RUN', 'LAST RUN', 'OUTCOME', 'COUNTS']];
      for (const r of rows) {
        table.push([r.job, r.schedule, r.timezone, r.enabled ? 'yes' : 'no', r.nextRun ?? '-', r.lastRun?.startedAt ?? 'never',
          r.lastRun?.outcome ?? '-', r.lastRun ? countsText(r.lastRun.counts) : '-']);
      }
      for (const line of textTable(table[0], table.slice(1))) ctx.print(line);
    });

  jobs.command('run')
    .description(`run a job now (${JOB_NAMES.join(', ')})`)
    .addArgument(jobArgument())
    .option('--dry-run', 'print what would happen and change nothing')
    .option('--at <date>', 'evaluate the rules as if it were this date (ISO 8601, or +Nd / -Nd from now)')
    .option('--json', JSON_HELP)
    .action(async (name: string, opts: { dryRun?: boolean; at?: string; json?: boolean }) => {
      const asOf = opts.at === undefined ? undefined : parseAsOf(opts.at);
      const { runner } = jobsOf(ctx);
      const report = await runner.run(name, { asOf, dryRun: opts.dryRun ?? false, trigger: 'manual', collectActions: true });
      if (opts.json) ctx.printJson(reportJson(report));
      else printReport(ctx, report);
      if (report.outcome !== 'ok') process.exitCode = 1;
    });

  jobs.command('history')
    .description('recorded runs of a job, most recent first: start, end, as-of date, the schedule it ran for (or by hand) and the host, outcome, counts')
    .addArgument(jobArgument())
    .option('--limit <n>', 'at most this many runs (default 20)', (v) => Number.parseInt(v, 10))
    .option('--json', JSON_HELP)
    .action(async (name: string, opts: { limit?: number; json?: boolean }) => {
      const list = await jobHistory(jobsOf(ctx), name, opts.limit && opts.limit > 0 ? opts.limit : 20);
      if (opts.json) return ctx.printJson(list);
      if (list.length === 0) return ctx.print(`${name} has never run`);
      for (const r of list) {
        const how = r.slot ? `scheduled ${r.slot}` : 'by hand';
        ctx.print(`run ${r.id}  ${r.startedAt} → ${r.endedAt ?? '…'}  as of ${r.asOf}  ${how}${r.host ? ` on ${r.host}` : ''}  ${r.outcome}  ${countsText(r.counts)}${r.error ? `  (${r.error})` : ''}`);
      }
    });

  jobs.command('tombstones')
    .description('what retention and purges deleted: name, hash, size, when, which rule')
    .option('--account <id>', 'only this account')
    .option('--file <id>', 'only this journal file id')
    .option('--name <text>', 'file names containing this text')
    .option('--limit <n>', 'at most this many (most recent)', (v) => Number.parseInt(v, 10))
    .option('--json', JSON_HELP)
    .action(async (opts: { account?: string; file?: string; name?: string; limit?: number; json?: boolean }) => {
      const { tombstones } = jobsOf(ctx);
      let list = await tombstones.list({ accountId: opts.account, fileId: opts.file, name: opts.name });
      if (opts.limit && opts.limit > 0) list = list.slice(-opts.limit);
      if (opts.json) {
        return ctx.printJson(list.map((t) => ({ ...t, deletedAt: iso(t.deletedAt), asOf: iso(t.asOf) })));
      }
      if (list.length === 0) return ctx.print('no tombstones');
      for (const t of list) {
        ctx.print(`${iso(t.deletedAt)}  ${t.accountId}  ${t.rule}  ${t.name}  ${t.size ?? '?'} bytes  sha256:${t.sha256 ?? '?'}${t.fileId ? `  file ${t.fileId}` : ''}${t.state === 'pending' ? '  (pending)' : ''}`);
        ctx.print(`    ${t.path}`);
      }
    });
};

function printReport(ctx: CliContext, r: RunReport): void {
  ctx.print(`${r.job} as of ${iso(r.asOf)}${r.dryRun ? ' (dry run: nothing changed)' : ''}`);
  for (const a of r.actions) {
    const verb = r.dryRun ? `would ${a.action}` : a.action;
    // Deletions say enough with their rule; other actions show their detail (expiry, files a purge deletes…).
    const detail = a.action === 'delete' || !a.detail ? [] : Object.entries(a.detail).map(([k, v]) => `${k} ${String(v)}`);
    const extra = [a.account && a.account !== a.target && `account ${a.account}`, a.rule && `rule ${a.rule}`,
      a.since !== undefined && `since ${iso(a.since)}`, ...detail].filter(Boolean).join(', ');
    ctx.print(`  ${verb} ${a.target}${extra ? `  (${extra})` : ''}`);
  }
  for (const e of r.errors) ctx.print(`  FAILED ${e.target}: ${e.message} [${e.code}]`);
  ctx.print(`${r.outcome}${r.runId !== null ? ` (run ${r.runId})` : ''}: ${countsText(r.counts)}`);
}
