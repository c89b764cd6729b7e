import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT } from '../helpers/clients';
import { parseJson } from '../helpers/json';
import { makeKey, type TestKey } from '../helpers/keys';
import { PYTHON, skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// Issue #17, item 10: once `account disable` or `key remove` has returned, no request of the
// account's open sessions succeeds: not the CLOSE of an upload (which would publish it), not a
// READ on a handle opened before. The timer re-check is an hour away here: only the check made
// at each request can stop them. And intake refuses a file of a disabled account, however it arrived.
const skip = skipUnless('ssh-keygen', 'paramiko');
let server: TestServer;
const keys: Record<string, TestKey> = {};
const UPLOAD = 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv';
const CONTENT = 'registration_reference;lastname\r\n1;Doe\r\n';
const tree = (account: string, ...p: string[]): string => join(server.dataDir, 'sftp', account, ...p);

/**
 * A paramiko session that opens an upload (written, not closed) and a download (read once),
 * says `ready`, waits for a line on stdin, then tries a READ, a WRITE and the upload's CLOSE
 * (sent raw: paramiko's close ignores a refusal) and prints each outcome.
 */
const HELD_OPEN = `${PARAMIKO_CONNECT}
from paramiko.sftp import CMD_CLOSE
up = sftp.open('/in/sal/${UPLOAD}', 'wb')
up.write(b'${CONTENT.replace(/\r\n/g, '\\r\\n')}')
up.flush()
down = sftp.open('/out/sal/report.csv', 'rb')
down.read(4)
print('ready', flush=True)
sys.stdin.readline()
def attempt(label, fn):
    try:
        fn()
        print(label, 'OK', flush=True)
    except Exception as e:
        print(label, 'REFUSED', type(e).__name__, str(e), flush=True)
attempt('read', lambda: (down.seek(0), down.read(4)))
attempt('write', lambda: (up.write(b'more'), up.flush()))
up._closed = True
attempt('close', lambda: sftp._request(CMD_CLOSE, up.handle))
`;

/** Runs HELD_OPEN as `account`; `revoke` runs once both handles are open; returns the outcomes. */
async function revokeWhileOpen(account: string, revoke: () => Promise<void>): Promise<string> {
  const child = spawn(PYTHON, ['-c', HELD_OPEN, String(server.port), account, keys[account].privatePath]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await until(`the ${account} session has its handles open`, () => stdout.includes('ready') || child.exitCode !== null, 20_000);
    assert.match(stdout, /^ready$/m, stderr);
    await revoke();
    child.stdin.end('go\n');
    await exited;
  } finally {
    child.kill();
  }
  return stdout + stderr;
}

before(async () => {
  if (skip) return;
  server = await new TestServer({ config: { sftp: { sessionRecheckSeconds: 3600 } } }).start();
  for (const id of ['acme', 'globex', 'initech']) {
    keys[id] = makeKey('ed25519');
    const add = await server.cli('account', 'add', id, '--key', keys[id].publicPath);
    assert.equal(add.code, 0, add.stderr);
    writeFileSync(tree(id, 'out', 'sal', 'report.csv'), 'a report\n');
  }
});

after(async () => { await server?.stop(); await server?.cleanup(); });

for (const [account, what, revoke] of [
  ['acme', 'account disable', () => server.cli('account', 'disable', 'acme')],
  ['globex', 'key remove', () => server.cli('key', 'remove', 'globex', keys.globex.fingerprint)],
] as const) {
  test(`once \`${what}\` has returned, an open session's READ, WRITE and CLOSE fail, and the upload is never published`, { skip }, async () => {
    const out = await revokeWhileOpen(account, async () => {
      const r = await revoke();
      assert.equal(r.code, 0, r.stderr);
    });
    assert.match(out, /^read REFUSED .*this session has ended/m, out);
    assert.doesNotMatch(out, /^write OK/m, out);
    assert.match(out, /^close REFUSED /m, out);
    // The session ends (the upload is abandoned: its temporary file deleted), nothing was published.
    await until('the abandoned upload is cleaned up', () => readdirSync(tree(account, 'in', 'sal')).length === 0);
    const files = await server.cli('files', '--account', account, '--json');
    assert.deepEqual(JSON.parse(files.stdout), [], 'nothing received');
    await server.waitForLog((l) => l.msg === 'login revoked, disconnecting' && l.accountId === account);
    assert.equal(server.logs.filter((l) => l.msg === 'upload complete' && l.accountId === account).length, 0);
  });
}

test('intake refuses a file of a disabled account that arrived by other means: journaled rejected (FG_ACCOUNT_DISABLED), kept in quarantine', { skip }, async () => {
  const r = await server.cli('account', 'disable', 'initech');
  assert.equal(r.code, 0, r.stderr);
  // As a co-located server would: written aside, then renamed into place.
  const name = 'ndmat_initech_initech_sal_hrmanager_v6_261120090700.csv';
  const aside = join(server.dir, 'aside');
  mkdirSync(aside, { recursive: true });
  writeFileSync(join(aside, name), CONTENT);
  renameSync(join(aside, name), tree('initech', 'in', 'sal', name));

  await until('intake refuses the file', () => !existsSync(tree('initech', 'in', 'sal', name)), 20_000);
  const files = await server.cli('files', '--account', 'initech', '--json');
  const [file] = parseJson<Array<Record<string, unknown>>>(files.stdout);
  assert.equal(file?.state, 'rejected', JSON.stringify(file));
  const outcome = file.outcome as { code: string; summary: string };
  assert.equal(outcome.code, 'FG_ACCOUNT_DISABLED');
  assert.match(outcome.summary, /account "initech" is disabled \(disabled by an operator\): the file was not processed and is kept in quarantine; .*fluxgate replay/);
  assert.equal(file.location, join(server.dataDir, 'quarantine', 'initech', 'sal', `${String(file.id)}_${name}`));
  assert.ok(existsSync(String(file.location)));
  assert.equal(file.receipt, null, 'no proof of receipt for a disabled account');
  await server.waitForLog((l) => l.msg === 'file refused: ' + outcome.summary && l.code === 'FG_ACCOUNT_DISABLED');
});
