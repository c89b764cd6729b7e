import { join } from 'node:path';

/** Where everything lives under the data directory. The only place that knows the layout. */
export class DataPaths {
  constructor(readonly root: string) {}

  get database(): string { return join(this.root, 'fluxgate.db'); }
  get hostKeysDir(): string { return join(this.root, 'hostkeys'); }
  get pgpDir(): string { return join(this.root, 'pgp'); }
  get demoDir(): string { return join(this.root, 'demo'); }
  get sftpRoot(): string { return join(this.root, 'sftp'); }
  /** Held by the running `serve` (core/store/data-dir-lock.ts). */
  get serveLock(): string { return join(this.root, 'serve.lock'); }

  /** The account's jail: `/` of its SFTP sessions. */
  accountRoot(accountId: string): string { return join(this.sftpRoot, accountId); }
  archive(accountId: string, flux: string): string { return join(this.root, 'archive', accountId, flux); }
  quarantine(accountId: string, flux: string): string { return join(this.root, 'quarantine', accountId, flux); }
  vault(accountId: string): string { return join(this.root, 'vault', accountId); }
  /** Scratch space of the engine (decrypted plaintext, work files): never client-visible. */
  work(accountId: string): string { return join(this.root, 'work', accountId); }
}
