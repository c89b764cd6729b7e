import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { DataPaths } from '../../core/config/paths';
import { LiveLogins, type LiveLogin } from '../../core/sftp/live-logins';
import { openDatabase, type Database } from '../../core/store/database';
import type { AccountRepository } from '../../core/store/ports/accounts';
import { SqliteStore } from '../../core/store/sqlite-store';
import { accountServiceOn } from '../helpers/accounts';
import { makeKey } from '../helpers/keys';
import { loadedConfigFor } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';

/**
 * core/sftp/live-logins.ts: every SFTP request re-checks its login against the store's change
 * stamp, read once for all the checks asked for in one event-loop turn. A busy socket is read up
 * to 32 times in one turn, each read its own callback (and microtask checkpoint): the checks of
 * those callbacks share one read. Real LiveLogins on a real SQLite store; the repository is only
 * wrapped to count its stamp reads.
 */
describe('sftp: the login re-check reads the change stamp once per event-loop turn', { skip: skipUnless('ssh-keygen') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-login-stamp-'));
  const paths = new DataPaths(join(dir, 'var'));
  let db: Database;
  let stampReads = 0;
  let logins: LiveLogins;
  let login: LiveLogin;
  const ended: string[] = [];

  before(async () => {
    mkdirSync(paths.root, { recursive: true });
    db = openDatabase(paths.database);
    const store = new SqliteStore(db);
    const { account, key } = await accountServiceOn(db, paths, loadedConfigFor(paths.root).config)
      .create({ id: 'acme', partner: 'acme', publicKey: makeKey().publicKey });
    const counted = new Proxy(store.accounts, {
      get(target, prop, receiver) {
        if (prop === 'changeStamp') return () => { stampReads++; return target.changeStamp(); };
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as AccountRepository;
    logins = new LiveLogins(counted, pino({ level: 'silent' }));
    login = {
      grant: { accountId: 'acme', accountCreatedAt: account.createdAt, address: '127.0.0.1', method: 'publickey', fingerprint: key!.fingerprint, keyId: key!.id },
      end: (reason) => { ended.push(reason); },
    };
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Checks asked for from `callbacks` separate callbacks of one turn (like one poll phase's socket reads). */
  async function checksFromCallbacksOfOneTurn(callbacks: number): Promise<void> {
    const checks = await new Promise<Array<Promise<void>>>((resolve) => {
      const asked: Array<Promise<void>> = [];
      for (let i = 0; i < callbacks; i++) {
        setImmediate(() => {
          asked.push(logins.check(login), logins.check(login));
          if (asked.length === callbacks * 2) resolve(asked);
        });
      }
    });
    await Promise.all(checks);
  }

  test('checks from 8 callbacks of one turn: one stamp read, and the login holds', async () => {
    await checksFromCallbacksOfOneTurn(1);
    stampReads = 0;
    await checksFromCallbacksOfOneTurn(8);
    assert.equal(stampReads, 1, `${stampReads} stamp reads for the 16 checks of one turn`);
    assert.deepEqual(ended, []);
  });

  test('a commit before the checks are asked for is seen by them: the disabled account is refused', async () => {
    await checksFromCallbacksOfOneTurn(1);
    assert.equal(await new SqliteStore(db).accounts.setEnabled('acme', false, 'test'), true);
    stampReads = 0;
    await assert.rejects(checksFromCallbacksOfOneTurn(3), { code: 'FG_PERMISSION_DENIED', message: /account disabled/ });
    assert.equal(stampReads, 1);
    await new Promise((resolve) => setImmediate(resolve));
    // Ended (LiveLogin.end acts once: each refused check asks for it).
    assert.deepEqual([...new Set(ended)], ['account disabled']);
  });
});
