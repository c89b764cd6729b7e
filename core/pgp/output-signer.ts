import { inject, injectable } from 'inversify';
import type { FluxgateConfig } from '../config/schema';
import type { Logger } from '../logging/logger';
import { Tokens, type OutputSigner } from '../tokens';
import type { ServerKeyStore } from './server-key';
import { signFileDetached } from './sign';

/**
 * The engine's OutputSigner: after each report or proof of receipt lands in out/, writes its
 * detached signature `<name>.sig` (binary, as `gpg --detach-sign` does), with the same mode
 * as uploaded files so the client can download it. Bound only when `pgp.signReports` is on.
 */
@injectable()
export class PgpOutputSigner implements OutputSigner {
  private readonly log: Logger;

  constructor(
    @inject(Tokens.PgpKeys) private readonly keys: ServerKeyStore,
    @inject(Tokens.Config) private readonly config: FluxgateConfig,
    @inject(Tokens.Logger) logger: Logger,
  ) {
    this.log = logger.child({ component: 'pgp' });
  }

  async sign(absolutePath: string): Promise<void> {
    const key = await this.keys.load();
    const signature = await signFileDetached(key.privateKey, absolutePath, this.config.sftp.fileMode);
    this.log.debug({ path: absolutePath, signature, fingerprint: key.fingerprint }, 'output signed');
  }
}
