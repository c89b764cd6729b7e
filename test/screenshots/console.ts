/**
 * `npm run docs:screenshots`: the console's main pages, captured in headless Chromium from a
 * throw-away server with a little data (accounts, a processed and a rejected upload, a job run),
 * into docs/console/*.png (1280 px wide, and the dashboard and a file's page at phone width).
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../helpers/browser';
import { sftpBatch } from '../helpers/clients';
import { makeKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';

const OUT = join(REPO_ROOT, 'docs', 'console');
const PASSWORD = 'screenshots-password';
const SIR = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // Its own copy of the workflows: the pages show their paths, and nothing may touch the repository's.
  const dir = new TestServer().dir;
  cpSync(join(REPO_ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
  const server = await new TestServer({ dir, config: { workflowsDir: join(dir, 'workflows') } }).start();
  const browser = await launchChromium();
  try {
    await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', 'alice', '--role', 'admin', '--password-stdin');
    const key = makeKey('ed25519');
    for (const [id, extra] of [['acme', ['--partner', 'acme']], ['globex', []], ['initech', ['--profile', 'dropbox']]] as const) {
      const added = await server.cli('account', 'add', id, '--key', key.publicPath, ...extra);
      if (added.code !== 0) throw new Error(added.stderr);
    }
    await server.cli('account', 'disable', 'globex');
    for (const name of [SIR, SIR.replace('090000.csv', '093000.txt')]) {
      const local = join(server.dir, name);
      cpSync(join(REPO_ROOT, 'test', 'fixtures', 'exchange', SIR), local);
      const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sir/`]);
      if (put.code !== 0) throw new Error(put.stderr);
    }
    await server.cli('jobs', 'run', 'retention', '--dry-run');
    await new Promise((r) => setTimeout(r, 2000));

    const shoot = async (width: number, height: number, shots: Array<[string, string]>) => {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      await page.goto(`${server.httpUrl}/console/login`);
      await page.screenshot({ path: join(OUT, width < 800 ? 'login-phone.png' : 'login.png') });
      await page.getByLabel('Operator name').fill('alice');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      for (const [file, path] of shots) {
        if (path.startsWith('file:')) {
          await page.goto(`${server.httpUrl}/console/files?state=rejected`);
          await page.locator('td a').first().click();
        } else await page.goto(`${server.httpUrl}${path}`);
        await page.screenshot({ path: join(OUT, file), fullPage: true });
        process.stdout.write(`docs/console/${file}\n`);
      }
      await context.close();
    };
    await shoot(1280, 800, [
      ['dashboard.png', '/console/'], ['files.png', '/console/files'], ['file.png', 'file:rejected'],
      ['accounts.png', '/console/accounts'], ['account.png', '/console/accounts/acme'], ['directory.png', '/console/accounts/acme/directory/organizations'],
      ['workflows.png', '/console/workflows'], ['workflow-edit.png', '/console/workflows/edit?name=sir'],
      ['jobs.png', '/console/jobs?job=retention'], ['audit.png', '/console/audit'],
    ]);
    await shoot(390, 844, [['dashboard-phone.png', '/console/'], ['file-phone.png', 'file:rejected']]);
  } finally {
    await browser.close();
    await server.cleanup();
    // The server was given its directory, so it leaves it: removed here.
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
