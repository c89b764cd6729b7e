import { parentPort, workerData } from 'node:worker_threads';
import * as openpgp from 'openpgp';
import type { SignReply, SignRequest, SignThreadData } from './sign-thread';

/**
 * The signing worker (see sign-thread.ts): makes detached binary signatures of the bytes it is
 * sent, with the server key given at its start (decrypted: it never leaves the process).
 */
async function serve(data: SignThreadData): Promise<void> {
  const signingKeys = await openpgp.readPrivateKey({ armoredKey: data.armoredKey });
  parentPort!.on('message', (request: SignRequest) => {
    void (async () => {
      try {
        const message = await openpgp.createMessage({ binary: request.bytes });
        const signature = await openpgp.sign({ message, signingKeys, detached: true, format: 'binary' });
        parentPort!.postMessage({ id: request.id, signature } satisfies SignReply, [signature.buffer as ArrayBuffer]);
      } catch (err) {
        parentPort!.postMessage({ id: request.id, error: (err as Error).message } satisfies SignReply);
      }
    })();
  });
}

void serve(workerData as SignThreadData);
