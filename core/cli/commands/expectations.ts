import type { Command } from 'commander';
import { appendToList, editConfigFile, removeFromList } from '../../config/edit';
import { parseAsOf } from '../../cron/as-of';
import { FluxgateError } from '../../errors';
import { acknowledgeExpectation, ExpectationClock, findExpectation, statusOf } from '../../notify/expectations';
import { expectationStatusView } from '../../notify/views';
import { table } from '../../text-table';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString());

export const registerExpectationCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const expectations = program.command('expectations')
    .description('expected files (expectations: in the config): late, missed, recovered (docs/events.md)');

  const statusAction = async (opts: { at?: string; json?: boolean }): Promise<void> => {
    const at = opts.at === undefined ? Date.now() : parseAsOf(opts.at);
    const repo = ctx.store.expectations;
    const list = await Promise.all(ctx.config.config.expectations.map((spec) => statusOf(repo, spec, at)));
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
    .action(async (name: string, opts: { by?: string; at?: string; json?: boolean }) => {
      const at = opts.at === undefined ? Date.now() : parseAsOf(opts.at);
      const by = opts.by ?? process.env.USER ?? 'operator';
      const status = await acknowledgeExpectation(ctx.store.expectations, ctx.config.config.expectations, name, by, at);
      if (opts.json) return ctx.printJson(expectationStatusView(status));
      ctx.print(`${status.spec.name}: period ending ${iso(status.period.deadline)} (${status.state}) acknowledged by ${by}`);
    });

  const restartNote = 'the server reads expectations when it starts: restart it for the change to take effect';

  expectations.command('add')
    .description('add an expectation to the config file (comments kept; refused if the file would be invalid)')
    .argument('<name>', 'its name (letters, digits, ".", "_", "-")')
    .requiredOption('--account <id>', 'the account expected to send')
    .option('--flux <flux>', 'the flux whose files meet it')
    .option('--name-pattern <glob>', 'a glob on the file name (* and ?), instead of or beside --flux')
    .requiredOption('--schedule <cron>', 'cron expression: each tick is a deadline (e.g. "0 7 * * 1-5")')
    .option('--timezone <tz>', 'IANA time zone of the schedule (default UTC)')
    .option('--grace <duration>', 'after the deadline, until missed (e.g. 2h, 30m; default 0)')
    .option('--json', JSON_HELP)
    .action((name: string, opts: { account: string; flux?: string; namePattern?: string; schedule: string; timezone?: string; grace?: string; json?: boolean }) => {
      const file = ctx.config.file;
      if (ctx.config.config.expectations.some((e) => e.name === name)) {
        throw new FluxgateError('FG_EXPECTATION_EXISTS', `an expectation named "${name}" is already in ${file ?? 'the config'}: remove it first (fluxgate expectations remove ${name})`, { expectation: name });
      }
      const entry: Record<string, unknown> = { name, account: opts.account };
      if (opts.flux !== undefined) entry.flux = opts.flux;
      if (opts.namePattern !== undefined) entry.namePattern = opts.namePattern;
      entry.schedule = opts.schedule;
      if (opts.timezone !== undefined) entry.timezone = opts.timezone;
      if (opts.grace !== undefined) entry.grace = opts.grace;
      editConfigFile(file, 'expectations', (doc) => appendToList(doc, 'expectations', entry));
      if (opts.json) return ctx.printJson({ added: entry, file, note: restartNote });
      ctx.print(`added ${name} to ${file}; ${restartNote}`);
    });

  expectations.command('remove')
    .description('remove an expectation from the config file (its recorded periods and events stay)')
    .argument('<name>', 'the expectation')
    .option('--json', JSON_HELP)
    .action((name: string, opts: { json?: boolean }) => {
      const file = ctx.config.file;
      findExpectation(ctx.config.config.expectations, name);
      editConfigFile(file, 'expectations', (doc) => { removeFromList(doc, 'expectations', (e) => e.name === name); });
      if (opts.json) return ctx.printJson({ removed: name, file, note: restartNote });
      ctx.print(`removed ${name} from ${file}; ${restartNote}`);
    });
};
