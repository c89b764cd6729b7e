import type { FluxCounts } from '../../plugin-api/outcome';
import type { ReportMessage } from '../../plugin-api/report';
import { reportName } from '../naming';
import { inLineOrder, renderReport } from '../report-csv';
import { defineStep, type StepRun } from '../step';

/** Timeline copies of the messages stop here; the report file has them all. */
const JOURNAL_MESSAGES = 200;
/** How the summary of a file that applied nothing (a test file in production) begins. */
export const TEST_RUN_SUMMARY = 'TEST RUN, NOTHING APPLIED (version tst, production): the counts are what applying the file would have done';

/**
 * Writes the processing report to out/<flux>/ (exchange accounts). Drop-box accounts have no
 * out/: their report lives in the journal only (`fluxgate files show`).
 */
export const reportStep = defineStep({
  name: 'report',
  description: 'Write the processing report (out/<flux>/cdmat_….csv); drop-box accounts: journal only',
  async run(run) {
    const counts: FluxCounts = { ...run.report.counts, ...definedCounts(run) };
    const messages: ReportMessage[] = [...run.report.messages];
    if (run.error) {
      messages.push({ severity: 'error', code: run.error.code, field: partField(run), message: run.error.message });
    }
    const result = run.error ? run.result : (run.outcome?.result ?? 'processed');
    let summary = run.error ? run.error.message : run.outcome?.summary;
    const applied = !run.report.testRun;
    if (!applied) {
      if (!summary?.startsWith(TEST_RUN_SUMMARY)) summary = summary ? `${TEST_RUN_SUMMARY}. ${summary}` : TEST_RUN_SUMMARY;
      // The journal's outcome (`fluxgate files`), recorded from run.outcome after the steps, says it too.
      if (!run.error && run.outcome) run.outcome = { ...run.outcome, summary };
    }
    await run.event('report', { result, ...(applied ? {} : { applied }), counts, summary, messages: journalCopy(messages), messageCount: messages.length });
    if (run.account.profile !== 'exchange') return;
    const relative = `${run.workflow.report.directory}/${reportName(run.file.name)}`;
    // A replay or retry rewrites the report it wrote before (which may be `name.N.csv`, its name
    // being taken by another file's report then); writeOutput never replaces another file's.
    const root = run.paths.accountRoot(run.account.id);
    const previous = run.file.reportPath?.startsWith(`${root}/`) ? run.file.reportPath.slice(root.length + 1) : undefined;
    const path = await run.writeOutput('report', previous ?? relative, renderReport({
      fileName: run.file.name, receivedAt: new Date(run.file.receivedAt), counts, result, summary, messages, dropped: run.report.dropped,
      ...(applied ? {} : { applied }),
    }));
    run.file = await run.journal.update(run.file.id, { reportPath: path, reportWrittenAt: Date.now() }) ?? run.file;
  },
});

/**
 * The messages the journal keeps (`fluxgate files show`, and the only report of drop-box
 * accounts): errors and warnings before info lines when there are more than it keeps, then in
 * line order, as the report file.
 */
function journalCopy(messages: readonly ReportMessage[]): ReportMessage[] {
  const problems = messages.filter((m) => m.severity !== 'info');
  const infos = messages.filter((m) => m.severity === 'info');
  return inLineOrder([...problems, ...infos].slice(0, JOURNAL_MESSAGES));
}

function definedCounts(run: StepRun): Partial<FluxCounts> {
  const out: Partial<FluxCounts> = {};
  for (const [k, v] of Object.entries(run.outcome?.counts ?? {})) if (typeof v === 'number') out[k as keyof FluxCounts] = v;
  return out;
}

/** FG_NAME_CONVENTION carries which part of the name is wrong: show it in the field column. */
function partField(run: StepRun): string | undefined {
  const part = run.error?.details.part;
  return typeof part === 'string' ? `name.${part}` : undefined;
}
