// A node:test reporter for test/run.mjs's PostgreSQL pass: counts each test file's tests (not its
// suites) that passed, failed and were skipped, with the skips' reasons, and writes them as one
// JSON object when the run ends, so that run.mjs can print the pass's counts and refuse, under
// CI=true, a suite the pass ran none of.
export default async function* tally(source) {
  const files = {};
  const of = (file) => (files[file ?? '?'] ??= { pass: 0, fail: 0, skip: 0, skipped: [] });
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') continue;
    const counts = of(data.file);
    if (data.skip !== undefined && data.skip !== false) {
      counts.skip++;
      counts.skipped.push({ name: data.name, reason: typeof data.skip === 'string' ? data.skip : '' });
    } else if (event.type === 'test:pass') counts.pass++;
    else counts.fail++;
  }
  yield `${JSON.stringify(files)}\n`;
}
