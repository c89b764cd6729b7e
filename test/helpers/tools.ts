import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Outside programs the tests drive, and the Debian package that provides each. */
const TOOLS = {
  sftp: { check: () => existsSync('/usr/bin/sftp'), pkg: 'openssh-client' },
  'ssh-keygen': { check: () => existsSync('/usr/bin/ssh-keygen'), pkg: 'openssh-client' },
  sshd: { check: () => existsSync('/usr/sbin/sshd'), pkg: 'openssh-server' },
  paramiko: {
    check: () => spawnSync(PYTHON, ['-c', 'import paramiko'], { stdio: 'ignore' }).status === 0,
    pkg: 'python3-paramiko',
  },
  python3: { check: () => existsSync(PYTHON), pkg: 'python3' },
  /** A real SMTP server for the e-mail tests (test/helpers/smtp.ts). */
  aiosmtpd: {
    check: () => spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0,
    pkg: 'python3-aiosmtpd',
  },
  gpg: { check: () => existsSync('/usr/bin/gpg'), pkg: 'gnupg' },
  // Small file systems for disk-full tests (test/helpers/tmpfs.ts): mount needs root.
  tmpfs: { check: () => process.getuid?.() === 0 && existsSync('/usr/bin/mount'), pkg: 'mount (and run the tests as root)' },
  /** util-linux's `script`: runs a command on a pseudo-terminal. */
  script: { check: () => existsSync('/usr/bin/script'), pkg: 'bsdutils' },
  prlimit: { check: () => existsSync('/usr/bin/prlimit'), pkg: 'util-linux' },
  /** A real load balancer in front of the server (PROXY protocol tests). */
  haproxy: { check: () => existsSync('/usr/sbin/haproxy'), pkg: 'haproxy' },
  /** PostgreSQL (test/helpers/postgres.ts): a given server, or Debian's binaries for a private cluster. */
  postgres: {
    check: () => !process.env.FLUXGATE_TEST_POSTGRES_UNAVAILABLE
      && (Boolean(process.env.FLUXGATE_TEST_POSTGRES_URL) || existsSync('/usr/lib/postgresql')),
    pkg: 'postgresql, or set FLUXGATE_TEST_POSTGRES_URL',
  },
  /** The console's browser tests (playwright-core drives it: `npx playwright install` cannot download here). */
  chromium: { check: () => existsSync(CHROMIUM), pkg: 'chromium' },
} as const;

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's python3 (with python3-paramiko), which need not be the first python3 on PATH. */
export const PYTHON = '/usr/bin/python3';

export type Tool = keyof typeof TOOLS;
const cache = new Map<Tool, boolean>();

export function hasTool(tool: Tool): boolean {
  if (!cache.has(tool)) cache.set(tool, TOOLS[tool].check());
  return cache.get(tool)!;
}

/**
 * For `test(name, { skip: skipUnless('sftp') }, fn)`: false when every tool is there, else a
 * message naming the package to install. Under CI=true nothing may be skipped: it throws.
 */
export function skipUnless(...tools: Tool[]): false | string {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return false;
  const msg = `needs ${missing.map((t) => `${t} (apt-get install ${TOOLS[t].pkg})`).join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and a required tool is missing: ${msg}`);
  return msg;
}
