import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { python } from './clients';
import { PYTHON } from './tools';

export interface ReceivedMail { from: string; to: string; subject: string; text: string; html: string }

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * A real SMTP server: Debian's python3-aiosmtpd with its Mailbox handler, writing each mail it
 * accepts to a maildir; mails are read back (decoded, text and HTML parts) with Python's email package.
 */
export class SmtpServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'fg-smtp-'));
  port = 0;
  private child?: ChildProcess;

  async start(): Promise<this> {
    this.port = await freePort();
    this.child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${this.port}`, '-c', 'aiosmtpd.handlers.Mailbox', join(this.dir, 'maildir')], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`aiosmtpd did not listen on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  count(): number {
    const dir = join(this.dir, 'maildir', 'new');
    return existsSync(dir) ? readdirSync(dir).length : 0;
  }

  async mails(): Promise<ReceivedMail[]> {
    const r = await python(`
import json, mailbox, sys
from email import policy
out = []
for key, msg in sorted(mailbox.Maildir(sys.argv[1], factory=None, create=False).items(), key=lambda kv: kv[1].get_date()):
    m = mailbox.email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    text = m.get_body(('plain',)); html = m.get_body(('html',))
    out.append({'from': str(m['from']), 'to': str(m['to']), 'subject': str(m['subject']),
                'text': text.get_content() if text else '', 'html': html.get_content() if html else ''})
print(json.dumps(out))
`, [join(this.dir, 'maildir')]);
    if (r.code !== 0) throw new Error(`reading the maildir failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ReceivedMail[];
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child!.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
