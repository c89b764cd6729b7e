import type { Command } from 'commander';
import { parseAsOf } from '../../cron/as-of';
import { acknowledgeExpectation, ExpectationClock, statusOf } from '../../notify/expectations';
import { expectationStatusView } from '../../notify/views';
import { ExpectationRepository } from '../../store/expectations-repository';
import { table } from '../../text-table';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString());

export const registerExpectationCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const expectations = program.command('expectations')
    .description('expected files (expectations: in the config): late, missed, recovered (docs/events.md)');

  const statusAction = (opts: { at?: string; json?: boolean }): void => {
    const at = opts.at === undefined ? Date.now() : parseAsOf(opts.at);
    const repo = new ExpectationRepository(ctx.db);
    const list = ctx.config.config.expectations.map((spec) => statusOf(repo, spec, at));
    if (opts.json) return ctx.printJson(list.map(expectationStatusView));
    if (list.length === 0) return ctx.print('no expectations configured (expectations: in the config file)');
    const rows = list.map((s) => [s.spec.name, s.spec.account, s.spec.flux ?? s.spec.namePattern ?? '', s.state,
      iso(s.period.start) ?? '-', iso(s.period.deadline) ?? '-', s.file?.name ?? '-', s.record?.acknowledgedAt ? 'yes' : '-']);
    for (const line of table(['NAME', 'ACCOUNT', 'FLUX', 'STATE', 'PERIOD START', 'DEADLINE', 'FILE', 'ACK'], rows)) ctx.print(line);
  };

  expectations.command('status')
    .description('each expectation\'s current period and state: pending, met, late, missed or recovered')
    .option('--at <date>', 'as if it were this date (ISO 8601, or +Nd / -Nd from now)')
    .option('--json', JSON_HELP)
    .action(statusAction);

  expectations.command('list')
    .description('the configured expectations and their next deadline')
    .option('--json', JSON_HELP)
    .action((opts: { json?: boolean }) => {
      const list = ctx.config.config.expectations.map((spec) => ({ ...spec, nextDeadline: iso(new ExpectationClock(spec).open(Date.now())?.deadline) }));
      if (opts.json) return ctx.printJson(list);
      if (list.length === 0) return ctx.print('no expectations configured (expectations: in the config file)');
      const rows = list.map((e) => [e.name, e.account, e.flux ?? '-', e.namePattern ?? '-', e.schedule, e.timezone, String(e.grace), e.nextDeadline ?? '-']);
      for (const line of table(['NAME', 'ACCOUNT', 'FLUX', 'NAME PATTERN', 'SCHEDULE', 'TIMEZONE', 'GRACE', 'NEXT DEADLINE'], rows)) ctx.print(line);
    });

  expectations.command('ack')
    .description('acknowledge the late or missed period that `expectations status` shows (who and when are kept)')
    .argument('<name>', 'the expectation')
    .option('--by <who>', 'who acknowledges (default: $USER)')
    .option('--at <date>', 'the period current at this date (default: now)')
    .option('--json', JSON_HELP)
    .action((name: string, opts: { by?: string; at?: string; json?: boolean }) => {
      const at = opts.at === undefined ? Date.now() : parseAsOf(opts.at);
      const by = opts.by ?? process.env.USER ?? 'operator';
      const status = acknowledgeExpectation(new ExpectationRepository(ctx.db), ctx.config.config.expectations, name, by, at);
      if (opts.json) return ctx.printJson(expectationStatusView(status));
      ctx.print(`${status.spec.name}: period ending ${iso(status.period.deadline)} (${status.state}) acknowledged by ${by}`);
    });
};
