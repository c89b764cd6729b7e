import type { FluxgateConfig } from '../config/schema';
import type { Logger } from '../logging/logger';
import type { OutputSigner } from '../tokens';
import type { ServerKeyStore } from './server-key';
import { signFileDetached } from './sign';
import { SignThread } from './sign-thread';

/**
 * The engine's OutputSigner: after each report or proof of receipt lands in out/, writes its
 * detached signature `<name>.sig` (binary, as `gpg --detach-sign` does), with the same mode
 * as uploaded files so the client can download it. Made only when `pgp.signReports` is on.
 */
export class PgpOutputSigner implements OutputSigner {
  private readonly log: Logger;
  /** The signing thread of the key in use (the key is loaded once: one thread). */
  private thread?: { fingerprint: string; thread: SignThread };

  constructor(
    private readonly keys: ServerKeyStore,
    private readonly config: FluxgateConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'pgp' });
  }

  async sign(absolutePath: string): Promise<void> {
    const key = await this.keys.load();
    if (this.thread?.fingerprint !== key.fingerprint) {
      void this.thread?.thread.stop();
      this.thread = { fingerprint: key.fingerprint, thread: new SignThread(key.privateKey) };
    }
    const { thread } = this.thread;
    const signature = await signFileDetached(key.privateKey, absolutePath, this.config.sftp.fileMode, (bytes) => thread.sign(bytes));
    this.log.debug({ path: absolutePath, signature, fingerprint: key.fingerprint }, 'output signed');
  }
}
