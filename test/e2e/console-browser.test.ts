import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';

/**
 * The console in headless Chromium against a real server: an admin logs in, creates an account
 * by pasting a key, a partner uploads with OpenSSH a file the workflow rejects, the admin finds
 * it, reads its report, fixes the workflow (inline validation first), replays the file and sees
 * it processed, adds a second key; a viewer (logged in with the keyboard) sees no change buttons
 * and is refused when it forges one.
 */
const skip = skipUnless('chromium', 'sftp', 'ssh-keygen');
const PASSWORD = 'a long enough password';
// An organizations file uploaded as .txt: the sir workflow accepts only .csv, until fixed.
const SIR_TXT = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.txt';

describe('console in a browser', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let key: TestKey;

  before(async () => {
    const dir = new TestServer().dir;
    cpSync(join(REPO_ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
    server = await new TestServer({ dir, config: { workflowsDir: join(dir, 'workflows') } }).start();
    for (const [name, role] of [['alice', 'admin'], ['victor', 'viewer']]) {
      const added = await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', name, '--role', role, '--password-stdin');
      assert.equal(added.code, 0, added.stderr);
    }
    key = makeKey('ed25519');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  async function logIn(page: Page, name: string): Promise<void> {
    await page.goto(`${server.httpUrl}/console/`);
    assert.match(page.url(), /\/console\/login\?next=/, 'a page load without a session goes to the login form');
    await page.getByLabel('Operator name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }

  /** Reloads `url` until `text` shows (the server works in the background). */
  async function reloadUntil(page: Page, url: string, text: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await page.goto(url);
      if (await page.getByText(text).count() > 0) return;
      if (Date.now() > deadline) assert.fail(`${url} never showed ${String(text)}`);
      await page.waitForTimeout(250);
    }
  }

  test('an admin creates an account, finds a rejected file, reads its report, fixes the workflow, replays the file, adds a key', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (dialog) => { void dialog.accept(); });
    await logIn(page, 'alice');

    // An account made by pasting its key.
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByLabel('Id', { exact: true }).fill('acme');
    await page.getByLabel(/Public keys/).fill(key.publicKey);
    await page.getByRole('button', { name: 'Add the account' }).click();
    await page.getByText('Account created.').waitFor();
    assert.ok(await page.getByText(key.fingerprint).isVisible(), 'the key is listed by its fingerprint');

    // A partner uploads a file the workflow rejects (.txt where the sir workflow wants .csv).
    const local = join(server.dir, SIR_TXT);
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'exchange', SIR_TXT.replace(/\.txt$/, '.csv')), local);
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sir/`]);
    assert.equal(put.code, 0, put.stderr);

    // Found from the files page, filtered by state.
    await reloadUntil(page, `${server.httpUrl}/console/files?state=rejected`, SIR_TXT);
    await page.getByRole('link', { name: 'Files', exact: true }).click();
    await page.getByLabel('State').selectOption('rejected');
    await page.getByLabel('Search').fill('sir_hrmanager');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: SIR_TXT }).click();
    await page.getByRole('heading', { name: `File ${SIR_TXT}` }).waitFor();
    // The report as a table: its summary and the message with its code.
    const report = page.getByRole('table', { name: 'Report messages' });
    assert.match(await report.innerText(), /FG_NAME_CONVENTION/);
    assert.match(await page.locator('dl.facts').nth(1).innerText(), /result\s+rejected/);

    // The workflow: a broken edit is flagged inline as it is typed, then the fix is saved.
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'sir', exact: true }).click();
    const editor = page.getByLabel('Source (YAML)');
    const source = await editor.inputValue();
    assert.match(source, /extensions: \[csv\]/);
    await editor.fill(source.replace('extensions: [csv]', 'extensions: csv-please'));
    await page.locator('#workflow-check.problems').getByText(/error/).first().waitFor();
    await page.getByRole('button', { name: 'Save and reload' }).click();
    await page.getByText(/Not saved: the workflow is invalid/).waitFor();
    assert.match(readFileSync(join(server.dir, 'workflows', 'sir.yaml'), 'utf8'), /extensions: \[csv\]/, 'an invalid source leaves the file untouched');
    await page.getByLabel('Source (YAML)').fill(source.replace('extensions: [csv]', 'extensions: [csv, txt]'));
    await page.getByRole('button', { name: 'Save and reload' }).click();
    await page.getByText('Workflow saved and reloaded.').waitFor();
    assert.match(readFileSync(join(server.dir, 'workflows', 'sir.yaml'), 'utf8'), /extensions: \[csv, txt\]/);

    // Replayed, then processed.
    await page.goto(`${server.httpUrl}/console/files?state=rejected`);
    await page.getByRole('link', { name: SIR_TXT }).click();
    const fileUrl = page.url();
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('File queued for processing again.').waitFor();
    await reloadUntil(page, fileUrl, /result\s*processed/);
    // The dashboard counts it: one sir file today, processed; acme logged in today; alice's login.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const stat = async (label: string) => (await page.locator('.card', { hasText: label }).locator('.stat').innerText()).trim();
    assert.equal(await stat('Files today'), '1');
    assert.equal(await stat('Accounts logged in today'), '1');
    assert.equal(await stat('Operator logins today'), '1 / 0');
    assert.match(await page.getByRole('row', { name: /^sir/ }).innerText(), /^sir\s+1$/, 'sir: one file, processed (the only state today)');
    // What it applied: the account's organizations, searched.
    await page.goto(`${server.httpUrl}/console/accounts/acme`);
    await page.getByRole('link', { name: 'organizations' }).click();
    await page.getByLabel('Search (any field)').fill('Acme France');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'ACME-FR', exact: true }).waitFor();
    assert.match(await page.getByText(/\d+ organizations matching/).innerText(), /^1 organizations matching/);

    // A second key, pasted in the account's page.
    const second = makeKey('ed25519');
    await page.goto(`${server.httpUrl}/console/accounts/acme`);
    await page.getByLabel(/Add a key/).fill(second.publicKey);
    await page.getByRole('button', { name: 'Add the key' }).click();
    await page.getByText('Key added.').waitFor();
    assert.ok(await page.getByText(second.fingerprint).isVisible());
    // A bad paste is refused on the page, with its code, and the text kept.
    await page.getByLabel(/Add a key/).fill('ssh-ed25519 not-a-key');
    await page.getByRole('button', { name: 'Add the key' }).click();
    await page.getByText(/FG_KEY_INVALID/).waitFor();
    assert.equal(await page.getByLabel(/Add a key/).inputValue(), 'ssh-ed25519 not-a-key');

    // Another account, made and removed (after a confirmation) from the console.
    await page.goto(`${server.httpUrl}/console/accounts`);
    await page.getByLabel('Id', { exact: true }).fill('short-lived');
    await page.getByRole('button', { name: 'Add the account' }).click();
    await page.getByText('Account created.').waitFor();
    await page.getByRole('button', { name: 'Remove the account' }).click();
    await page.getByText(/Account removed/).waitFor();
    assert.equal(await page.getByRole('link', { name: 'short-lived' }).count(), 0);
    await context.close();
  });

  test('a viewer, logged in with the keyboard, sees no change buttons and is refused a forged change', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${server.httpUrl}/console/`);
    await page.getByLabel('Operator name').focus();
    await page.keyboard.type('victor');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    await page.goto(`${server.httpUrl}/console/accounts/acme`);
    await page.getByRole('heading', { name: 'Account acme' }).waitFor();
    for (const name of ['Disable', 'Add the key', 'Remove', 'Remove the account', 'Save the allowlist', 'Replay']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, `no "${name}" button for a viewer`);
    }
    // The same form an admin's page has, posted from the viewer's page with its valid CSRF token.
    const status = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const res = await fetch('/console/accounts/acme/disable', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}` });
      return { status: res.status, text: await res.text() };
    });
    assert.equal(status.status, 403);
    assert.match(status.text, /FG_FORBIDDEN/);
    await page.reload();
    assert.match(await page.locator('dl.facts').innerText(), /enabled/, 'the account is still enabled');
    await context.close();
  });
});

