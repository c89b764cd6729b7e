import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import { writeFileAtomicSync } from '../atomic-write';

type PgpConfig = FluxgateConfig['pgp'];

/** The server's PGP identity, unlocked and ready to decrypt uploads and sign outputs. */
export interface ServerKey {
  privateKey: openpgp.PrivateKey;
  publicKey: openpgp.PublicKey;
  /** The public key as clients import it (`gpg --import`). */
  armoredPublicKey: string;
  /** Upper-case hex, as `gpg --fingerprint` shows it without spaces. */
  fingerprint: string;
  userIds: string[];
  algorithm: string;
  createdAt: Date;
  /** Where the private key came from. */
  source: 'generated' | 'configured';
  privateKeyFile: string;
}

export const PRIVATE_KEY_FILE = 'server-key.asc';
export const PUBLIC_KEY_FILE = 'server-key.pub.asc';
const DIR_MODE = 0o700;
const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * Loads the server key pair: the configured `pgp.privateKeyFile`, or the one generated under
 * `<data>/pgp/` on first use (mode 0700/0600). Generation is race-free between processes (the
 * server and a CLI command starting together keep the same key). Loaded once per process.
 */
export class ServerKeyStore {
  private loading?: Promise<ServerKey>;
  private readonly log: Logger;

  constructor(
    private readonly paths: DataPaths,
    private readonly loaded: LoadedConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'pgp' });
  }

  private get config(): PgpConfig { return this.loaded.config.pgp; }

  get directory(): string { return this.paths.pgpDir; }
  /** The copy of the public key kept next to the private one (read by the account-creation hook). */
  get publicKeyFile(): string { return join(this.paths.pgpDir, PUBLIC_KEY_FILE); }

  get privateKeyFile(): string {
    const configured = this.config.privateKeyFile;
    if (!configured) return join(this.paths.pgpDir, PRIVATE_KEY_FILE);
    return resolve(this.loaded.file ? dirname(this.loaded.file) : process.cwd(), configured);
  }

  /** True until the generated key exists: loading will first generate it (seconds for RSA). */
  get needsGeneration(): boolean {
    return !this.config.privateKeyFile && !existsSync(this.privateKeyFile);
  }

  /** Throws FG_PGP now for what would make generation fail later (a passphrase variable not set). */
  checkGenerationSettings(): void {
    this.passphrase();
  }

  load(): Promise<ServerKey> {
    this.loading ??= this.loadOrGenerate().catch((err: unknown) => {
      this.loading = undefined; // a fixed configuration can be retried
      throw err;
    });
    return this.loading;
  }

  private async loadOrGenerate(): Promise<ServerKey> {
    mkdirSync(this.paths.pgpDir, { recursive: true, mode: DIR_MODE });
    chmodSync(this.paths.pgpDir, DIR_MODE);
    const file = this.privateKeyFile;
    let source: ServerKey['source'] = 'configured';
    if (!this.config.privateKeyFile) {
      source = 'generated';
      if (!existsSync(file)) await this.generate(file);
    } else if (!existsSync(file)) {
      throw new FluxgateError('FG_PGP', `pgp.privateKeyFile ${file} does not exist: fix the path or remove the setting to use a generated key`, { file });
    } else if ((statSync(file).mode & 0o077) !== 0) {
      this.log.warn({ file, mode: (statSync(file).mode & 0o777).toString(8) }, 'the PGP private key file is readable by other users: chmod 600 it');
    }
    const key = await this.unlock(file, source);
    // Keep a public copy in the pgp dir whatever the source, for operators and account creation.
    writeFileAtomicSync(this.publicKeyFile, key.armoredPublicKey, { mode: PUBLIC_MODE });
    this.log.info({ fingerprint: key.fingerprint, algorithm: key.algorithm, source, file }, 'PGP server key loaded');
    return key;
  }

  private async generate(file: string): Promise<void> {
    const passphrase = this.passphrase();
    const started = Date.now();
    const { privateKey } = await openpgp.generateKey({
      ...keyTypeOptions(this.config.keyType),
      userIDs: [parseUserId(this.config.userId)],
      ...(passphrase === undefined ? {} : { passphrase }),
      format: 'armored',
    });
    // Two processes starting together agree on one key: the first to land wins.
    const created = writeFileAtomicSync(file, privateKey, { mode: PRIVATE_MODE, exclusive: true });
    this.log.info({ file, keyType: this.config.keyType, ms: Date.now() - started, created }, created
      ? 'generated the PGP server key'
      : 'another process generated the PGP server key first; using it');
  }

  private async unlock(file: string, source: ServerKey['source']): Promise<ServerKey> {
    let privateKey: openpgp.PrivateKey;
    try {
      privateKey = await openpgp.readPrivateKey({ armoredKey: readFileSync(file, 'utf8') });
    } catch (err) {
      throw new FluxgateError('FG_PGP', `cannot read the PGP private key ${file}: ${(err as Error).message} (expected an armored private key, as \`gpg --armor --export-secret-keys\` writes)`, { file }, { cause: err });
    }
    if (!privateKey.isDecrypted()) {
      const passphrase = this.passphrase();
      if (passphrase === undefined) {
        throw new FluxgateError('FG_PGP', `the PGP private key ${file} is passphrase-protected: set pgp.passphraseEnv to the name of an environment variable holding the passphrase`, { file });
      }
      try {
        privateKey = await openpgp.decryptKey({ privateKey, passphrase });
      } catch (err) {
        throw new FluxgateError('FG_PGP', `cannot unlock the PGP private key ${file} with the passphrase from $${this.config.passphraseEnv}: ${(err as Error).message}`, { file }, { cause: err });
      }
    }
    // Both uses must work now, not at the first upload: fail at start with a clear message.
    for (const [use, check] of [['encryption', () => privateKey.getEncryptionKey()], ['signing', () => privateKey.getSigningKey()]] as const) {
      try {
        await check();
      } catch (err) {
        throw new FluxgateError('FG_PGP', `the PGP key ${file} has no usable ${use} key (${(err as Error).message}): it may be expired or revoked`, { file }, { cause: err });
      }
    }
    const publicKey = privateKey.toPublic();
    const info = privateKey.getAlgorithmInfo();
    return {
      privateKey, publicKey, armoredPublicKey: publicKey.armor(),
      fingerprint: privateKey.getFingerprint().toUpperCase(),
      userIds: privateKey.getUserIDs(),
      algorithm: info.bits ? `${info.algorithm}${info.bits}` : `${info.algorithm}${info.curve ? ` ${info.curve}` : ''}`,
      createdAt: privateKey.getCreationTime(), source, privateKeyFile: file,
    };
  }

  private passphrase(): string | undefined {
    const name = this.config.passphraseEnv;
    if (!name) return undefined;
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw new FluxgateError('FG_PGP', `pgp.passphraseEnv names $${name}, which is not set`, { env: name });
    }
    return value;
  }
}

function keyTypeOptions(type: PgpConfig['keyType']): Pick<openpgp.KeyOptions, 'type' | 'curve' | 'rsaBits'> {
  switch (type) {
    case 'curve25519': return { type: 'ecc', curve: 'curve25519Legacy' }; // v4 Ed25519/Cv25519: what GnuPG 2.2 reads
    case 'rsa3072': return { type: 'rsa', rsaBits: 3072 };
    case 'rsa4096': return { type: 'rsa', rsaBits: 4096 };
  }
}

/** `Name <email>` → its parts; anything else is taken as a name. */
export function parseUserId(userId: string): openpgp.UserID {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(userId);
  if (!m) return { name: userId.trim() };
  return m[1] ? { name: m[1], email: m[2] } : { email: m[2] };
}
