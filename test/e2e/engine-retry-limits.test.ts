import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

/** The echo flux with 2 attempts: fewer than the engine's default (5), so a file given the default shows. */
const ECHO_WORKFLOW = `flux: echo
match: { profile: exchange, directory: in/echo }
naming: { extensions: [csv] }
steps: [receipt, check-name, handler, report, archive]
on-error: [report, quarantine]
retry: { attempts: 2, baseDelayMs: 100, maxDelayMs: 200 }
`;

/**
 * Every way a file gets its queue job gives it its workflow's `retry.attempts`: intake (upload),
 * replay (`fluxgate replay`, the API's) and start-up recovery (a live file whose job was lost).
 * Replay and recovery used to give the engine's default instead (engine.retry.attempts, 5).
 */
describe('a file gets its workflow\'s attempts however it is queued', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const config = { pgp: { signReports: false }, workflowsDir: 'workflows', engine: { retry: { attempts: 5 } } };
  const server = new TestServer({ config });
  let restarted: TestServer | undefined;
  const local = join(server.dir, 'client');
  let key: TestKey;
  let probe: JournalProbe;

  before(async () => {
    mkdirSync(local);
    mkdirSync(join(server.dir, 'workflows'));
    writeFileSync(join(server.dir, 'workflows', 'echo.yaml'), ECHO_WORKFLOW);
    key = await createAccount(server, 'acme');
    mkdirSync(join(server.dataDir, 'sftp', 'acme', 'in', 'echo'));
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await restarted?.cleanup();
    await server.cleanup();
  });

  async function upload(name: string, content: string): Promise<void> {
    writeFileSync(join(local, name), content);
    const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${join(local, name)} in/echo/`]);
    assert.equal(r.code, 0, r.stderr);
  }

  /** The `of` of each attempt since the file's last replay (or since it arrived). */
  async function attemptLimits(id: string): Promise<unknown[]> {
    const events = (await probe.events(id));
    const since = events.map((e) => e.type).lastIndexOf('replay');
    return events.slice(since + 1).filter((e) => e.type === 'attempt').map((e) => e.detail.of);
  }

  async function dead(id: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const file = (await probe.get(id))!;
      if (file.state === 'dead') return file;
      assert.ok(Date.now() < deadline, `not dead in ${timeoutMs} ms: ${file.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('uploaded, then replayed by the CLI and by the API: dead after 2 attempts each time', async () => {
    const name = 'ndmat_acme_acme_echo_261120110000.csv';
    await upload(name, '#fail\n');
    const first = await probe.finished(name);
    assert.equal(first.state, 'dead', JSON.stringify(first.outcome));
    assert.equal(first.attempts, 2);
    assert.deepEqual((await attemptLimits(first.id)), [2, 2]);

    const r = await server.cli('replay', first.id, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { state: string }).state, 'received');
    const again = await dead(first.id);
    assert.equal(again.attempts, 2, 'a replayed file gets its workflow\'s attempts, not the engine default');
    assert.deepEqual((await attemptLimits(first.id)), [2, 2]);

    // The operator API's replay is the same one.
    const token = await server.cli('token', 'create', '--name', 'ops', '--role', 'admin', '--json');
    assert.equal(token.code, 0, token.stderr);
    const res = await fetch(`${server.httpUrl}/api/v1/files/${first.id}/replay`, {
      method: 'POST', headers: { authorization: `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}` },
    });
    assert.equal(res.status, 202, await res.text());
    assert.equal((await probe.events(first.id)).filter((e) => e.type === 'replay').length, 2);
    const third = await dead(first.id);
    assert.equal(third.attempts, 2);
    assert.deepEqual((await attemptLimits(first.id)), [2, 2]);
  });

  test('a live file whose job was lost is queued again at start-up with its workflow\'s attempts', async () => {
    const name = 'ndmat_acme_acme_echo_261120110100.csv';
    await upload(name, '#sleep 1500\n#fail\n');
    const deadline = Date.now() + 15_000;
    let id: string | undefined;
    while (!id) {
      assert.ok(Date.now() < deadline, 'the first attempt did not start');
      const [f] = (await probe.byName(name));
      if (f?.state === 'processing') id = f.id;
      else await new Promise((r) => setTimeout(r, 20));
    }
    await server.kill();
    assert.equal(await (await server.store()).run('DELETE FROM queue WHERE dedup_key = ?', [id]), 1, 'the file had its job');
    restarted = await new TestServer({ dir: server.dir, config }).start();
    const file = await dead(id, 30_000);
    assert.equal(file.attempts, 2, 'a requeued file gets its workflow\'s attempts, not the engine default');
    assert.deepEqual((await attemptLimits(id)), [2, 2, 2], 'the interrupted attempt, then the two of its new job');
  });
});
